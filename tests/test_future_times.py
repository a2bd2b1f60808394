"""A message is never from the future: a typed time days ahead is refused (keeping what was typed), imports and
pastes say how many of their messages are dated after now, and the demo shop has none."""
import json
from datetime import datetime, timedelta, timezone

from crm.extensions import db
from crm.formatting import shop_zone
from crm.models import AuditEvent, Conversation, Message


def _local(moment: datetime) -> str:
    return moment.astimezone(shop_zone()).strftime("%Y-%m-%dT%H:%M")


def test_a_typed_time_a_week_ahead_is_refused_and_the_form_keeps_everything(staff_client, make_customer):
    rina = make_customer("Rina")
    ahead = _local(datetime.now(timezone.utc) + timedelta(days=7))
    response = staff_client.post("/conversations/log", data={
        "customer_id": rina.id, "channel": "whatsapp",
        "messages-0-side": "customer", "messages-0-body": "Kak, gamis L ready?", "messages-0-sent_at": ahead,
        "messages-1-side": "staff", "messages-1-body": "Ready kak 😊", "messages-1-sent_at": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This time is in the future; it is " in page and "Correct the time or leave it empty for now." in page
    assert f'value="{ahead}"' in page and "Kak, gamis L ready?" in page and "Ready kak 😊" in page
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 0


def test_a_time_a_minute_ahead_is_a_clock_difference_and_is_kept(staff_client, make_customer):
    rina = make_customer("Rina")
    response = staff_client.post("/conversations/log", data={
        "customer_id": rina.id, "channel": "whatsapp", "messages-0-side": "customer", "messages-0-body": "Halo",
        "messages-0-sent_at": _local(datetime.now(timezone.utc) + timedelta(minutes=2))})
    assert response.status_code == 302


def test_the_reply_form_on_a_thread_refuses_a_future_time_too(staff_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "Harga?")])
    response = staff_client.post(f"/conversations/{conversation.id}/messages", data={
        "messages-0-side": "staff", "messages-0-body": "185rb kak",
        "messages-0-sent_at": _local(datetime.now(timezone.utc) + timedelta(hours=5))})
    assert response.status_code == 400
    assert "This time is in the future" in response.get_data(as_text=True)
    assert len(db.session.get(Conversation, conversation.id).messages) == 1


def _export(tmp_path, days_ahead: int):
    now = datetime.now(timezone.utc).astimezone(shop_zone())
    lines = []
    for n, (when, who, text) in enumerate([
        (now - timedelta(days=2), "Rina", "Kak, batik tulis masih ada?"),
        (now - timedelta(days=2) + timedelta(minutes=3), "Toko Sari", "Masih kak"),
        (now + timedelta(days=days_ahead), "Rina", "Oke kak saya transfer"),
        (now + timedelta(days=days_ahead, minutes=1), "Toko Sari", "Siap kak"),
    ]):
        lines.append(f"{when:%d/%m/%Y}, {when:%H:%M} - {who}: {text} {n}")
    path = tmp_path / "WhatsApp Chat with Rina.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_import_counts_the_messages_dated_in_the_future(runner, tmp_path):
    result = runner.invoke(args=["import-chat", str(_export(tmp_path, days_ahead=3)), "--me", "Toko Sari", "--json"])
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["messages_imported"] == 4 and figures["future_dated"] == 2
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "import")).scalar_one()
    assert event.details["future_dated"] == 2
    text = runner.invoke(args=["import-chat", str(_export(tmp_path, days_ahead=3)), "--me", "Toko Sari"])
    assert "2 messages are dated in the future" in text.output


def test_the_import_page_says_so(owner_client, import_upload, tmp_path):
    path = _export(tmp_path, days_ahead=3)
    response = import_upload(owner_client, path.read_bytes(), path.name, shop="Toko Sari")
    page = response.get_data(as_text=True)
    assert "Imported 4 messages" in page and "2 messages are dated in the future" in page and "Lines 3, 4." in page


def test_a_paste_with_future_dates_is_flagged_in_the_preview_and_after_saving(owner_client, tmp_path):
    pasted = _export(tmp_path, days_ahead=1).read_text(encoding="utf-8")
    preview = owner_client.post("/conversations/log/preview", data={
        "pasted": pasted, "channel": "whatsapp", "new_customer_name": "Rina"}, headers={"HX-Request": "true"})
    assert "2 messages are dated in the future" in preview.get_data(as_text=True)
    saved = owner_client.post("/conversations/log", data={
        "pasted": pasted, "channel": "whatsapp", "new_customer_name": "Rina", "side-0": "customer",
        "author-0": "Rina", "side-1": "staff", "author-1": "Toko Sari", "save": "1"}, follow_redirects=True)
    assert "2 messages are dated in the future" in saved.get_data(as_text=True)


def test_one_future_message_is_said_in_the_singular(owner_client, tmp_path):
    now = datetime.now(timezone.utc).astimezone(shop_zone()) + timedelta(days=1)
    pasted = f"{now:%d/%m/%Y}, {now:%H:%M} - Rina: besok ya kak\n"
    preview = owner_client.post("/conversations/log/preview", data={"pasted": pasted, "channel": "whatsapp"},
                                headers={"HX-Request": "true"})
    assert "1 message is dated in the future" in preview.get_data(as_text=True)


def test_the_demo_shop_has_no_message_after_now(app, runner):
    result = runner.invoke(args=["demo-data", "--customers", "60", "--messages", "1500", "--seed", "3"])
    assert result.exit_code == 0, result.output
    now = datetime.now(timezone.utc)
    latest = db.session.execute(db.select(db.func.max(Message.sent_at))).scalar()
    assert latest <= now
    assert db.session.execute(db.select(db.func.max(Conversation.last_message_at))).scalar() <= now
    # Seed 3 made 20 messages after now before; the shop is still busy lately: the newest chats are hours old.
    assert now - latest < timedelta(days=2)
