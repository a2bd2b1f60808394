"""Whatever comes in, an importer returns a chat that reads to the end, or a ParseError: nothing else."""
import io
import json
import os
import zipfile

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crm.importers import FORMATS, ParseError, parse_file, parse_text

# FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the suite quick.
fuzz = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff\u202f\u00a0"
NASTY = st.sampled_from([
    "\x00", "\r", "\n", "\r\n", "\t", ": ", "<script>alert(1)</script>", "😊🙏✨", "\u2028", "مرحبا", "Ã©",
    "<Media omitted>", "Pesan ini telah dihapus", "\u200e<attached: x.jpg>", '"', "[LINE]", "https://x.id",
    "{", "}", "[", "]", "PK\x03\x04",
]) | st.sampled_from(list(MARKS))

numbers = st.integers(0, 99).map(str) | st.sampled_from(["31", "02", "13", "99", "2026", "0000", "9999"])
almost_header = st.builds(
    lambda a, b, c, h, m, sep, ampm, name, body, shape: shape.format(
        d=f"{a}{sep}{b}{sep}{c}", t=f"{h}.{m}{ampm}", name=name, body=body),
    numbers, numbers, numbers, numbers, numbers, st.sampled_from("/.-"),
    st.sampled_from(["", " AM", "\u202fPM", "\u00a0pm"]),
    st.text(max_size=12), st.text(max_size=30),
    st.sampled_from(["{d} {t} - {name}: {body}", "[{d}, {t}] {name}: {body}", "[{t}, {d}] {name}: {body}",
                     "{d}, {t} - {body}", "\u200e[{d} {t}] {name}: \u200e{body}", "{t}\t{name}\t{body}",
                     "{d}(Sab)", "Sat, {d}", "{name}: {body}"]),
)
huge_line = st.builds(lambda char, size: char * size, st.sampled_from(["a", "9", ":", "[", "😊", " "]),
                      st.integers(1_000, 200_000))
hostile_line = almost_header | st.text(max_size=40) | NASTY | huge_line
hostile_text = st.lists(hostile_line, max_size=25).map("\n".join)


def reads_to_the_end_or_refuses(call):
    try:
        result = call()
    except ParseError as err:
        assert str(err)
        event("refused")
        return
    event("read")
    for chat in result if isinstance(result, list) else [result]:
        assert chat.format in FORMATS
        messages = list(chat.messages())
        assert len(messages) == chat.message_count
        assert chat.authors == list(dict.fromkeys(m.author for m in messages))
        assert list(chat.messages()) == messages


@fuzz
@given(st.text(), st.sampled_from(("auto",) + FORMATS))
def test_random_text(text, format):
    reads_to_the_end_or_refuses(lambda: parse_text(text, format=format))


@fuzz
@given(hostile_text, st.sampled_from(("auto", "whatsapp", "line", "plain")))
def test_hostile_text(text, format):
    reads_to_the_end_or_refuses(lambda: parse_text(text, format=format))


@fuzz
@given(st.binary(max_size=2000), st.sampled_from([None, "x.txt", "result.json", "message_1.json", "x.zip",
                                                  "instagram/message_1.json", "x.html"]))
def test_random_bytes(data, name):
    reads_to_the_end_or_refuses(lambda: parse_file(io.BytesIO(data), name=name))


@fuzz
@given(hostile_text, st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "latin-1"]))
def test_hostile_text_as_file_bytes(text, encoding):
    data = text.encode(encoding, errors="replace")
    reads_to_the_end_or_refuses(lambda: parse_file(io.BytesIO(data), name="WhatsApp Chat - x.txt"))


json_keys = st.sampled_from([
    "messages", "chats", "list", "type", "date", "from", "text", "photo", "file", "media_type", "name",
    "participants", "sender_name", "timestamp_ms", "content", "photos", "uri", "is_unsent", "call_duration",
    "sticker", "title", "contacts", "phone_number", "first_name", "share", "link", "timestamp", "senderName",
])
json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10)
                | st.sampled_from(["message", "service", "personal_chat", "2026-05-09T10:00:00"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(json_keys, inner, max_size=5), max_leaves=30)


export_messages = st.lists(st.dictionaries(json_keys, json_values, max_size=7) | json_values, max_size=6)
export_like = (
    st.dictionaries(json_keys, json_values, max_size=6)
    | st.fixed_dictionaries({"messages": export_messages},
                            optional={"participants": json_values, "name": json_values, "type": json_values,
                                      "title": json_values, "contacts": json_values})
    | st.fixed_dictionaries({"chats": st.fixed_dictionaries({"list": st.lists(
        st.fixed_dictionaries({"type": st.just("personal_chat") | json_values, "messages": export_messages},
                              optional={"name": json_values}), max_size=3)})}, optional={"contacts": json_values})
)


@fuzz
@given(export_like, st.sampled_from(["auto", "telegram", "messenger"]))
def test_json_shaped_like_exports(data, format):
    text = json.dumps(data)
    reads_to_the_end_or_refuses(lambda: parse_text(text, format=format, source="result.json"))


@fuzz
@given(st.dictionaries(st.sampled_from(["_chat.txt", "a.txt", "b/message_1.json", "c.jpg", "d.zip", "e.json"]),
                       st.binary(max_size=300) | hostile_text.map(str.encode), max_size=4))
def test_random_zips(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    reads_to_the_end_or_refuses(lambda: parse_file(io.BytesIO(buffer.getvalue()), name="x.zip"))


copy_header = st.builds(
    lambda name, a, b, c, h, m, sep, ampm: f"{name}, [{a}{sep}{b}{sep}{c} {h}:{m}{ampm}]",
    st.text(max_size=10), numbers, numbers, numbers, numbers, numbers, st.sampled_from("/.-"),
    st.sampled_from(["", " AM", " PM"]))
line_pc = st.builds(lambda h, m, words: f"{h}:{m} {words}", numbers, numbers, st.text(max_size=20))
hostile_copy = st.lists(copy_header | line_pc | hostile_line | st.sampled_from(["2017.09.02 Saturday", ""]),
                        max_size=25).map("\n".join)


@fuzz
@given(hostile_copy, st.sampled_from(("auto", "telegram_copy", "line", "plain")))
def test_hostile_telegram_copies_and_line_pc_exports(text, format):
    reads_to_the_end_or_refuses(lambda: parse_text(text, format=format))


@fuzz
@given(hostile_text, st.sampled_from(FORMATS), st.booleans(), st.sampled_from([None, True, False]))
def test_every_reading_option_reads_to_the_end_or_refuses(text, format, prefer_day_first, day_first):
    reads_to_the_end_or_refuses(lambda: parse_text(text, format=format, prefer_day_first=prefer_day_first,
                                                   day_first=day_first, known_names=["Rina", "Toko"]))
