"""The trash: anyone deletes, only the owner sees, restores and empties; after 30 days items go for good."""
from datetime import datetime, timedelta, timezone

import pytest

from crm.admin.trash import TRASH_DAYS, ParentInTrash, empty_trash, move_to_trash, purge_expired, restore
from crm.conversations.services import NewMessage, log_chat
from crm.customers.services import find_customers, merge_customers
from crm.extensions import db
from crm.models import AuditEvent, ChannelIdentity, Conversation, Customer, FollowUp, Message

START = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def rina(make_customer, chat):
    """Rina with one WhatsApp conversation of three messages."""
    customer = make_customer("Rina", whatsapp="0812-3456-7890")
    chat(customer, [("customer", "Gamis L ready kak?"), ("staff", "Ready kak"), ("customer", "Kirim ke Solo ya")],
         start=START)
    return customer


def _conversation(customer) -> Conversation:
    return db.session.execute(db.select(Conversation).where(Conversation.customer_id == customer.id)).scalar_one()


def _messages(conversation) -> list[Message]:
    return db.session.execute(
        db.select(Message).where(Message.conversation_id == conversation.id).order_by(Message.sent_at)
    ).scalars().all()


def _age(item, days: int) -> None:
    item.deleted_at = datetime.now(timezone.utc) - timedelta(days=days)
    db.session.commit()


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


# --- deleting ------------------------------------------------------------------------------------------


def test_staff_delete_a_customer_and_it_is_gone_everywhere_but_the_owners_trash(
        staff_client, owner_client, rina, staff):
    conversation = _conversation(rina)
    response = staff_client.post(f"/customers/{rina.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/customers/"
    assert "is in the trash" in staff_client.get("/customers/").get_data(as_text=True)

    assert staff_client.get(f"/customers/{rina.id}").status_code == 404
    assert staff_client.get(f"/conversations/{conversation.id}").status_code == 404
    assert "Rina" not in staff_client.get("/customers/").get_data(as_text=True)
    assert "Rina" not in staff_client.get("/customers/?q=rina").get_data(as_text=True)
    assert "Rina" not in staff_client.get("/customers/lookup?q=3456").get_data(as_text=True)
    assert find_customers("Rina") == []
    # A reply typed before the delete is refused, and comes back on Log chat to be logged for someone else.
    reply = staff_client.post(f"/conversations/{conversation.id}/messages",
                              data={"messages-0-side": "staff", "messages-0-body": "Halo"})
    assert reply.status_code == 409 and "Rina was moved to the trash meanwhile" in reply.get_data(as_text=True)
    assert len(db.session.get(Conversation, conversation.id).messages) == len(conversation.messages)

    trash = owner_client.get("/trash")
    page = trash.get_data(as_text=True)
    assert trash.status_code == 200
    assert f'id="trash-customer-{rina.id}"' in page and "Budi Staff" in page and "+62 812-3456-7890" in page


def test_deleting_asks_first_and_only_by_post(owner_client, rina):
    conversation = _conversation(rina)
    customer_page = owner_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert f'action="/customers/{rina.id}/delete" class="inline" data-confirm=' in customer_page
    thread = owner_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert f'action="/conversations/{conversation.id}/delete" class="inline" data-confirm=' in thread
    for message in _messages(conversation):
        assert (f'action="/conversations/{conversation.id}/messages/{message.id}/delete" class="inline" '
                'data-confirm=') in thread
    assert owner_client.get(f"/customers/{rina.id}/delete").status_code == 405
    assert owner_client.post(f"/customers/{rina.id}/delete", csrf=False).status_code == 400
    assert db.session.get(Customer, rina.id).deleted_at is None


def test_staff_delete_a_conversation(staff_client, make_customer, chat, rina):
    conversation = _conversation(rina)
    other = chat(rina, [("customer", "Ada warna navy?")], channel="instagram", start=START + timedelta(days=3))
    assert staff_client.post(f"/conversations/{conversation.id}/delete").headers["Location"] == f"/customers/{rina.id}"
    assert staff_client.get(f"/conversations/{conversation.id}").status_code == 404
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert "Gamis L ready" not in page and "Ada warna navy?" in page
    assert db.session.get(Conversation, other.id).deleted_at is None


def test_deleting_a_message_hides_it_and_moves_the_conversation_times(staff_client, rina):
    conversation = _conversation(rina)
    first, _reply, last = _messages(conversation)
    assert conversation.last_side == "customer"

    url = f"/conversations/{conversation.id}/messages/{last.id}/delete"
    assert staff_client.post(url).headers["Location"] == f"/conversations/{conversation.id}"
    conversation = db.session.get(Conversation, conversation.id)
    assert conversation.last_side == "staff"
    assert conversation.last_message_at == START + timedelta(minutes=1)
    assert "Kirim ke Solo" not in staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Kirim ke Solo" not in staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert staff_client.post(url).status_code == 404  # once is enough

    staff_client.post(f"/conversations/{conversation.id}/messages/{first.id}/delete")
    assert db.session.get(Conversation, conversation.id).first_message_at == START + timedelta(minutes=1)


def test_a_message_is_deleted_only_through_its_own_conversation(staff_client, rina, make_customer, chat):
    message = _messages(_conversation(rina))[0]
    other = chat(make_customer("Sari"), [("customer", "Halo")])
    assert staff_client.post(f"/conversations/{other.id}/messages/{message.id}/delete").status_code == 404
    assert db.session.get(Message, message.id).deleted_at is None


# --- who may see, restore and empty --------------------------------------------------------------------


def test_staff_cannot_see_restore_or_empty_the_trash(staff_client, rina):
    move_to_trash(rina)
    db.session.commit()
    assert staff_client.get("/trash").status_code == 403
    assert staff_client.post(f"/trash/customer/{rina.id}/restore").status_code == 403
    assert staff_client.post("/trash/empty").status_code == 403
    assert db.session.get(Customer, rina.id).deleted_at is not None
    assert "/trash" not in staff_client.get("/customers/").get_data(as_text=True)


def test_the_owner_has_the_trash_in_the_menu(owner_client):
    page = owner_client.get("/customers/").get_data(as_text=True)
    assert 'href="/trash"' in page and 'href="/audit"' in page


def test_owner_restores_a_customer_with_their_conversations(staff_client, owner_client, rina, chat):
    conversation = _conversation(rina)
    staff_client.post(f"/customers/{rina.id}/delete")

    response = owner_client.post(f"/trash/customer/{rina.id}/restore")
    assert response.status_code == 302
    assert "Rina is back" in owner_client.get("/trash").get_data(as_text=True)
    assert staff_client.get(f"/customers/{rina.id}").status_code == 200
    assert "Kirim ke Solo" in staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Rina" in staff_client.get("/customers/").get_data(as_text=True)
    assert owner_client.post(f"/trash/customer/{rina.id}/restore").status_code == 404  # not in the trash now


def test_a_conversation_deleted_on_its_own_stays_in_the_trash_when_its_customer_comes_back(owner_client, rina):
    conversation = _conversation(rina)
    owner_client.post(f"/conversations/{conversation.id}/delete")
    owner_client.post(f"/customers/{rina.id}/delete")
    page = owner_client.get("/trash").get_data(as_text=True)
    assert "Rina is in the trash too: restore the customer first." in page

    owner_client.post(f"/trash/conversation/{conversation.id}/restore")
    assert db.session.get(Conversation, conversation.id).deleted_at is not None
    owner_client.post(f"/trash/customer/{rina.id}/restore")
    assert owner_client.get(f"/conversations/{conversation.id}").status_code == 404
    owner_client.post(f"/trash/conversation/{conversation.id}/restore")
    assert owner_client.get(f"/conversations/{conversation.id}").status_code == 200


def test_restoring_a_message_puts_the_times_back(owner_client, rina):
    conversation = _conversation(rina)
    last = _messages(conversation)[-1]
    owner_client.post(f"/conversations/{conversation.id}/messages/{last.id}/delete")
    owner_client.post(f"/trash/message/{last.id}/restore")
    conversation = db.session.get(Conversation, conversation.id)
    assert conversation.last_side == "customer" and conversation.last_message_at == START + timedelta(minutes=2)
    assert "Kirim ke Solo" in owner_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)


def test_a_message_does_not_come_back_into_a_conversation_in_the_trash(rina):
    conversation = _conversation(rina)
    message = _messages(conversation)[0]
    move_to_trash(message)
    move_to_trash(conversation)
    with pytest.raises(ParentInTrash) as raised:
        restore(message)
    assert raised.value.parent is conversation
    assert message.deleted_at is not None


def test_unknown_kinds_and_live_items_cannot_be_restored(owner_client, rina):
    assert owner_client.post(f"/trash/user/{rina.id}/restore").status_code == 404
    assert owner_client.post(f"/trash/customer/{rina.id}/restore").status_code == 404


def test_only_the_owner_empties_the_trash_after_confirming_and_it_is_for_good(staff_client, owner_client, rina, chat):
    keep = chat(rina, [("customer", "Yang navy ada?")], channel="instagram", start=START + timedelta(days=5))
    conversation_id = _conversation_on(rina, "whatsapp").id
    db.session.add(FollowUp(customer_id=rina.id, due_at=START + timedelta(days=1)))
    db.session.commit()
    staff_client.post(f"/conversations/{keep.id}/messages/{keep.messages[0].id}/delete")
    staff_client.post(f"/customers/{rina.id}/delete")

    page = owner_client.get("/trash").get_data(as_text=True)
    assert 'action="/trash/empty" class="inline" data-confirm="Delete all 2 items in the trash for good?' in page
    assert staff_client.post("/trash/empty").status_code == 403
    assert _count(Customer) == 1

    assert owner_client.post("/trash/empty").status_code == 302
    assert _count(Customer) == _count(Conversation) == _count(Message) == 0
    assert _count(ChannelIdentity) == _count(FollowUp) == 0
    assert db.session.get(Conversation, conversation_id) is None
    assert "Nothing here." in owner_client.get("/trash").get_data(as_text=True)


def _conversation_on(customer, channel) -> Conversation:
    return db.session.execute(
        db.select(Conversation).where(Conversation.customer_id == customer.id, Conversation.channel == channel)
    ).scalar_one()


# --- 30 days -------------------------------------------------------------------------------------------


def test_items_older_than_30_days_are_purged_by_the_command(runner, rina, make_customer, chat):
    old_message, *_ = _messages(_conversation(rina))
    sari = make_customer("Sari")
    young = chat(make_customer("Dewi"), [("customer", "Halo kak")])
    for item in (old_message, sari, young):
        move_to_trash(item)
    db.session.commit()
    _age(old_message, TRASH_DAYS + 1)
    _age(sari, TRASH_DAYS + 1)
    _age(young, TRASH_DAYS - 1)
    old_message_id, sari_id = old_message.id, sari.id

    result = runner.invoke(args=["purge-trash"])
    assert result.exit_code == 0, result.output
    assert "1 customers, 0 conversations, 1 messages" in result.output
    db.session.expire_all()
    assert db.session.get(Message, old_message_id) is None
    assert db.session.get(Customer, sari_id) is None
    assert db.session.get(Conversation, young.id).deleted_at is not None  # 29 days: still restorable
    assert db.session.get(Customer, rina.id).deleted_at is None  # live rows are never touched
    assert len(_messages(_conversation(rina))) == 2

    again = runner.invoke(args=["purge-trash"])
    assert "0 customers, 0 conversations, 0 messages" in again.output


def test_opening_the_trash_purges_what_is_older_than_30_days(owner_client, rina):
    move_to_trash(rina)
    db.session.commit()
    _age(rina, TRASH_DAYS + 2)
    rina_id = rina.id
    page = owner_client.get("/trash").get_data(as_text=True)
    assert f"trash-customer-{rina_id}" not in page
    assert db.session.get(Customer, rina_id) is None
    assert _count(Message) == 0
    purge = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "purge")).scalar_one()
    assert purge.user_id is None and purge.details == {"customer": 1, "conversation": 0, "message": 0, "quickreply": 0}


def test_nothing_expired_means_no_purge_and_no_event(rina):
    move_to_trash(rina)
    db.session.commit()
    assert purge_expired() == {"customer": 0, "conversation": 0, "message": 0, "quickreply": 0}
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "purge")).first() is None


def test_a_purged_message_can_be_logged_again(rina):
    conversation = _conversation(rina)
    last = _messages(conversation)[-1]
    again = [NewMessage(last.sent_at, last.side, last.body)]

    move_to_trash(last)
    db.session.commit()
    assert log_chat(rina, "whatsapp", again, logged_by_id=None).added == []  # in the trash: restore it instead

    empty_trash()
    db.session.commit()
    result = log_chat(rina, "whatsapp", again, logged_by_id=None)
    db.session.commit()
    assert [m.body for m in result.added] == ["Kirim ke Solo ya"]


def test_a_customer_merged_into_a_purged_one_does_not_come_back(make_customer, chat):
    rina = make_customer("Rina")
    duplicate = make_customer("Rina M", instagram="@rina.m")
    merge_customers(rina, duplicate)
    move_to_trash(rina)
    db.session.commit()
    duplicate_id = duplicate.id
    empty_trash()
    db.session.commit()
    assert db.session.get(Customer, duplicate_id) is None
    assert find_customers("Rina") == []


def test_purged_messages_leave_the_search_index(rina):
    def indexed(word):
        if db.engine.dialect.name == "postgresql":
            statement = "SELECT count(*) FROM messages_search WHERE document @@ CAST(lower(:word) AS tsquery)"
        else:
            statement = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH :word"
        return db.session.execute(db.text(statement), {"word": word}).scalar_one()

    assert indexed("Solo") == 1
    move_to_trash(_messages(_conversation(rina))[-1])
    db.session.commit()
    assert indexed("Solo") == 0
    assert indexed("Gamis") == 1
    move_to_trash(rina)
    db.session.commit()
    empty_trash()
    db.session.commit()
    assert indexed("Gamis") == 0


def test_a_handle_of_a_customer_in_the_trash_is_not_silently_reused(owner_client, rina):
    move_to_trash(rina)
    db.session.commit()
    response = owner_client.post("/conversations/log", data={
        "new_customer_name": "Rina baru", "new_customer_handle": "0812-3456-7890", "channel": "whatsapp",
        "messages-0-side": "customer", "messages-0-body": "Halo", "messages-0-sent_at": ""})
    assert response.status_code == 400
    assert "who is in the trash" in response.get_data(as_text=True)
    assert _count(Customer) == 1
