"""Every shared sample imports to what EXPECTED.json says."""
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crm.importers import ParsedChat, ParseError, parse_path

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
EXPECTED = json.loads((SAMPLES / "EXPECTED.json").read_text(encoding="utf-8"))
JAKARTA = ZoneInfo("Asia/Jakarta")



def local_minute(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(JAKARTA)
    return moment.strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_imports_as_expected(name):
    expected = EXPECTED[name]
    results = list(parse_path(SAMPLES / name))
    assert [type(result) for result in results] == [ParsedChat], results
    chat = results[0]
    messages = list(chat.messages())
    me = set(expected["me"])

    assert chat.format == expected["format"]
    assert chat.channel == expected["channel"]
    assert chat.message_count == len(messages) == expected["messages"]
    assert chat.system_lines_skipped == expected["system_lines_skipped"]
    assert [author for author in chat.authors if author not in me] == [expected["customer"]]
    assert sum(m.author == expected["customer"] for m in messages) == expected["customer_messages"]
    assert sum(m.author in me for m in messages) == expected["our_messages"]
    if "first" in expected:
        assert local_minute(chat.first) == expected["first"]
        assert local_minute(chat.last) == expected["last"]
        assert local_minute(messages[0].sent_at) == expected["first"]
        assert local_minute(messages[-1].sent_at) == expected["last"]
    else:
        assert chat.first is chat.last is None


def test_walking_the_samples_folder_finds_every_chat_once_and_names_what_is_not_a_chat():
    results = list(parse_path(SAMPLES))
    chats = [r for r in results if isinstance(r, ParsedChat)]
    errors = [r for r in results if isinstance(r, ParseError)]
    assert len(chats) + len(errors) == len(results)
    assert sorted(chat.source for chat in chats) == sorted(
        name.removesuffix("/message_1.json") for name in EXPECTED)
    assert sorted(error.source for error in errors) == ["EXPECTED.json", "README.md"]
    assert [r.source for r in results] == [r.source for r in parse_path(SAMPLES)]


def test_the_zip_gives_its_chat_the_name_in_the_file_name():
    (chat,) = parse_path(SAMPLES / "WhatsApp Chat - Rina.zip")
    assert chat.source == "WhatsApp Chat - Rina.zip"
    assert chat.title == "Rina"
    photo = [m for m in chat.messages() if m.attachments][0]
    assert photo.attachments == ("00000003-PHOTO-2026-03-02-09-22-00.jpg",)


def test_messenger_sample_is_repaired_and_oldest_first():
    (chat,) = parse_path(SAMPLES / "messenger" / "inbox" / "dewilestari_1029384756" / "message_1.json")
    messages = list(chat.messages())
    assert chat.title == "Dewi Lestari"
    assert messages[1].body == "Masih ada kak, tinggal 3 😊"
    assert messages[-1].body.startswith("Sudah kak: SCP0012345678 ✨")
    assert [m.sent_at for m in messages] == sorted(m.sent_at for m in messages)
