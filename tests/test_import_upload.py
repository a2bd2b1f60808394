"""Importing from the browser: upload, one transaction, a summary; a dry run saves nothing."""
import io
from pathlib import Path

from crm.extensions import db
from crm.models import Customer, Message

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"
ZIP = SAMPLES / "WhatsApp Chat - Rina.zip"


def _upload(client, dry_run=False, **fields):
    data = {"export": (io.BytesIO(ZIP.read_bytes()), ZIP.name), "format": "auto", "channel": "",
            "me": "Toko Batik Sari", **fields}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/conversations/import", data=data, content_type="multipart/form-data")


def test_upload_a_whatsapp_zip(staff_client):
    checked = _upload(staff_client, dry_run=True)
    assert checked.status_code == 200 and "13 messages imported" in checked.get_data(as_text=True)
    assert db.session.execute(db.select(Message)).first() is None

    page = _upload(staff_client).get_data(as_text=True)
    assert "13 messages imported" in page and "1 new customer," in page
    assert db.session.execute(db.select(Customer.display_name)).scalar_one() == "Rina"

    again = _upload(staff_client).get_data(as_text=True)
    assert "0 messages imported" in again and "13 already there" in again


def test_upload_without_a_file_is_refused(staff_client):
    response = staff_client.post("/conversations/import", data={"format": "auto", "me": "Toko"},
                                 content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file" in response.get_data(as_text=True)


def test_an_upload_that_is_not_a_chat_says_where(staff_client):
    response = staff_client.post("/conversations/import", content_type="multipart/form-data", data={
        "export": (io.BytesIO(b"hello\nworld\n"), "../../etc/notes.txt"), "format": "auto", "channel": "", "me": ""})
    page = response.get_data(as_text=True)
    assert "notes.txt, line 1" in page
    assert db.session.execute(db.select(Message)).first() is None
