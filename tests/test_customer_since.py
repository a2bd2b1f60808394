""""Customer since" is their first message, or when they were first added if that was earlier: a day, no seconds."""
import re
from datetime import datetime, timedelta, timezone

from crm.formatting import shop_zone


def _since(page: str) -> str:
    return re.search(r"<dt>Customer since</dt><dd><time[^>]*>([^<]*)</time>", page)[1]


def test_an_imported_history_from_march_makes_a_customer_since_march(staff_client, make_customer, chat):
    rina = make_customer("Rina")  # added today, by the import
    chat(rina, [("customer", "Kak, batik tulis ready?"), ("staff", "Ready kak")],
         start=datetime(2026, 3, 3, 9, 15, tzinfo=shop_zone()))
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert _since(page) == "Mar 3, 2026"


def test_before_any_chat_it_is_the_day_they_were_added(staff_client, make_customer, chat, test_now):
    sari = make_customer("Sari")
    page = staff_client.get(f"/customers/{sari.id}").get_data(as_text=True)
    today = datetime.now(timezone.utc).astimezone(shop_zone())
    assert _since(page) == f"{today:%b} {today.day}, {today.year}"
    assert not re.search(r"\d:\d\d:\d\d", _since(page)), "no seconds"
    chat(sari, [("customer", "halo")], start=datetime.now(timezone.utc) + timedelta(minutes=1))
    assert _since(staff_client.get(f"/customers/{sari.id}").get_data(as_text=True)) == _since(page), \
        "a later chat does not move it"
