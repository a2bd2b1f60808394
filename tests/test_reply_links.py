"""Replies sent through click-to-chat links: logged as our message in the right conversation (so the customer
no longer waits and the reply counts like any other), marked in the thread, taken back within a few minutes."""
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from crm.extensions import db
from crm.models import AuditEvent, Conversation, Message, QuickReply, QuickReplyUse, ReplyLink
from crm.replies.services import UNDO_MINUTES, current_conversation
from crm.shop_settings import save_settings
from crm.today.queue import is_waiting_on_us


@pytest.fixture
def waiting(make_customer, chat):
    """Rina asked an hour ago on WhatsApp and waits for our answer."""
    customer = make_customer("Rina Kusuma", whatsapp="0812 3456 7890", instagram="rina.shop")
    conversation = chat(customer, [("customer", "Kak mau transfer, rekeningnya apa?")],
                        start=datetime.now(timezone.utc) - timedelta(hours=1))
    return customer, conversation


def _identity(customer, channel="whatsapp"):
    return next(i for i in customer.identities if i.channel == channel)


def _send(client, customer, conversation=None, text="", channel="whatsapp", json=True, **extra):
    data = {"customer_id": customer.id, "identity_id": _identity(customer, channel).id, "text": text,
            "next": "/", **extra}
    if conversation is not None:
        data["conversation_id"] = conversation.id
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/replies/send", data=data, headers=headers)


def _is_waiting(conversation) -> bool:
    return db.session.execute(
        db.select(Conversation.id).where(Conversation.id == conversation.id, is_waiting_on_us())).first() is not None


def _staff_messages(conversation):
    return db.session.execute(db.select(Message).where(Message.conversation_id == conversation.id,
                                                       Message.side == "staff")).scalars().all()


def test_a_reply_sent_through_whatsapp_is_logged_and_ends_the_wait(staff_client, staff, waiting):
    customer, conversation = waiting
    assert _is_waiting(conversation)
    text = "Transfer ke BCA 123 ya kak 🙏\nTotal Rp 150.000 & ongkir"
    response = _send(staff_client, customer, conversation, text)
    answer = response.get_json()
    assert response.status_code == 200 and answer["ok"]
    url = urlsplit(answer["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/6281234567890")
    assert parse_qs(url.query)["text"] == [text]
    assert answer["next"] == "/"
    [message] = _staff_messages(conversation)
    assert message.body == text and message.author_name == "Budi Staff"
    assert not _is_waiting(conversation)
    link = db.session.execute(db.select(ReplyLink)).scalar_one()
    assert (link.message_id, link.conversation_id, link.user_id, link.channel) == (
        message.id, conversation.id, staff.id, "whatsapp")
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "sent_via_link")).scalar_one()
    assert event.summary == "Rina Kusuma" and event.details["text"] == text


def test_the_thread_marks_it_sent_via_link_with_an_undo(staff_client, waiting):
    customer, conversation = waiting
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert page.count("data-sent-via-link") == 1 and "sent via link" in page
    assert "Undo: it was not sent" in page
    assert "Sent to Rina Kusuma on WhatsApp:" in page  # the undo bar, on every page for a few minutes
    assert "Reply to Rina Kusuma logged as sent on WhatsApp." in page


def test_without_scripts_the_answer_is_the_redirect_to_the_chat(staff_client, waiting):
    customer, conversation = waiting
    response = _send(staff_client, customer, conversation, "Halo kak, ready ya", json=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://wa.me/6281234567890?text=Halo%20kak%2C%20ready%20ya"
    assert len(_staff_messages(conversation)) == 1


def test_without_a_text_only_the_opening_is_marked(staff_client, waiting):
    customer, conversation = waiting
    answer = _send(staff_client, customer, conversation, "   ").get_json()
    assert answer["url"] == "https://wa.me/6281234567890"
    assert _staff_messages(conversation) == []
    assert _is_waiting(conversation)  # no fake message
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Opened in WhatsApp" in page and "data-sent-via-link" not in page
    assert db.session.execute(db.select(AuditEvent.action).where(AuditEvent.action == "opened_chat")).first()


def test_a_blank_left_to_fill_is_refused_and_nothing_is_logged(staff_client, waiting):
    customer, conversation = waiting
    response = _send(staff_client, customer, conversation, "Ukuran {?ukuran} ready ya")
    assert response.status_code == 400
    assert response.get_json() == {"ok": False, "error": "Fill in {?ukuran} before sending."}
    assert _staff_messages(conversation) == [] and db.session.execute(db.select(ReplyLink)).first() is None


def test_channels_without_a_prefill_log_the_copied_text(staff_client, waiting):
    customer, conversation = waiting
    answer = _send(staff_client, customer, None, "Halo kak, ini katalognya", channel="instagram").get_json()
    assert answer["url"] == "https://ig.me/m/rina.shop"
    instagram = db.session.execute(db.select(Conversation).where(Conversation.channel == "instagram")).scalar_one()
    assert [m.body for m in _staff_messages(instagram)] == ["Halo kak, ini katalognya"]
    assert _is_waiting(conversation)  # the WhatsApp question still waits


def test_a_handle_of_another_customer_is_refused(staff_client, waiting, make_customer):
    customer, conversation = waiting
    other = make_customer("Dewi", whatsapp="0813 1111 2222")
    response = staff_client.post("/replies/send", data={
        "customer_id": customer.id, "identity_id": _identity(other).id, "text": "hi"},
        headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert db.session.execute(db.select(ReplyLink)).first() is None


def test_a_double_tap_logs_one_reply(staff_client, waiting):
    customer, conversation = waiting
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    assert len(_staff_messages(conversation)) == 1
    assert db.session.execute(db.select(db.func.count()).select_from(ReplyLink)).scalar_one() == 1


def test_undo_takes_the_reply_back_and_the_customer_waits_again(staff_client, waiting):
    customer, conversation = waiting
    rek = db.session.execute(db.select(QuickReply).where(QuickReply.shortcut == "rek")).scalar_one()
    _send(staff_client, customer, conversation, "Rekening BCA 123", quick_reply=str(rek.id))
    assert db.session.execute(db.select(db.func.count()).select_from(QuickReplyUse)).scalar_one() == 1
    link = db.session.execute(db.select(ReplyLink)).scalar_one()
    response = staff_client.post(f"/replies/sent/{link.id}/undo", data={"next": f"/conversations/{conversation.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/conversations/{conversation.id}"
    assert _staff_messages(conversation) == []
    assert _is_waiting(conversation)
    db.session.refresh(link)
    assert link.undone_at is not None and link.message_id is None and link.text == "Rekening BCA 123"
    assert db.session.execute(db.select(db.func.count()).select_from(QuickReplyUse)).scalar_one() == 0
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "sent via link" not in page and "Sent to Rina" not in page
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "undo_sent_via_link")).scalar_one()
    assert event.details["text"] == "Rekening BCA 123"
    # The same text can go out again afterwards.
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    assert len(_staff_messages(conversation)) == 1


def test_undo_of_a_reply_that_began_a_conversation_takes_the_conversation_too(staff_client, make_customer):
    customer = make_customer("Dewi", whatsapp="0813 1111 2222")
    _send(staff_client, customer, None, "Halo kak Dewi, masih minat?")
    conversation_id = db.session.execute(db.select(Conversation.id)).scalar_one()
    link = db.session.execute(db.select(ReplyLink)).scalar_one()
    staff_client.post(f"/replies/sent/{link.id}/undo")
    assert db.session.get(Conversation, conversation_id) is None
    assert staff_client.get(f"/customers/{customer.id}").status_code == 200


def test_undo_is_for_a_few_minutes_and_for_the_sender_or_the_owner(staff_client, owner_client, make_user, waiting,
                                                                  clock):
    customer, conversation = waiting
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    link = db.session.execute(db.select(ReplyLink)).scalar_one()
    colleague = make_user("Sari")
    other_client = staff_client.application.test_client()
    other_client.login(colleague.email)
    assert other_client.post(f"/replies/sent/{link.id}/undo").status_code == 403
    clock.shift(timedelta(minutes=UNDO_MINUTES + 1))
    response = staff_client.post(f"/replies/sent/{link.id}/undo", follow_redirects=True)
    assert "Too late to take this reply back" in response.get_data(as_text=True)
    assert len(_staff_messages(conversation)) == 1
    assert "Undo: it was not sent" not in staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)


def test_the_owner_may_undo_a_staff_reply(staff_client, owner_client, waiting):
    customer, conversation = waiting
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    link = db.session.execute(db.select(ReplyLink)).scalar_one()
    assert owner_client.post(f"/replies/sent/{link.id}/undo").status_code == 302
    assert _staff_messages(conversation) == []


def test_a_reply_goes_to_the_conversation_that_waits_even_after_the_gap(app, staff_client, make_customer, chat):
    customer = make_customer("Rina", whatsapp="0812 3456 7890")
    old = chat(customer, [("customer", "Kak, masih ada?")], start=datetime.now(timezone.utc) - timedelta(days=3))
    assert current_conversation(customer, "whatsapp").id == old.id
    _send(staff_client, customer, None, "Masih kak, maaf baru balas")
    assert [m.body for m in _staff_messages(old)] == ["Masih kak, maaf baru balas"]


def test_a_reply_long_after_an_answered_chat_starts_a_new_conversation(app, staff_client, make_customer, chat):
    customer = make_customer("Rina", whatsapp="0812 3456 7890")
    old = chat(customer, [("customer", "Harga?"), ("staff", "185rb kak")],
               start=datetime.now(timezone.utc) - timedelta(days=5))
    assert current_conversation(customer, "whatsapp") is None
    _send(staff_client, customer, None, "Halo kak, masih minat gamisnya?")
    conversations = db.session.execute(db.select(Conversation).order_by(Conversation.id)).scalars().all()
    assert [c.id for c in conversations][0] == old.id and len(conversations) == 2
    assert [m.body for m in _staff_messages(conversations[1])] == ["Halo kak, masih minat gamisnya?"]


def test_a_link_sent_reply_is_a_first_response_in_the_report(app, staff_client, waiting, test_now):
    from crm.reports.figures import channel_report, period_for

    customer, conversation = waiting
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    report = channel_report(period_for("last_30", now=test_now))
    whatsapp = next(row for row in report.channels if row.key == "whatsapp")
    assert whatsapp.responses.answered == 1
    assert timedelta(minutes=59) <= whatsapp.responses.median <= timedelta(minutes=61)


def test_quick_replies_used_in_log_chat_are_counted(staff_client, staff, make_customer):
    customer = make_customer("Rina", whatsapp="0812 3456 7890")
    rek = db.session.execute(db.select(QuickReply).where(QuickReply.shortcut == "rek")).scalar_one()
    response = staff_client.post("/conversations/log", data={
        "customer_id": customer.id, "channel": "whatsapp", "messages-0-side": "customer",
        "messages-0-body": "rekening?", "messages-1-side": "staff", "messages-1-body": "BCA 123 ya kak",
        "quick_reply": [str(rek.id), "999", "x"], "save": "1"})
    assert response.status_code == 302
    use = db.session.execute(db.select(QuickReplyUse)).scalar_one()
    assert (use.quick_reply_id, use.user_id) == (rek.id, staff.id) and use.conversation_id is not None


def test_the_reply_boxes_show_each_channel_with_its_link(staff_client, owner, waiting):
    customer, conversation = waiting
    save_settings({"bank_accounts": "BCA 123"}, owner.id)
    db.session.commit()
    thread = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Reply on WhatsApp" in thread and 'data-link="https://wa.me/6281234567890"' in thread
    assert "Reply on Instagram" not in thread  # the thread is on WhatsApp
    page = staff_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Reply on WhatsApp" in page and "Reply on Instagram" in page and "Copy and open Instagram" in page
    assert 'data-link="https://ig.me/m/rina.shop"' in page and 'data-param="text"' in page
    today = staff_client.get("/").get_data(as_text=True)
    assert "Reply on WhatsApp" in today


# --- nudges ---------------------------------------------------------------------------------------------


def _section(page, name):
    import re

    match = re.search(rf'<section class="queue-section queue-{name}".*?</section>', page, re.S)
    assert match, name
    return match.group(0)


def _overdue(customer, days=2):
    from crm.today.services import add_follow_up

    add_follow_up(customer, due_at=datetime.now(timezone.utc) - timedelta(days=days), has_time=True,
                  note="tanya lagi")
    db.session.commit()


def test_an_overdue_follow_up_gets_the_owners_nudge_in_one_click(staff_client, owner, make_customer, chat):
    from crm.replies.services import create_quick_reply

    nudge = create_quick_reply(shortcut="colek", title="Masih minat?", body="Halo {nama}, masih minat kak? 😊",
                               personal_of=None, created_by_id=owner.id)
    save_settings({"nudge_overdue": str(nudge.id)}, owner.id)
    customer = make_customer("Rina Kusuma", whatsapp="0812 3456 7890")
    chat(customer, [("customer", "Harga gamis?"), ("staff", "185rb kak")],
         start=datetime.now(timezone.utc) - timedelta(days=4))
    _overdue(customer)
    overdue = _section(staff_client.get("/").get_data(as_text=True), "overdue")
    assert "Nudge on WhatsApp /colek" in overdue
    assert 'name="text" value="Halo Rina, masih minat kak? 😊"' in overdue
    assert f'name="quick_reply" value="{nudge.id}"' in overdue
    response = _send(staff_client, customer, None, "Halo Rina, masih minat kak? 😊", quick_reply=str(nudge.id))
    assert response.get_json()["url"].startswith("https://wa.me/6281234567890?text=Halo%20Rina%2C")
    use = db.session.execute(db.select(QuickReplyUse)).scalar_one()
    assert use.quick_reply_id == nudge.id and use.reply_link_id is not None
    # Four days after an answered chat: the nudge starts a new conversation on WhatsApp.
    assert db.session.execute(db.select(db.func.count()).select_from(Conversation)).scalar_one() == 2


def test_a_nudge_with_a_blank_opens_as_a_box_to_fill(staff_client, owner, make_customer, chat):
    minat = db.session.execute(db.select(QuickReply).where(QuickReply.shortcut == "minat")).scalar_one()
    save_settings({"nudge_overdue": str(minat.id), "shop_name": "Toko Sari"}, owner.id)
    customer = make_customer("Rina", whatsapp="0812 3456 7890")
    chat(customer, [("customer", "halo kak"), ("staff", "halo, ada yang bisa dibantu?")],
         start=datetime.now(timezone.utc) - timedelta(days=4))
    _overdue(customer)
    overdue = _section(staff_client.get("/").get_data(as_text=True), "overdue")
    assert "Nudge on WhatsApp /minat" in overdue and "<summary" in overdue
    assert "Kemarin sempat tanya {?produk}, masih minat kak?" in overdue  # in the box, to fill first


def test_a_hot_prospect_gets_the_hot_nudge_and_a_named_product(staff_client, owner, make_customer, chat):
    minat = db.session.execute(db.select(QuickReply).where(QuickReply.shortcut == "minat")).scalar_one()
    save_settings({"nudge_hot": str(minat.id), "shop_name": "Toko Sari"}, owner.id)
    rina = make_customer("Rina", whatsapp="0812 3456 7890")
    rina.stage = "negotiating"
    chat(rina, [("customer", "Harga gamis navy brp? mau order 2, transfer BCA ya"), ("staff", "185rb kak")],
         start=datetime.now(timezone.utc) - timedelta(hours=4))
    hot = _section(staff_client.get("/").get_data(as_text=True), "hot")
    assert "Nudge on WhatsApp /minat" in hot
    assert ('value="Halo Rina, saya Budi dari Toko Sari 😊 Kemarin sempat tanya gamis navy, masih minat kak? '
            in hot)


def test_no_nudge_without_a_choice_or_a_handle(staff_client, owner, make_customer, chat):
    customer = make_customer("Rina", whatsapp="0812 3456 7890")
    four_days_ago = datetime.now(timezone.utc) - timedelta(days=4)
    chat(customer, [("customer", "Harga?"), ("staff", "185rb kak")], start=four_days_ago)
    _overdue(customer)
    assert "Nudge on" not in staff_client.get("/").get_data(as_text=True)
    minat = db.session.execute(db.select(QuickReply).where(QuickReply.shortcut == "minat")).scalar_one()
    save_settings({"nudge_overdue": str(minat.id)}, owner.id)
    nameless = make_customer("Dewi")  # no handle: nowhere to send a nudge
    chat(nameless, [("customer", "Harga?"), ("staff", "185rb kak")], start=four_days_ago)
    _overdue(nameless)
    overdue = _section(staff_client.get("/").get_data(as_text=True), "overdue")
    assert overdue.count("Nudge on WhatsApp") == 1


# --- the report ------------------------------------------------------------------------------------------


def test_the_staff_table_counts_replies_sent_via_links_and_quick_replies_used(
        staff_client, owner_client, owner, staff, make_user, waiting, make_customer, chat):
    import csv
    import io
    import re

    customer, conversation = waiting  # logged by nobody: the link sender has no row of conversations
    rek = db.session.execute(db.select(QuickReply).where(QuickReply.shortcut == "rek")).scalar_one()
    _send(staff_client, customer, conversation, "Rekening BCA 123", quick_reply=str(rek.id))
    _send(staff_client, customer, conversation, "Sudah diterima kak", quick_reply=str(rek.id))
    dewi = make_customer("Dewi", whatsapp="0813 1111 2222")
    _send(staff_client, dewi, None, "Halo kak")
    taken_back = db.session.execute(db.select(ReplyLink).where(ReplyLink.customer_id == dewi.id)).scalar_one()
    staff_client.post(f"/replies/sent/{taken_back.id}/undo")
    _send(staff_client, dewi, None, "")  # only opened: not a reply
    page = owner_client.get("/reports/?period=last_30").get_data(as_text=True)
    staff_table = page[page.index('data-report-table="staff"'):]
    staff_table = staff_table[:staff_table.index("</table>")]
    assert "Sent via links" in staff_table and "Quick replies used" in staff_table
    row = re.search(rf'<tr data-key="{staff.id}">.*?</tr>', staff_table, re.S).group(0)
    assert "Budi Staff" in row
    assert re.search(r'class="number sent-via-links">2<', row) and re.search(r'quick-replies-used">2<', row)
    text = owner_client.get("/reports/staff.csv?period=last_30").get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    budi = next(r for r in rows if r["name"] == "Budi Staff")
    assert (budi["replies_sent_via_links"], budi["quick_replies_used"]) == ("2", "2")


def test_two_numbers_on_one_channel_each_get_their_box(staff_client, app, chat):
    from crm.customers.services import IdentityInput, create_customer

    customer = create_customer("Rina", identities=[IdentityInput("whatsapp", "0812 3456 7890"),
                                                   IdentityInput("whatsapp", "0813 9999 0000"),
                                                   IdentityInput("instagram", "rina.shop")])
    db.session.commit()
    conversation = chat(customer, [("customer", "Halo kak")])
    thread = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert thread.count("Reply on WhatsApp <span class=\"muted\">") == 2
    assert "+62 812-3456-7890" in thread and "+62 813-9999-0000" in thread
    assert 'data-link="https://wa.me/6281399990000"' in thread
    page = staff_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Reply on Instagram</summary>" in page  # alone on its channel: no handle beside it


def test_opened_marks_stand_where_they_happened_on_each_page_of_a_thread(staff_client, waiting, clock):
    from crm.replies.services import thread_marks

    customer, conversation = waiting
    _send(staff_client, customer, conversation, "")  # opened, 1 hour after her question
    clock.shift(timedelta(minutes=5))
    _send(staff_client, customer, conversation, "Rekening BCA 123")
    db.session.refresh(conversation)
    messages = [m for m in conversation.messages if not m.deleted_at]
    marks = thread_marks(conversation)
    assert [kind for kind, _ in marks.timeline(messages)] == ["message", "opened", "message"]
    # Two pages of one message each: the mark is on the first, after her question, and only there.
    assert [kind for kind, _ in marks.timeline(messages[:1], next_at=messages[1].sent_at)] == ["message", "opened"]
    assert [kind for kind, _ in marks.timeline(messages[1:], earlier=True)] == ["message"]
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    thread = page[page.index('<ol class="thread">'):]
    assert thread.index("Kak mau transfer") < thread.index("Opened in WhatsApp") < thread.index("Rekening BCA 123")


def test_a_customer_trashed_meanwhile_gets_no_reply_logged(staff_client, waiting):
    from crm.admin.trash import move_to_trash

    customer, conversation = waiting
    move_to_trash(customer)
    db.session.commit()
    response = _send(staff_client, customer, conversation, "Rekening BCA 123")
    assert response.status_code == 409
    assert response.get_json()["error"] == "This customer was moved to the trash meanwhile; nothing was logged."
    assert _staff_messages(conversation) == [] and db.session.execute(db.select(ReplyLink)).first() is None


def test_a_customer_merged_meanwhile_gets_the_reply_on_the_survivor(staff_client, waiting, make_customer, chat):
    from crm.customers.services import merge_customers

    customer, conversation = waiting
    survivor = make_customer("Rina K.")
    identity_id = _identity(customer).id
    merge_customers(survivor, customer)
    db.session.commit()
    response = staff_client.post("/replies/send", data={
        "customer_id": customer.id, "identity_id": identity_id, "conversation_id": conversation.id,
        "text": "Rekening BCA 123"}, headers={"Accept": "application/json"})
    assert response.get_json()["ok"]
    link = db.session.execute(db.select(ReplyLink)).scalar_one()
    assert link.customer_id == survivor.id and link.conversation_id == conversation.id
    assert [m.body for m in _staff_messages(conversation)] == ["Rekening BCA 123"]
