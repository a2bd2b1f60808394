"""Telegram Desktop, Facebook Messenger and Instagram JSON exports."""
import io
import json
from datetime import datetime, timezone

import pytest

from crm.importers import ParsedChat, ParseError, parse_file, parse_path, parse_text


def telegram_message(id, sender, text, date="2026-05-09T10:00:00", **extra):
    return {"id": id, "type": "message", "date": date, "date_unixtime": "1778295600", "from": sender,
            "from_id": "user1", "text": text, **extra}


def personal_chat(name, messages, type="personal_chat"):
    return {"name": name, "type": type, "id": 1, "messages": messages}


def test_telegram_text_as_a_list_of_entities_is_joined():
    export = personal_chat("Dewi", [telegram_message(1, "Dewi", [
        {"type": "bold", "text": "Ini kak"}, "\ndetailnya ", {"type": "link", "text": "https://toko.id/tas"},
        {"type": "mention", "text": "@dewi"},
    ])])
    chat = parse_text(json.dumps(export))
    assert chat.format == "telegram" and chat.channel == "telegram"
    assert [m.body for m in chat.messages()] == ["Ini kak\ndetailnya https://toko.id/tas@dewi"]


def test_telegram_dates_are_local_time_as_written_not_the_unix_time():
    export = personal_chat("Dewi", [telegram_message(1, "Dewi", "halo", date="2026-05-09T10:00:00")])
    (message,) = parse_text(json.dumps(export)).messages()
    assert message.sent_at == datetime(2026, 5, 9, 10, 0)
    assert message.sent_at.tzinfo is None


def test_telegram_service_messages_are_skipped_and_media_are_attachments():
    export = personal_chat("Dewi", [
        {"id": 0, "type": "service", "date": "2026-05-09T09:59:00", "actor": "Dewi", "action": "phone_call"},
        telegram_message(1, "Dewi", "", photo="photos/photo_1@09-05-2026_10-00-00.jpg", width=800, height=600),
        telegram_message(2, "Dewi", "", photo="(File not included. Change data exporting settings to download.)"),
        telegram_message(3, "Dewi", "", file="stickers/sticker.webp", media_type="sticker", sticker_emoji="😊"),
        telegram_message(4, "Toko", "katalog", file="files/katalog.pdf", mime_type="application/pdf"),
        telegram_message(5, "Dewi", "", file="(File not included.)", media_type="voice_message"),
    ])
    chat = parse_text(json.dumps(export))
    assert chat.system_lines_skipped == 1
    assert [m.attachments for m in chat.messages()] == [
        ("photo_1@09-05-2026_10-00-00.jpg",), ("photo",), ("sticker.webp",), ("katalog.pdf",), ("audio",)]
    assert [m.line for m in chat.messages()] == [2, 3, 4, 5, 6]


def account_export():
    return {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 7, "first_name": "Kerajinan", "last_name": "Bu Ani"},
        "contacts": {"about": "", "list": [
            {"user_id": 1, "first_name": "Dewi", "last_name": "Lestari", "phone_number": "+62 812 1111 2222"}]},
        "chats": {"about": "", "list": [
            personal_chat("Dewi Lestari", [telegram_message(1, "Dewi Lestari", "halo kak"),
                                           telegram_message(2, "Kerajinan Bu Ani", "halo")]),
            personal_chat(None, [telegram_message(1, "Kerajinan Bu Ani", "catatan")], type="saved_messages"),
            personal_chat("Reseller", [telegram_message(1, "Budi", "hai")], type="private_supergroup"),
            personal_chat("Kosong", []),
            personal_chat("Only calls", [{"id": 1, "type": "service", "date": "2026-05-09T10:00:00"}]),
            personal_chat("Budi", [telegram_message(1, "Budi", "mau pesan", date="2026-06-01T08:00:00")]),
        ]},
    }


def test_whole_telegram_account_gives_one_chat_per_personal_chat_with_messages():
    chats = parse_file(io.BytesIO(json.dumps(account_export()).encode()), name="result.json")
    assert [(c.title, c.message_count) for c in chats] == [("Dewi Lestari", 2), ("Budi", 1)]
    assert chats[0].handles == {"Dewi Lestari": "+62 812 1111 2222"}
    assert chats[1].handles == {}
    assert all(c.source == "result.json" for c in chats)


def test_parse_text_refuses_an_account_with_several_chats():
    with pytest.raises(ParseError, match="2 chats"):
        parse_text(json.dumps(account_export()))


def mojibake(text):
    return text.encode("utf-8").decode("latin-1")


def messenger_thread(messages, title="Dewi Lestari"):
    return {"participants": [{"name": mojibake("Dewi Lestari ✨")}, {"name": "Kerajinan Bu Ani"}],
            "messages": messages, "title": mojibake(title), "is_still_participant": True,
            "thread_path": "inbox/dewilestari_1"}


def meta_message(sender, ms, content=None, **extra):
    message = {"sender_name": mojibake(sender), "timestamp_ms": ms, **extra}
    if content is not None:
        message["content"] = mojibake(content)
    return message


def test_messenger_mojibake_is_repaired_everywhere_emoji_included():
    thread = messenger_thread([
        meta_message("Kerajinan Bu Ani", 1778295840000, "Masih ada kak, café 😊🙏"),
        meta_message("Dewi Lestari ✨", 1778295600000, "Permisi kak — ada?"),
    ], title="Dewi ✨ & Toko")
    chat = parse_text(json.dumps(thread), source="message_1.json")
    assert chat.format == "messenger" and chat.channel == "facebook"
    assert chat.title == "Dewi ✨ & Toko"
    assert chat.authors == ["Dewi Lestari ✨", "Kerajinan Bu Ani"]
    assert [m.body for m in chat.messages()] == ["Permisi kak — ada?", "Masih ada kak, café 😊🙏"]
    assert chat.first == datetime(2026, 5, 9, 3, 0, tzinfo=timezone.utc)


def test_messenger_media_unsent_and_calls():
    thread = messenger_thread([
        meta_message("Dewi Lestari", 1778296000000, "Dewi Lestari started a call.", call_duration=42),
        meta_message("Dewi Lestari", 1778295900000, "You are now connected on Messenger"),
        meta_message("Dewi Lestari", 1778295800000, "", is_unsent=True),
        meta_message("Dewi Lestari", 1778295700000, sticker={"uri": "messages/stickers_used/39178562_1.png"}),
        meta_message("Kerajinan Bu Ani", 1778295600000, photos=[
            {"uri": "messages/inbox/dewi_1/photos/111.jpg", "creation_timestamp": 1778295600},
            {"uri": "messages/inbox/dewi_1/photos/112.jpg"}], videos=[{"uri": "x/videos/v.mp4"}],
            audio_files=[{"uri": "x/audio/a.mp4"}], files=[{"uri": "x/files/katalog.pdf"}]),
    ])
    chat = parse_text(json.dumps(thread), format="messenger")
    messages = list(chat.messages())
    assert chat.system_lines_skipped == 2
    assert [m.attachments for m in messages] == [
        ("111.jpg", "112.jpg", "v.mp4", "a.mp4", "katalog.pdf"), ("39178562_1.png",), ()]
    assert [m.deleted for m in messages] == [False, False, True]


def write_thread(folder, number, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"message_{number}.json").write_text(json.dumps(data), encoding="utf-8")


def test_message_files_of_one_thread_merge_oldest_first(tmp_path):
    thread = tmp_path / "facebook" / "messages" / "inbox" / "dewi_1"
    write_thread(thread, 1, messenger_thread([meta_message("Dewi Lestari", 3000, "tiga"),
                                              meta_message("Kerajinan Bu Ani", 2000, "dua")]))
    write_thread(thread, 2, messenger_thread([meta_message("Dewi Lestari", 1000, "satu")]))
    (thread / "photos").mkdir()
    (thread / "photos" / "111.jpg").write_bytes(b"\xff\xd8 not a real photo")
    (chat,) = parse_path(tmp_path)
    assert chat.format == "messenger"
    assert chat.source == "facebook/messages/inbox/dewi_1"
    assert [m.body for m in chat.messages()] == ["satu", "dua", "tiga"]
    assert [m.line for m in chat.messages()] == [1, 2, 1]


def test_instagram_is_told_apart_by_its_path(tmp_path):
    thread = tmp_path / "your_instagram_activity" / "messages" / "inbox" / "dewi.lestari_17"
    write_thread(thread, 1, messenger_thread([meta_message("dewi.lestari", 1000, "halo")]))
    (chat,) = parse_path(thread)
    assert (chat.format, chat.channel, chat.source) == ("instagram", "instagram", "dewi.lestari_17")
    (chat,) = parse_file(thread / "message_1.json")
    assert chat.format == "instagram"
    (chat,) = parse_file(io.BytesIO((thread / "message_1.json").read_bytes()), name="instagram/message_1.json")
    assert chat.format == "instagram"


def test_a_broken_file_in_a_thread_is_reported_and_the_rest_merged(tmp_path):
    write_thread(tmp_path, 1, messenger_thread([meta_message("Dewi Lestari", 2000, "dua")]))
    (tmp_path / "message_2.json").write_text("{not json", encoding="utf-8")
    results = list(parse_path(tmp_path))
    assert [type(r) for r in results] == [ParseError, ParsedChat]
    assert str(results[0]).startswith("message_2.json line 1: this is not valid JSON")


@pytest.mark.parametrize("text", [
    '{"messages": 5}', '{"messages": [1, 2]}', '{"participants": 3, "messages": [{"timestamp_ms": 1e300}]}',
    '{"chats": {"list": [5]}, "personal_information": {}}', '[1, 2, 3]', '{"name": "x"}', "{" * 5000,
])
@pytest.mark.parametrize("format", ["auto", "telegram", "messenger", "instagram"])
def test_hostile_json_is_a_parse_error_or_a_chat(text, format):
    try:
        chat = parse_text(text, source="x.json", format=format)
    except ParseError:
        return
    list(chat.messages())
