from datetime import datetime, timedelta, timezone

from crm.conversations.services import NewMessage, log_chat
from crm.extensions import db
from crm.models import Conversation, Customer, Message


def _rows(*messages, start=0):
    form = {}
    for i, message in enumerate(messages, start):
        side, body, *when = message
        form[f"messages-{i}-side"] = side
        form[f"messages-{i}-body"] = body
        form[f"messages-{i}-sent_at"] = when[0] if when else ""
    return form


def _messages():
    return db.session.execute(db.select(Message).order_by(Message.sent_at, Message.id)).scalars().all()


def test_log_a_chat_for_a_new_customer_with_a_number(owner_client, owner):
    form = {"new_customer_name": "Rina", "new_customer_handle": "0812-3456-7890", "channel": "whatsapp",
            **_rows(("customer", "Kak, gamis L ready?"), ("staff", "Ready kak"), ("customer", "Harganya brp?"))}
    response = owner_client.post("/conversations/log", data=form)
    assert response.status_code == 302
    conversation = db.session.execute(db.select(Conversation)).scalar_one()
    assert conversation.customer.display_name == "Rina"
    assert conversation.customer.identities[0].handle == "+6281234567890"
    assert conversation.logged_by_id == owner.id and conversation.channel == "whatsapp"
    assert [(m.side, m.body) for m in _messages()] == [
        ("customer", "Kak, gamis L ready?"), ("staff", "Ready kak"), ("customer", "Harganya brp?")]
    assert conversation.last_side == "customer"
    assert _messages()[1].author_name == owner.name
    thread = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Harganya brp?" in thread


def test_a_typed_number_of_a_known_customer_logs_to_them(owner_client, make_customer):
    rina = make_customer("Rina", whatsapp="+62 812 3456 7890")
    form = {"new_customer_name": "", "new_customer_handle": "6281234567890", "channel": "whatsapp",
            **_rows(("customer", "halo"))}
    assert owner_client.post("/conversations/log", data=form).status_code == 302
    assert db.session.execute(db.select(db.func.count(Customer.id))).scalar() == 1
    assert db.session.execute(db.select(Conversation.customer_id)).scalar_one() == rina.id


def test_times_are_entered_and_shown_in_the_shop_zone_and_stored_in_utc(owner_client, make_customer):
    rina = make_customer("Rina")
    form = {"customer_id": rina.id, "channel": "instagram",
            **_rows(("customer", "pagi kak", "2025-11-23T09:15"), ("staff", "pagi", "2025-11-23T09:20"))}
    response = owner_client.post("/conversations/log", data=form)
    first = _messages()[0]
    assert first.sent_at == datetime(2025, 11, 23, 2, 15, tzinfo=timezone.utc)
    assert "9:15" in owner_client.get(response.headers["Location"]).get_data(as_text=True)


def test_messages_without_a_time_are_logged_now_in_the_order_written(owner_client, make_customer):
    rina = make_customer("Rina")
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    rows = _rows(("customer", "satu"), ("staff", "dua"), ("customer", "tiga"))
    owner_client.post("/conversations/log", data={"customer_id": rina.id, "channel": "whatsapp", **rows})
    messages = _messages()
    assert [m.body for m in messages] == ["satu", "dua", "tiga"]
    assert all(m.sent_at >= before for m in messages)


def test_invalid_log_keeps_what_was_typed(owner_client):
    form = {"new_customer_name": "", "new_customer_handle": "", "channel": "whatsapp",
            **_rows(("customer", "Ada <b>warna</b> lain?"), ("staff", "Ada kak 😊"))}
    response = owner_client.post("/conversations/log", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a customer" in page
    assert "Ada &lt;b&gt;warna&lt;/b&gt; lain?" in page and "Ada kak 😊" in page
    assert db.session.execute(db.select(Message)).first() is None


def test_an_empty_log_is_refused(owner_client, make_customer):
    rina = make_customer("Rina")
    response = owner_client.post("/conversations/log", data={"customer_id": rina.id, "channel": "whatsapp", **_rows()})
    assert response.status_code == 400 and "at least one message" in response.get_data(as_text=True)


def test_add_row_without_javascript_keeps_the_rows(owner_client):
    form = {"new_customer_name": "Rina", "channel": "whatsapp", "add_row": "1",
            **_rows(("customer", "satu"), ("staff", "dua"), ("customer", "tiga"))}
    page = owner_client.post("/conversations/log", data=form).get_data(as_text=True)
    assert "messages-3-body" in page and "tiga</textarea>" in page
    assert db.session.execute(db.select(Message)).first() is None


def test_log_the_reply_on_a_thread(owner_client, make_customer, chat, staff):
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", "Resinya sudah ada?")])
    response = owner_client.post(f"/conversations/{conversation.id}/messages",
                                 data=_rows(("staff", "Sudah kak: JNE123")))
    assert response.status_code == 302
    conversation = db.session.get(Conversation, conversation.id)
    assert [m.body for m in conversation.messages] == ["Resinya sudah ada?", "Sudah kak: JNE123"]
    assert conversation.last_side == "staff"


def test_logging_the_same_messages_twice_adds_nothing(make_customer):
    rina = make_customer("Rina")
    start = datetime(2026, 5, 9, 3, 0, tzinfo=timezone.utc)
    messages = [NewMessage(start, "customer", "ok"), NewMessage(start, "customer", "ok"),
                NewMessage(start + timedelta(minutes=2), "staff", "siap")]
    first = log_chat(rina, "whatsapp", messages, logged_by_id=None)
    db.session.commit()
    assert len(first.added) == 3, "two identical messages in one minute are two messages"
    again = log_chat(rina, "whatsapp", messages + [NewMessage(start + timedelta(minutes=3), "customer", "makasih")],
                     logged_by_id=None)
    db.session.commit()
    assert len(again.added) == 1 and again.duplicates == 3
    assert again.conversation.id == first.conversation.id


def test_a_chat_days_later_starts_a_new_conversation(make_customer, chat):
    rina = make_customer("Rina")
    first = chat(rina, [("customer", "halo")], start=datetime(2026, 5, 1, tzinfo=timezone.utc))
    same = chat(rina, [("customer", "lagi")], start=datetime(2026, 5, 1, 5, tzinfo=timezone.utc))
    later = chat(rina, [("customer", "kak?")], start=datetime(2026, 5, 9, tzinfo=timezone.utc))
    other_channel = chat(rina, [("customer", "dm")], channel="instagram",
                         start=datetime(2026, 5, 9, tzinfo=timezone.utc))
    assert first.id == same.id
    assert len({first.id, later.id, other_channel.id}) == 3


def test_lookup_finds_customers_for_the_picker(owner_client, make_customer):
    make_customer("Rina", whatsapp="081234567890")
    page = owner_client.get("/customers/lookup", query_string={"q": "0812 3456"}).get_data(as_text=True)
    assert "Rina" in page and "data-pick-customer" in page


def test_log_page_from_the_customer_page_has_the_customer_chosen(owner_client, make_customer):
    rina = make_customer("Rina")
    page = owner_client.get(f"/conversations/log?customer_id={rina.id}").get_data(as_text=True)
    assert f'value="{rina.id}"' in page and "<strong data-picked-name>Rina</strong>" in page


def test_a_typed_line_break_is_stored_as_a_pasted_one_would_be(owner_client, make_customer):
    rina = make_customer("Rina", whatsapp="0812-3456-7890")
    owner_client.post("/conversations/log", data={"customer_id": rina.id, "channel": "whatsapp",
                                                  **_rows(("customer", "Nama: Rina\r\nAlamat: Jl. Melati 12"))})
    assert [m.body for m in _messages()] == ["Nama: Rina\nAlamat: Jl. Melati 12"]
