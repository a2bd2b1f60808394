"""The suite's clock: every test, and every thread it starts, reads the moment the test set, never the real one."""
import threading
from datetime import datetime, timedelta, timezone

from crm.models import Customer, utcnow


def test_the_test_starts_at_the_set_moment(test_now):
    assert abs(datetime.now(timezone.utc) - test_now) < timedelta(seconds=30)


def test_a_server_thread_reads_the_same_clock(test_now):
    seen = []
    thread = threading.Thread(target=lambda: seen.append(utcnow()))
    thread.start()
    thread.join()
    assert abs(seen[0] - test_now) < timedelta(seconds=30)


def test_shifting_the_clock_moves_what_the_app_writes(app, make_customer, clock, test_now):
    clock.shift(timedelta(days=3))
    rina = make_customer("Rina", whatsapp="081234567890")
    assert isinstance(rina, Customer)
    assert abs(rina.created_at - (test_now + timedelta(days=3))) < timedelta(seconds=30)
