"""The Import page: an upload becomes a background import with a progress page and a summary that says what
happened (never "Imported" when nothing was), asks who is the shop when it cannot tell, and refuses bad files
with a message on the form. No command-line hints on a web page."""
import io
import re
import zipfile
from pathlib import Path

import pytest

from crm.extensions import db
from crm.models import Customer, ImportJob, Message, OurName

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = FIXTURES / "samples"
EXPORTS = FIXTURES / "exports"
ZIP = SAMPLES / "WhatsApp Chat - Rina.zip"
HX = {"HX-Request": "true"}


def _upload(client, path=ZIP, dry_run=False, name=None, data=None, headers=None, **fields):
    content = path.read_bytes() if data is None else data
    form = {"export": (io.BytesIO(content), name or path.name), "format": "auto", "channel": "", **fields}
    if dry_run:
        form["dry_run"] = "y"
    return client.post("/conversations/import", data=form, content_type="multipart/form-data",
                       headers=headers or {}, follow_redirects=True)


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def _count(model):
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()


def _latest_job() -> ImportJob:
    return db.session.execute(db.select(ImportJob).order_by(ImportJob.id.desc())).scalars().first()


def test_check_then_import_then_import_again(staff_client):
    checked = _upload(staff_client, dry_run=True)
    page = _text(checked)
    assert checked.status_code == 200 and "Checked, nothing saved" in page and "13 messages to import" in page
    assert "Imported" not in page
    assert _count(Message) == 0 and _count(Customer) == 0 and _count(OurName) == 0

    # The check offers to import the same file without uploading it again.
    job = _latest_job()
    imported = staff_client.post(f"/conversations/import/{job.id}/again", data={"what": "import"})
    page = _text(imported)
    assert "Imported 13 messages" in page and "1 new customer" in page and "13 messages imported" in page
    assert db.session.execute(db.select(Customer.display_name)).scalar_one() == "Rina"

    again = _text(_upload(staff_client))
    assert "Nothing new: every message was imported before" in again and "13 already there" in again
    assert "Imported" not in again.replace("Import chats", "").replace("Import exported", "")
    assert _count(Message) == 13


def test_an_htmx_upload_answers_with_its_summary_and_its_own_address(staff_client):
    response = staff_client.post("/conversations/import", headers=HX, content_type="multipart/form-data", data={
        "export": (io.BytesIO(ZIP.read_bytes()), ZIP.name), "format": "auto", "channel": ""})
    job = _latest_job()
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == f"/conversations/import/{job.id}"
    page = response.get_data(as_text=True)
    assert 'id="import-panel"' in page and "Imported 13 messages" in _text(response)
    assert "hx-trigger=\"every 1s\"" not in page, "a finished import stops asking"


def test_no_file_and_bad_files_are_refused_on_the_form(staff_client):
    # An htmx post that is refused still shows the form with its errors (the form swaps 4xx answers in).
    missing = staff_client.post("/conversations/import", data={"format": "auto"}, headers=HX,
                                content_type="multipart/form-data")
    assert missing.status_code == 400 and "Choose a file." in _text(missing)
    assert 'id="import-panel"' in missing.get_data(as_text=True) and "data-swap-errors" in missing.get_data(
        as_text=True)
    empty = _upload(staff_client, data=b"", name="chat.txt")
    assert empty.status_code == 400 and "This file is empty" in _text(empty)
    photo = _upload(staff_client, data=b"\xff\xd8\xff", name="IMG-001.jpg")
    assert photo.status_code == 400 and "a .txt, .zip or .json file" in _text(photo)
    assert _count(ImportJob) == 0


def test_an_unreadable_zip_says_so_and_imports_nothing(staff_client):
    response = _upload(staff_client, data=b"PK\x03\x04 not really a zip" * 20, name="WhatsApp Chat - Rina.zip")
    page = _text(response)
    assert response.status_code == 200 and "Nothing imported" in page and "Imported" not in page
    assert "WhatsApp Chat - Rina.zip" in page and "zip" in page.split("Nothing imported", 1)[1]
    assert "--me" not in page and "import-chat" not in page, "no command-line hints"
    assert _count(Message) == 0 and _count(Customer) == 0


def test_a_file_that_is_no_chat_says_where_and_imports_nothing(staff_client):
    page = _text(_upload(staff_client, data=b"hello\nworld\n", name="../../etc/notes.txt"))
    assert "Nothing imported" in page and "notes.txt, line 1" in page and "Imported" not in page
    assert _count(Message) == 0


def test_long_and_strange_file_names_are_made_safe(staff_client):
    long_name = "WhatsApp Chat - " + "Rina " * 70 + ".zip"
    page = _upload(staff_client, name=long_name)
    assert page.status_code == 200 and "Imported 13 messages" in _text(page)
    assert len(_latest_job().source_name.encode()) <= 200
    nul = _upload(staff_client, name="Chat\x00 WhatsApp\x07.zip")
    assert nul.status_code == 200 and "\x00" not in _latest_job().source_name


def test_too_large_an_upload_is_refused_with_a_message(app, staff_client):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = _upload(staff_client, data=b"x" * 20_000, name="chat.txt", headers=HX)
    assert response.status_code == 413
    assert "larger than 0 MB" not in _text(response)
    assert "Export the chat without media" in _text(response) and 'id="import-panel"' in response.get_data(
        as_text=True)


def test_when_it_cannot_tell_who_is_the_shop_it_asks_with_the_picker(staff_client):
    chat = b"23/05/26 10.15 - Rina: halo kak\n23/05/26 10.16 - Sari: halo juga\n"
    response = _upload(staff_client, data=chat, name="chat.txt")
    page = _text(response)
    assert "Who is the shop in this chat?" in page and "Nothing imported" in page
    assert "--me" not in page and "Imported" not in page
    html = response.get_data(as_text=True)
    assert 'name="author-0" value="Rina"' in html and 'name="author-1" value="Sari"' in html

    job = _latest_job()
    nobody = staff_client.post(f"/conversations/import/{job.id}/again",
                               data={"what": "shop", "author-0": "Rina", "side-0": "customer",
                                     "author-1": "Sari", "side-1": "customer"})
    assert nobody.status_code == 400 and "Choose “us”" in _text(nobody)
    chosen = staff_client.post(f"/conversations/import/{job.id}/again", follow_redirects=True,
                               data={"what": "shop", "author-0": "Rina", "side-0": "customer",
                                     "author-1": "Sari", "side-1": "staff"})
    assert "Imported 2 messages" in _text(chosen)
    assert db.session.execute(db.select(Customer.display_name)).scalar_one() == "Rina"
    assert db.session.execute(db.select(OurName.name)).scalar_one() == "Sari", "remembered for the next import"


def test_another_staff_member_may_look_but_not_act(app, staff_client, make_user):
    chat = b"23/05/26 10.15 - Rina: halo kak\n23/05/26 10.16 - Sari: halo juga\n"
    _upload(staff_client, data=chat, name="chat.txt")
    job = _latest_job()
    other = app.test_client()
    other.login(make_user("Citra").email)
    assert other.get(f"/conversations/import/{job.id}").status_code == 200
    refused = other.post(f"/conversations/import/{job.id}/again", data={
        "what": "shop", "author-0": "Rina", "side-0": "staff"})
    assert refused.status_code == 403


def test_group_chats_are_refused_with_their_size(staff_client):
    page = _text(_upload(staff_client, EXPORTS / "whatsapp" / "android-id-group.txt"))
    assert "Nothing imported" in page and "group chat with" in page and "people" in page
    assert "1 group chat skipped" in page
    assert _count(Message) == 0 and _count(Customer) == 0


def test_an_account_export_says_how_many_group_chats_it_skipped(staff_client):
    # One personal chat, a supergroup, a channel and the (empty) saved messages.
    page = _text(_upload(staff_client, EXPORTS / "telegram" / "account-result.json", name="result.json"))
    assert "Imported" in page and "2 group chats skipped" in page


def test_unreadable_lines_are_listed_with_their_numbers(staff_client):
    page = _text(_upload(staff_client, EXPORTS / "whatsapp" / "unreadable-headers.txt", name="chat.txt"))
    assert "2 lines could not be read and were left out" in page
    assert "line 2:" in page and "line 3:" in page


def test_dates_read_right_are_saved_with_one_click(staff_client):
    chat = ("02/03/26 09.30 - Rina: halo kak, gamis ready?\n"
            "05/03/26 09.31 - Toko Batik Sari: ready kak\n").encode()
    _upload(staff_client, data=chat, name="WhatsApp Chat - Rina.txt")
    job = _latest_job()
    saved = _text(staff_client.post(f"/conversations/import/{job.id}/publish"))
    assert "Imported 2 messages" in saved and "March 2, 2026" in saved
    assert db.session.execute(db.select(Customer.display_name).where(Customer.deleted_at.is_(None))).scalar_one() \
        == "Rina"


def test_an_ambiguous_date_order_waits_for_the_user(staff_client):
    chat = ("02/03/26 09.30 - Rina: halo kak, gamis ready?\n"
            "05/03/26 09.31 - Toko Batik Sari: ready kak\n").encode()
    page = _text(_upload(staff_client, data=chat, name="WhatsApp Chat - Rina.txt"))
    job = _latest_job()
    assert job.status == "confirm" and "Check the dates before saving" in page
    assert "Dates read day first (31/12): March 2, 2026 – March 5, 2026" in page
    assert "Read the other way, it would be February 3, 2026 – May 3, 2026" in page
    assert _count(Message) == 2 and _count(Customer) == 1, "written, but hidden until the user says"
    live = db.session.execute(db.select(Customer).where(Customer.deleted_at.is_(None))).first()
    assert live is None and staff_client.get("/customers/").get_data(as_text=True).count("Rina") == 0

    switched = staff_client.post(f"/conversations/import/{job.id}/again", data={"what": "month_first"})
    assert db.session.get(ImportJob, job.id).status == "discarded"
    new = _latest_job()
    # The user chose the order: nothing left to ask.
    assert new.status == "done" and new.options["day_first"] is False
    assert "Dates read month first (12/31): February 3, 2026 – May 3, 2026 (as chosen)" in _text(switched)
    assert "Imported 2 messages" in _text(switched)
    customer = db.session.execute(db.select(Customer).where(Customer.deleted_at.is_(None))).scalar_one()
    times = sorted(m.sent_at.date().isoformat() for c in customer.conversations for m in c.messages)
    assert times == ["2026-02-03", "2026-05-03"]
    assert _count(Customer) == 1 and _count(Message) == 2, "the first reading was deleted"


@pytest.mark.parametrize("wait", [0])
def test_a_long_import_shows_its_progress_and_can_be_left(app, staff_client, wait):
    app.config["IMPORT_WAIT_SECONDS"] = wait
    lines = "".join(f"{10 + i // 400}/05/26 {8 + i // 40 % 10:02d}.{i % 40:02d} - "
                    f"{'Rina' if i % 2 else 'Toko Batik Sari'}: pesan nomor {i}\n" for i in range(6000))
    response = staff_client.post("/conversations/import", headers=HX, content_type="multipart/form-data", data={
        "export": (io.BytesIO(lines.encode()), "WhatsApp Chat - Rina.txt"), "format": "auto", "channel": ""})
    html = response.get_data(as_text=True)
    job = _latest_job()
    assert job.status in ("queued", "running", "done")
    if job.status != "done":
        assert 'hx-trigger="every 1s"' in html and "You can leave this page" in html
    from crm.conversations.import_jobs import wait_for

    assert wait_for(job.id, 60).status == "done"
    back = staff_client.get("/conversations/import")
    assert "Imported 6000 messages" in _text(back), "the Import page lists it when the user comes back"
    shown = _text(staff_client.get(f"/conversations/import/{job.id}"))
    assert "Imported 6000 messages" in shown and "You can leave this page" not in shown


def test_a_zip_of_many_exports_keeps_the_limits(app, staff_client):
    app.config["IMPORT_MAX_ZIP_FILES"] = 5
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for index in range(8):
            archive.writestr(f"IMG-{index}.jpg", b"x")
        archive.writestr("_chat.txt", "23/05/26 10.15 - Rina: halo\n")
    page = _text(_upload(staff_client, data=data.getvalue(), name="WhatsApp Chat - Rina.zip"))
    assert "this zip holds 9 files, more than the 5 a chat export can hold" in page and "Nothing imported" in page


def test_the_size_limits_are_settings(app, staff_client):
    app.config["IMPORT_MAX_JSON_MB"] = 0.001
    page = _text(_upload(staff_client, EXPORTS / "telegram" / "account-result.json", name="result.json"))
    assert "Nothing imported" in page and "JSON export is larger than" in page
    app.config["IMPORT_MAX_UNZIPPED_MB"] = 0.0005
    page = _text(_upload(staff_client))
    assert "Nothing imported" in page and "MB of chat text" in page
    assert _count(Message) == 0
