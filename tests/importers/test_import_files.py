"""Detection, errors, zips and folders."""
import io
import json
import zipfile

import pytest

from crm.importers import FORMATS, ParsedChat, ParseError, detect, parse_file, parse_path, parse_text

ANDROID_EN = (
    "23/11/2026, 10:15 - Messages and calls are end-to-end encrypted. Tap to learn more.\n"
    "23/11/2026, 10:15 - Rina: Hi, is the batik available?\n"
    "23/11/2026, 10:16 - Toko Batik Sari: IMG-20261123-WA0001.jpg (file attached)\n"
    "Yes, this one\n"
)


def build_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("head, name, expected", [
    ("23/11/26 10.15 - Sari: halo", None, "whatsapp"),
    ("[10.15, 23/11/2026] Sari: halo", None, "whatsapp"),
    ('{"name": "Dewi", "type": "personal_chat", "messages": []}', "result.json", "telegram"),
    ('{"participants": [], "messages": [{"sender_name": "x"}]}', "message_1.json", "messenger"),
    ('{"participants": [], "messages": [{"sender_name": "x"}]}', "instagram-x/inbox/a/message_1.json", "instagram"),
    ("[LINE] Chat history with Dewi", None, "line"),
    ("Saya: halo\nRina: hai", None, "plain"),
])
def test_detect(head, name, expected):
    assert detect(head, name) == expected
    assert expected in FORMATS


def test_detect_names_the_first_line_that_does_not_fit():
    with pytest.raises(ParseError) as caught:
        detect("\n\nthis is a shopping list\nmilk")
    assert str(caught.value).startswith(
        "line 3: this does not look like a chat export Obrolan knows. Obrolan reads: WhatsApp")
    assert "Telegram" in str(caught.value) and "LINE" in str(caught.value) and "Instagram" in str(caught.value)


def test_parse_error_names_source_and_line():
    assert str(ParseError("bad", line=7, source="whatsapp-x.txt")) == "whatsapp-x.txt line 7: bad"
    assert str(ParseError("bad", source="x.txt")) == "x.txt: bad"
    assert str(ParseError("bad")) == "bad"
    with pytest.raises(ParseError, match="^pasted text line 1: this does not look like a chat export Obrolan knows"):
        parse_text("just some words")
    with pytest.raises(ParseError, match="unknown format"):
        parse_text("Rina: hai", format="sms")
    with pytest.raises(ParseError, match="empty"):
        parse_text("\n \n")


def test_zip_export_gives_the_chat_inside_and_ignores_its_media(tmp_path):
    path = build_zip(tmp_path / "WhatsApp Chat with Rina.zip", {
        "WhatsApp Chat with Rina.txt": ANDROID_EN,
        "IMG-20261123-WA0001.jpg": b"\xff\xd8 not a real photo",
        "notes.txt": "a document the customer sent",
    })
    (chat,) = parse_file(path)
    assert (chat.format, chat.title, chat.source) == ("whatsapp", "Rina", "WhatsApp Chat with Rina.zip")
    assert chat.system_lines_skipped == 1
    assert [m.attachments for m in chat.messages()] == [(), ("IMG-20261123-WA0001.jpg",)]
    assert list(chat.messages())[1].body == "IMG-20261123-WA0001.jpg (file attached)\nYes, this one"
    assert [c.title for c in parse_path(path)] == ["Rina"]

    (from_upload,) = parse_file(io.BytesIO(path.read_bytes()), name="WhatsApp Chat with Rina.zip")
    assert list(from_upload.messages()) == list(chat.messages())


def test_zip_without_a_whatsapp_chat_name_reads_every_chat_in_it(tmp_path):
    path = build_zip(tmp_path / "export.zip", {
        "a/chat.txt": ANDROID_EN,
        "b/result.json": json.dumps({"name": "Dewi", "type": "personal_chat", "messages": [
            {"id": 1, "type": "message", "date": "2026-05-09T10:00:00", "from": "Dewi", "text": "halo"}]}),
        "b/photos/p.jpg": b"\xff\xd8",
    })
    results = list(parse_path(path))
    assert [(r.source, r.format) for r in results] == [("export.zip/a/chat.txt", "whatsapp"),
                                                       ("export.zip/b/result.json", "telegram")]


def test_broken_zip_is_a_parse_error(tmp_path):
    path = tmp_path / "WhatsApp Chat - Rina.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ParseError, match="zip cannot be read"):
        parse_file(path)
    assert [type(r) for r in parse_path(path)] == [ParseError]


def test_folder_walk_skips_media_and_reports_other_files(tmp_path):
    (tmp_path / "b-chat.txt").write_text(ANDROID_EN, encoding="utf-8")
    (tmp_path / "a-plain.txt").write_text("Rina: hai\nSaya: halo\n", encoding="utf-8")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "IMG-1.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "media" / "voice.opus").write_bytes(b"OggS")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / "settings.json").write_text('{"theme": "dark"}', encoding="utf-8")
    (tmp_path / "messages.html").write_text("<html></html>", encoding="utf-8")
    results = list(parse_path(tmp_path))
    assert [(type(r).__name__, r.source) for r in results] == [
        ("ParsedChat", "a-plain.txt"), ("ParsedChat", "b-chat.txt"),
        ("ParseError", "messages.html"), ("ParseError", "settings.json")]


def test_missing_paths_and_folders_given_to_parse_file(tmp_path):
    assert [type(r) for r in parse_path(tmp_path / "nope")] == [ParseError]
    with pytest.raises(ParseError, match="parse_path"):
        parse_file(tmp_path)
    with pytest.raises(ParseError, match="no such file"):
        parse_file(tmp_path / "nope.txt")


def test_parse_file_accepts_a_text_mode_file_object():
    (chat,) = parse_file(io.StringIO("Rina: hai\nSaya: halo\n"), name="paste.txt")
    assert isinstance(chat, ParsedChat) and chat.source == "paste.txt"
