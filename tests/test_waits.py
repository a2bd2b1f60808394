"""Waits that end: a chat ending with thanks closes by itself, "no reply needed" and its undo from Today, the
thread and the customer page, one count of "waiting on us" everywhere, older waits shown with their date."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from crm.extensions import db
from crm.models import AuditEvent, Conversation, Customer
from crm.today.waits import is_thanks, open_wait

T = datetime(2026, 6, 1, 3, 0, tzinfo=timezone.utc)


def now():
    return datetime.now(timezone.utc)


@pytest.mark.parametrize("body", [
    "makasih kak", "Makasiiih kakk 🙏", "terima kasih", "baik kak terima kasih", "ok kak", "oke", "okee siap",
    "siap", "sip", "sipp kak 👍", "🙏", "👍🏻", "Thank you!", "thanks a lot", "ok thanks", "thx", "noted kak",
    "mksh ya kak", "oke makasih banyak ya kak 🙏🙏", "Tq", "matur nuwun", "hehe makasih kak", "sama-sama kak",
    "oke2 kak", "sama2",
])
def test_thanks_and_acknowledgements(body):
    assert is_thanks(body)


@pytest.mark.parametrize("body", [
    "ok kak, ongkirnya berapa?", "makasih, jadi totalnya brp?", "oke ditunggu ya", "sudah transfer kak",
    "paket udah sampe, makasih kak", "kak?", "iya kak", "halo", "ok kak 😡", "mau order 2", "ok kak besok aku tf",
    "", "thank you " * 20, "wkwk iya kak", "siap kak, alamatnya Jl. Melati 3", "ok 2", "oke 185rb",
])
def test_what_still_needs_an_answer(body):
    assert not is_thanks(body)


def test_the_wait_is_the_unanswered_run_at_the_end():
    assert open_wait([(T, "customer", "harga?"), (T, "staff", "185rb")]) is None
    wait = open_wait([(T, "customer", "harga?"), (T + timedelta(minutes=1), "staff", "185rb"),
                      (T + timedelta(minutes=2), "customer", "ok kak"),
                      (T + timedelta(minutes=3), "customer", "makasih 🙏")])
    assert (wait.since, wait.last_at, wait.thanks) == (T + timedelta(minutes=2), T + timedelta(minutes=3), True)
    assert not open_wait([(T, "customer", "makasih"), (T, "customer", "eh kak, L ready?")]).thanks


def section(page: str, name: str) -> str:
    match = re.search(rf'<section class="queue-section queue-{name}".*?</section>', page, re.S)
    assert match, name
    return match.group(0)


def names_in(html: str) -> list[str]:
    return re.findall(r'<a class="name" href="/customers/\d+">([^<]+)</a>', html)


def conversation_of(customer) -> Conversation:
    return db.session.execute(db.select(Conversation).where(Conversation.customer_id == customer.id)).scalar_one()


def test_a_chat_ending_with_thanks_closes_by_itself_with_a_label_and_an_undo(staff_client, make_customer, chat):
    dewi = make_customer("Dewi")
    chat(dewi, [("customer", "ongkir ke Bandung?"), ("staff", "20rb kak"), ("customer", "makasih kak 🙏")],
         start=now() - timedelta(hours=3))
    rina = make_customer("Rina")
    chat(rina, [("customer", "gamis L ready?")], start=now() - timedelta(hours=2))
    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(section(page, "waiting")) == ["Rina"]
    assert "1 chat ended with thanks: no reply needed" in section(page, "waiting")
    assert "<strong>1</strong> waiting on us" in page

    thanks = staff_client.get("/queue/thanks").get_data(as_text=True)
    assert names_in(thanks) == ["Dewi"] and "No reply needed: the chat ended with thanks." in thanks
    assert "makasih kak 🙏" in thanks
    thread = staff_client.get(f"/conversations/{conversation_of(dewi).id}").get_data(as_text=True)
    assert "No reply needed: the chat ended with thanks." in thread and "Reply needed after all" in thread

    response = staff_client.post(f"/queue/conversations/{conversation_of(dewi).id}/reply-needed",
                                 data={"next": "/queue/thanks"})
    assert response.status_code == 302 and response.headers["Location"] == "/queue/thanks"
    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(section(page, "waiting")) == ["Dewi", "Rina"], "Dewi's wait started first"
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "reply_needed")).scalar_one()
    assert (event.target_id, event.summary, event.details["was"]) == (conversation_of(dewi).id, "Dewi", "thanks")

    chat(dewi, [("staff", "sama-sama kak")], start=now() - timedelta(minutes=1))
    assert conversation_of(dewi).no_reply is None and conversation_of(dewi).waiting_since is None


def test_no_reply_needed_by_hand_and_undo_from_today_the_thread_and_the_customer_page(
        staff_client, make_customer, chat, staff):
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", "kak katalognya udah aku liat")], start=now() - timedelta(hours=5))
    customer_page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert customer_page.count("Waiting on us for 5 hours") == 1 and "No reply needed" in customer_page
    today = section(staff_client.get("/").get_data(as_text=True), "waiting")
    assert f'/queue/conversations/{conversation.id}/no-reply' in today

    response = staff_client.post(f"/queue/conversations/{conversation.id}/no-reply",
                                 data={"next": f"/customers/{rina.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/customers/{rina.id}"
    assert names_in(section(staff_client.get("/").get_data(as_text=True), "waiting")) == []
    assert "Waiting on us" not in staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    thread = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "No reply needed (said by hand)." in thread and ">Undo<" in thread
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "no_reply_needed")).scalar_one()
    assert (event.user_id, event.target_type, event.details["last_message"]) == (
        staff.id, "conversation", "kak katalognya udah aku liat")

    staff_client.post(f"/queue/conversations/{conversation.id}/reply-needed", data={"next": "/"})
    assert names_in(section(staff_client.get("/").get_data(as_text=True), "waiting")) == ["Rina"]

    staff_client.post(f"/queue/conversations/{conversation.id}/no-reply", data={"next": "/"})
    chat(rina, [("customer", "eh kak, yang hitam ready?")], start=now() - timedelta(minutes=2))
    assert names_in(section(staff_client.get("/").get_data(as_text=True), "waiting")) == ["Rina"], \
        "a new message from the customer opens the wait again"


def test_marking_an_answered_chat_changes_nothing(staff_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "harga?"), ("staff", "185rb")])
    staff_client.post(f"/queue/conversations/{conversation.id}/no-reply", data={"next": "/"})
    staff_client.post(f"/queue/conversations/{conversation.id}/reply-needed", data={"next": "/"})
    assert db.session.execute(db.select(db.func.count(AuditEvent.id)).where(
        AuditEvent.action.in_(("no_reply_needed", "reply_needed")))).scalar() == 0
    assert staff_client.post(f"/queue/conversations/{conversation.id}/no-reply", data={}, csrf=False
                             ).status_code == 400


def test_one_count_of_waiting_under_every_filter(staff_client, make_customer, chat, staff, owner):
    mine, theirs = make_customer("Mine"), make_customer("Theirs")
    mine.assigned_to_id, theirs.assigned_to_id = staff.id, owner.id
    db.session.commit()
    chat(mine, [("customer", "ongkir ke Medan?")], channel="instagram", start=now() - timedelta(hours=1))
    chat(theirs, [("customer", "harga brp?")], start=now() - timedelta(hours=2))
    chat(theirs, [("customer", "halo kak")], channel="tiktok", start=now() - timedelta(days=40))
    for query, waiting, older in (("", 2, 1), ("staff=me", 1, 0), (f"staff={owner.id}", 1, 1),
                                  ("channel=whatsapp", 1, 0), ("channel=tiktok", 0, 1), ("tag=shipping", 1, 0)):
        page = staff_client.get(f"/?{query}").get_data(as_text=True)
        rows = names_in(section(page, "waiting"))
        assert f"<strong>{waiting}</strong> waiting on us" in page and len(rows) == waiting, query
        assert re.search(rf'<h2 id="waiting-title">Waiting on us <span class="count">{waiting}</span>', page), query
        assert (f"+ {older} older" in page) == bool(older), query


def test_a_wait_older_than_the_window_is_shown_with_its_date(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    chat(rina, [("customer", "kak, yang kemarin jadi?")], start=datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc))
    chat(rina, [("customer", "halo")], channel="instagram", start=datetime(2026, 1, 5, 3, 0, tzinfo=timezone.utc))
    page = staff_client.get("/").get_data(as_text=True)
    waiting = section(page, "waiting")
    assert names_in(waiting) == [] and "2 more started before these days, the oldest waiting since Jan 5, 2026" \
        in waiting
    older = staff_client.get("/queue/older").get_data(as_text=True)
    assert names_in(older) == ["Rina", "Rina"]
    assert "Waiting on us since Jan 5, 2026 (5 months)" in older and "Waiting on us since Mar 2, 2026" in older
    customer_page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert customer_page.count("Waiting on us since") == 1, "one line: the oldest open wait"
    assert "Waiting on us since Jan 5, 2026" in customer_page
    assert db.session.get(Customer, rina.id).waiting_since == datetime(2026, 1, 5, 3, 0, tzinfo=timezone.utc)


def test_a_trashed_customer_waits_no_more(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    chat(rina, [("customer", "halo kak")], start=now() - timedelta(hours=1))
    staff_client.post(f"/customers/{rina.id}/delete")
    page = staff_client.get("/").get_data(as_text=True)
    assert "<strong>0</strong> waiting on us" in page and conversation_of(rina).waiting_since is None
