"""NUL characters and lone surrogates never reach the database, whatever the door (crm/text_input.py).

PostgreSQL refuses a NUL in text and no driver encodes a lone surrogate: each kind of input below was a 500
there (and a NUL a silently cut text in SQLite's functions). The suite runs these on both databases.
"""
import json

from flask import request

from crm.extensions import db
from crm.models import ChannelIdentity, Customer, Message
from crm.text_input import clean_data, clean_text

NUL = "\x00"


def _all_text() -> list[str]:
    """Every text the shop's tables hold."""
    rows = db.session.execute(db.select(Customer.display_name, Customer.notes)).all()
    rows += db.session.execute(db.select(Message.body, Message.author_name, Message.attachments)).all()
    rows += db.session.execute(db.select(ChannelIdentity.handle)).all()
    return [value for row in rows for value in row if value]


def test_clean_text_drops_nul_and_mends_lone_surrogates():
    assert clean_text("Ri\x00na") == "Rina"
    assert clean_text("kak \ud83d ready") == "kak \ufffd ready"
    assert clean_text("😊 185rb") == "😊 185rb"
    assert clean_data({"a\x00": ["x\x00", {"b": "\udc80"}], "n": 3}) == {"a": ["x", {"b": "\ufffd"}], "n": 3}


def test_a_new_customer_with_nul_in_every_field_is_saved_without_it(owner_client):
    response = owner_client.post("/customers/new", data={
        "display_name": "Ri\x00na Kusuma", "notes": "suka\x00 gamis", "assigned_to_id": "0", "stage": "none",
        "expected_value": "", "identities-0-channel": "instagram", "identities-0-handle": "@rina\x00.batik"})
    assert response.status_code == 302
    customer = db.session.execute(db.select(Customer)).scalar_one()
    assert (customer.display_name, customer.notes) == ("Rina Kusuma", "suka gamis")
    assert [i.handle for i in customer.identities] == ["rina.batik"]


def test_nul_in_query_strings_is_not_a_500(owner_client, make_customer):
    make_customer("Rina Kusuma", whatsapp="0812-3456-7890")
    for url in ("/customers/?q=Ri%00na", "/customers/lookup?q=Ri%00na", "/search?q=gam%00is&channel=%00",
                "/search/suggest?q=Ri%00na", "/search?q=%ED%A0%BD", "/customers/?q=0812%003456"):
        response = owner_client.get(url)
        assert response.status_code == 200, url
    assert "Rina Kusuma" in owner_client.get("/customers/?q=Ri%00na").get_data(as_text=True)


def test_a_typed_and_a_pasted_chat_lose_only_the_nul(owner_client, make_customer):
    rina = make_customer("Rina")
    typed = owner_client.post("/conversations/log", data={
        "customer_id": str(rina.id), "channel": "whatsapp",
        "messages-0-side": "customer", "messages-0-body": "Harga\x00 gamis?",
        "messages-1-side": "staff", "messages-1-body": "185rb\x00 kak"})
    assert typed.status_code in (200, 302)
    pasted = owner_client.post("/conversations/log", data={
        "pasted": "[10.00, 09/05/2026] Dewi\x00 Lestari: Permisi kak\x00, tas rotan masih ada?\n"
                  "[10.04, 09/05/2026] Kerajinan Bu Ani: Masih ada kak\n",
        "channel": "whatsapp", "new_customer_name": "", "new_customer_handle": "",
        "author-0": "Dewi Lestari", "side-0": "customer", "author-1": "Kerajinan Bu Ani", "side-1": "staff"})
    assert pasted.status_code == 302
    bodies = set(db.session.execute(db.select(Message.body)).scalars())
    assert {"Harga gamis?", "185rb kak", "Permisi kak, tas rotan masih ada?", "Masih ada kak"} <= bodies
    assert "Dewi Lestari" in set(db.session.execute(db.select(Customer.display_name)).scalars())
    assert NUL not in "".join(_all_text())


def test_uploads_lose_the_nul_in_their_text_and_their_name(staff_client, import_upload):
    chat = ("13/03/26 09.15 - Rina: Halo kak\x00, gamis ready?\n"
            "13/03/26 09.21 - Toko Batik Sari: Ready\x00 kak\n").encode()
    response = import_upload(staff_client, chat, "WhatsApp Chat with Ri\x00na.txt", shop="Toko Batik Sari")
    assert response.status_code == 200 and "Imported 2 messages" in response.get_data(as_text=True)
    assert set(db.session.execute(db.select(Message.body)).scalars()) == {"Halo kak, gamis ready?", "Ready kak"}
    assert NUL not in "".join(_all_text())


def test_json_exports_with_escaped_nul_and_broken_emoji_import(runner, tmp_path):
    export = {"name": "Dewi\u0000 Lestari", "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "message", "date": "2026-05-09T10:00:00", "date_unixtime": "1778295600",
         "from": "Dewi\u0000 Lestari", "from_id": "user1", "text": "Permisi kak\u0000, tas \ud83d ada?",
         "text_entities": []},
        {"id": 2, "type": "message", "date": "2026-05-09T10:05:00", "date_unixtime": "1778295900",
         "from": "Bu Ani", "from_id": "user2", "text": "Ada kak", "text_entities": []}]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export))  # json.dumps writes \u0000 and \ud83d as escapes
    result = runner.invoke(args=["import-chat", str(path), "--me", "Bu Ani", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["messages_imported"] == 2
    assert "Permisi kak, tas \ufffd ada?" in set(db.session.execute(db.select(Message.body)).scalars())
    assert db.session.execute(db.select(Customer.display_name)).scalar_one() == "Dewi Lestari"


def test_command_line_text_is_cleaned_too(runner, tmp_path):
    path = tmp_path / "chat.txt"
    path.write_bytes(b"02/03/26 09.15 - Rina: Halo\x00 kak\n02/03/26 09.16 - Toko: Ya kak\n")
    # A name from argv that is not UTF-8 arrives as a lone surrogate (Python's surrogateescape).
    result = runner.invoke(args=["import-chat", str(path), "--me", "Toko", "--customer", "Rina \udcff"])
    assert result.exit_code == 0, result.output
    assert db.session.execute(db.select(Customer.display_name)).scalar_one() == "Rina \ufffd"
    assert set(db.session.execute(db.select(Message.body)).scalars()) == {"Halo kak", "Ya kak"}


def test_a_json_body_is_cleaned_as_it_is_read(app):
    with app.test_request_context("/", method="POST", data='{"name": "Ri\\u0000na", "x": ["\\ud83d"]}',
                                  content_type="application/json"):
        assert request.get_json() == {"name": "Rina", "x": ["\ufffd"]}
