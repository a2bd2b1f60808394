"""Words as a person writes them: "1 message", not "1 messages"; channel names, not codes; "just wrote", not
"0 seconds"; one way to write a moment on every page; a time range that starts and ends together is one time."""
from datetime import datetime, timedelta, timezone

from flask_babel import force_locale

from crm.admin.trash import move_to_trash
from crm.extensions import db
from crm.formatting import local_time, shop_zone, time_range


def test_one_message_logged_is_singular(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    response = staff_client.post("/conversations/log", data={
        "customer_id": rina.id, "channel": "whatsapp", "messages-0-side": "customer", "messages-0-body": "halo"},
        follow_redirects=True)
    assert "1 message logged for Rina." in response.get_data(as_text=True)
    conversation = chat(make_customer("Sari"), [("customer", "Harga?")])
    reply = staff_client.post(f"/conversations/{conversation.id}/messages", data={
        "messages-0-side": "staff", "messages-0-body": "185rb kak"}, follow_redirects=True)
    assert "1 message logged." in reply.get_data(as_text=True)


def test_a_one_file_import_reads_in_the_singular(owner_client, import_upload):
    chat = "19/05/2026, 10.00 - Rina: Kak, tas rotan masih ada?\n"
    page = import_upload(owner_client, chat, "WhatsApp Chat with Rina.txt").get_data(as_text=True)
    assert "Imported 1 message<" in page and "1 conversation<" in page and "1 message imported" in page
    assert "1 new customer<" in page and "1 files" not in page and "1 new customers" not in page


def test_the_paste_preview_names_the_format_and_counts_in_words(owner_client):
    pasted = "[10.00, 09/05/2026] Rina: Kak, tas rotan masih ada?\n"
    page = owner_client.post("/conversations/log/preview", data={"pasted": pasted, "channel": "whatsapp"},
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "1 message, read as WhatsApp." in page and "read as whatsapp" not in page


def test_the_preview_and_the_thread_write_a_moment_the_same_way(owner_client):
    pasted = "[10.00, 09/05/2026] Rina: Kak, tas rotan masih ada?\n[10.04, 09/05/2026] Toko Sari: Masih kak\n"
    form = {"pasted": pasted, "channel": "whatsapp", "new_customer_name": "Rina", "author-0": "Rina",
            "side-0": "customer", "author-1": "Toko Sari", "side-1": "staff"}
    preview = owner_client.post("/conversations/log/preview", data=form, headers={"HX-Request": "true"})
    thread = owner_client.post("/conversations/log", data=form | {"save": "1"}, follow_redirects=True)
    for page in (preview.get_data(as_text=True), thread.get_data(as_text=True)):
        assert "May 9, 2026, 10:00\u202fAM" in page and "09/05/2026" not in page and "5/9/26" not in page


def test_a_wait_under_a_minute_is_just_now(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", "Kak, masih ada?")], start=datetime.now(timezone.utc))
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Just wrote: waiting on us" in page and "0 seconds" not in page
    assert "Just wrote: waiting on us" in staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)


def test_a_range_that_starts_and_ends_together_is_one_time(app):
    start = datetime(2026, 5, 9, 18, 25, tzinfo=timezone.utc)  # 01:25 the next day in Jakarta
    with app.test_request_context(), force_locale("en"):
        assert time_range(start, start) == local_time(start) == "May 10, 2026, 1:25\u202fAM"
        assert time_range(start, start + timedelta(seconds=20)) == "May 10, 2026, 1:25\u202fAM"
        assert time_range(start, start + timedelta(minutes=40)) == "May 10, 2026, 1:25\u202fAM – 2:05\u202fAM"
        assert time_range(start, start + timedelta(days=1)) == "May 10, 2026, 1:25\u202fAM – May 11, 2026, 1:25\u202fAM"
    with app.test_request_context(), force_locale("id"):
        assert time_range(start, start + timedelta(minutes=40)) == "10 Mei 2026 01.25 – 02.05"


def test_a_one_message_conversation_header_shows_one_time(staff_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "halo")],
                        start=datetime(2026, 5, 10, 1, 25, tzinfo=shop_zone()))
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "May 10, 2026, 1:25\u202fAM –" not in page


def test_the_audit_trail_names_a_trashed_conversations_channel(owner_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "halo")], channel="whatsapp",
                        start=datetime(2026, 5, 9, 10, 0, tzinfo=shop_zone()))
    move_to_trash(conversation)
    db.session.commit()
    page = owner_client.get("/audit").get_data(as_text=True)
    assert "Rina · WhatsApp · May 9, 2026" in page and "· whatsapp ·" not in page


def test_the_command_line_counts_in_the_singular_too(runner, tmp_path):
    path = tmp_path / "WhatsApp Chat with Rina.txt"
    path.write_text("09/05/2026, 10.00 - Rina: Kak, tas rotan masih ada?\n", encoding="utf-8")
    output = runner.invoke(args=["import-chat", str(path), "--me", "Toko Sari"]).output
    assert "1 file, 1 conversation, 1 message imported, 0 duplicates skipped, 1 customer created" in output


def test_todays_numbers_count_in_the_singular(staff_client, make_customer):
    from crm.today.queue import shop_day
    from crm.today.services import add_follow_up

    add_follow_up(make_customer("Rina"), due_at=shop_day().start, has_time=False)
    db.session.commit()
    page = staff_client.get("/").get_data(as_text=True)
    assert "<strong>1</strong> follow-up due" in page and "<strong>1</strong> new prospect this week" in page
