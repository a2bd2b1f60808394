"""What one upload may hold, and memory that stays bounded whatever its shape."""
import io
import json
import tracemalloc
import zipfile

import pytest

from crm.importers import Limits, ParseError, _files, parse_file, parse_text


def zip_bytes(members: dict[str, bytes | str], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CHAT = "[02/03/26, 09.30.00] Rina: halo kak\n[02/03/26, 09.31.00] Toko Batik Sari: halo\n"


def test_a_zip_with_too_many_members_is_refused():
    data = zip_bytes({"_chat.txt": CHAT, **{f"IMG-{i}.jpg": b"x" for i in range(30)}})
    with pytest.raises(ParseError, match="holds 31 files, more than the 20"):
        parse_file(io.BytesIO(data), name="x.zip", limits=Limits(max_zip_members=20))
    (chat,) = parse_file(io.BytesIO(data), name="x.zip")
    assert chat.message_count == 2


def test_the_central_directory_is_read_once_however_many_members(monkeypatch):
    data = zip_bytes({f"chat-{i}.txt": CHAT for i in range(40)})
    opened = []
    real = zipfile.ZipFile

    def counting(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_files.zipfile, "ZipFile", counting)
    chats = parse_file(io.BytesIO(data), name="chats.zip")
    assert len(chats) == 40
    assert [list(chat.messages())[0].body for chat in chats][:1] == ["halo kak"]
    assert len(opened) == 1


def test_decompressed_bytes_per_upload_are_limited_before_reading():
    data = zip_bytes({"_chat.txt": CHAT + "x" * 5000})
    with pytest.raises(ParseError, match="more than 0 MB of chat text"):
        parse_file(io.BytesIO(data), name="x.zip", limits=Limits(max_upload_bytes=4000))


def test_json_size_is_limited():
    text = json.dumps({"name": "Dewi", "type": "personal_chat", "messages": [
        {"id": i, "type": "message", "date": "2026-05-09T10:00:00", "from": "Dewi", "text": "x" * 100}
        for i in range(50)]})
    with pytest.raises(ParseError, match="larger than 0 MB"):
        parse_file(io.BytesIO(text.encode()), name="result.json", limits=Limits(max_json_bytes=1000))
    with pytest.raises(ParseError, match="larger than 0 MB"):
        parse_text(text, source="result.json", limits=Limits(max_json_bytes=1000))
    assert parse_text(text, source="result.json").message_count == 50


def test_messages_per_upload_are_limited_across_the_chats_of_a_zip():
    members = {f"chat-{i}.txt": CHAT for i in range(3)}
    with pytest.raises(ParseError, match="more than 5 messages"):
        parse_file(io.BytesIO(zip_bytes(members)), name="chats.zip", limits=Limits(max_messages=5))
    assert len(parse_file(io.BytesIO(zip_bytes(members)), name="chats.zip", limits=Limits(max_messages=6))) == 3


@pytest.mark.parametrize("text", [
    "02/03/26 09.30 - Rina: " + "a" * 300 + "\n02/03/26 09.31 - Toko: ok\n",
    "02/03/26 09.30 - Rina: start\n" + ("b" * 50 + "\n") * 10 + "02/03/26 09.31 - Toko: ok\n",
    "Rina: " + "a" * 300 + "\nSaya: ok\n",
    "Rina, [25.06.22 07:25]\n" + "a" * 300 + "\n\nToko, [25.06.22 07:26]\nok\n",
    "[LINE] Chat history with Rina\n\n2026/05/09(Sat)\n10:00\tRina\t" + "a" * 300 + "\n10:01\tToko\tok\n",
])
def test_a_message_longer_than_the_limit_is_cut_with_a_visible_note(text):
    chat = parse_text(text, limits=Limits(max_message_chars=100))
    long, short = list(chat.messages())
    assert long.truncated is True and short.truncated is False
    assert len(long.body) < 200 and "[message cut here: it was longer than 100 characters]" in long.body
    assert short.body == "ok"


def test_a_huge_line_in_a_small_zip_is_never_loaded_whole():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("_chat.txt", "w") as member:
            member.write(b"[02/03/26, 09.30.00] Rina: ")
            block = b"a" * (1 << 20)
            for _ in range(32):
                member.write(block)
            member.write(b"\n[02/03/26, 09.31.00] Toko: ok\n")
    data = buffer.getvalue()
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        (chat,) = parse_file(io.BytesIO(data), name="WhatsApp Chat - Rina.zip")
        long, short = list(chat.messages())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert long.truncated and len(long.body) < 70_000 and short.body == "ok"
    assert peak < 8 * (1 << 20), peak   # 32 MiB of text, never more than a few MiB held


def test_an_android_export_at_the_phones_cap_gets_a_warning():
    lines = "".join(f"02/03/26 {h:02d}.{m:02d} - Rina: pesan {i}\n" for i, (h, m) in
                    enumerate((i // 60 % 24, i % 60) for i in range(39_200)))
    chat = parse_text(lines)
    assert chat.message_count == 39_200
    assert any("the phone may have left out the oldest messages" in w.message for w in chat.warnings)
    assert parse_text(lines[: len(lines) // 2]).warnings == []


def test_an_android_export_with_media_at_ten_thousand_gets_the_warning():
    lines = "".join(f"02/03/26 10.{i % 60:02d} - Rina: IMG-2026030{i % 9}-WA{i:04d}.jpg (file attached)\n"
                    for i in range(9_900))
    chat = parse_text(lines)
    assert any("about 10000 messages" in w.message for w in chat.warnings)
