"""LINE chat history and plain "Name: text" pastes."""
from datetime import datetime

import pytest

from crm.importers import ParseError, parse_text

LINE_ENGLISH = (
    "[LINE] Chat history with Dewi Lestari\n"
    "Saved on: 5/14/2026, 08:00\n"
    "\n"
    "Sat, 05/09/2026\n"
    "10:00\tDewi Lestari\tHi, is the rattan bag available?\n"
    "10:04\tKerajinan Bu Ani\t[Photo]\n"
    "10:05\tDewi Lestari\t[Sticker]\n"
    "10:06\tDewi Lestari unsent a message.\n"
    "10:07\tDewi Lestari\t\u260e Missed call\n"
    "10:20\tKerajinan Bu Ani\t\"Here are the details\n"
    "\n"
    "tight weave, \"\"vegan\"\" leather\"\n"
    "\n"
    "Wed, 06/05/2026\n"
    "09:00\tDewi Lestari\tThanks!\n"
)


def test_line_english_export():
    chat = parse_text(LINE_ENGLISH, source="[LINE] Chat with Dewi Lestari.txt")
    messages = list(chat.messages())
    assert (chat.format, chat.channel, chat.title) == ("line", "other", "Dewi Lestari")
    assert chat.message_count == 5 and chat.system_lines_skipped == 2
    assert [m.attachments for m in messages] == [(), ("photo",), ("sticker",), (), ()]
    assert messages[3].body == 'Here are the details\n\ntight weave, "vegan" leather'
    assert messages[0].sent_at == datetime(2026, 5, 9, 10, 0)
    # "Wed" fits 6 May, not June 5th (a Friday): the weekday settles the order.
    assert messages[4].sent_at == datetime(2026, 5, 6, 9, 0)
    assert [m.line for m in messages] == [5, 6, 7, 10, 15]


def test_line_indonesian_placeholders():
    chat = parse_text(
        "[LINE] Riwayat obrolan dengan Dewi\nDisimpan pada: 2026/05/14 08:00\n\n2026/05/09(Sab)\n"
        "10:00\tDewi\t[Foto]\n10:01\tDewi\t[Stiker]\n"
    )
    assert chat.title == "Dewi"
    assert [m.attachments for m in chat.messages()] == [("photo",), ("sticker",)]


def test_line_garbage_after_the_header_is_refused_naming_the_line():
    with pytest.raises(ParseError) as caught:
        parse_text("[LINE] Chat history with X\nSaved on: today\nthis is not a chat\n", source="line.txt")
    assert str(caught.value).startswith("line.txt line 3:")


def test_plain_with_me_and_continuations():
    chat = parse_text(
        "Rina: Halo kak, ada gamis?\n"
        "ukuran L ya\n"
        "https://shopee.co.id/gamis-parang\n"
        "Me: Ada kak\n"
        "\n"
        "Harga 185rb\n"
        "A name that is far too long to be anybody's name: so this continues\n"
        "10:15 besok ya\n"
        "Saya: Siap\n"
    )
    messages = list(chat.messages())
    assert (chat.format, chat.channel, chat.first, chat.last) == ("plain", "other", None, None)
    assert chat.authors == ["Rina", "Me", "Saya"]
    assert [m.body for m in messages] == [
        "Halo kak, ada gamis?\nukuran L ya\nhttps://shopee.co.id/gamis-parang",
        "Ada kak\n\nHarga 185rb\nA name that is far too long to be anybody's name: so this continues\n10:15 besok ya",
        "Siap",
    ]
    assert [m.sent_at for m in messages] == [None, None, None]
    assert [m.line for m in messages] == [1, 4, 9]


def test_plain_that_does_not_start_with_a_name_is_refused():
    with pytest.raises(ParseError) as caught:
        parse_text("\nhalo semua\nRina: hai\n", format="plain")
    assert caught.value.line == 2


@pytest.mark.parametrize("header, title", [
    ("[LINE] Chat history with Dewi Lestari", "Dewi Lestari"),
    ("[LINE] Riwayat obrolan dengan Dewi Lestari", "Dewi Lestari"),
    ("[LINE] Chat with Dewi", "Dewi"),
    ("[LINE] Chat in Reseller Rotan", "Reseller Rotan"),
])
def test_line_titles(header, title):
    assert parse_text(f"{header}\n\n2026/05/09(Sab)\n10:00\tDewi\thalo\n").title == title
