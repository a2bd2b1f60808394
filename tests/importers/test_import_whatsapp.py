"""WhatsApp exports and copied messages in the shapes phones actually write."""
import inspect
import io
from datetime import datetime

import pytest

from crm.importers import ParseError, parse_file, parse_text


def read(text, **kwargs):
    chat = parse_text(text, **kwargs)
    messages = list(chat.messages())
    assert len(messages) == chat.message_count
    return chat, messages


def test_month_first_is_decided_by_a_later_date_that_only_works_month_first():
    chat, messages = read(
        "1/2/26, 9:00 AM - Budi: hi, is the batik in stock?\n"
        "1/2/26, 9:05 AM - Sari: yes\n"
        "1/15/26, 10:30 PM - Budi: ordering now\n"
    )
    assert chat.format == "whatsapp"
    assert [m.sent_at for m in messages] == [
        datetime(2026, 1, 2, 9, 0), datetime(2026, 1, 2, 9, 5), datetime(2026, 1, 15, 22, 30)]
    assert (chat.first, chat.last) == (datetime(2026, 1, 2, 9, 0), datetime(2026, 1, 15, 22, 30))


def test_dates_that_fit_both_ways_throughout_are_day_first_as_in_indonesia():
    _, messages = read("01/02/26 09.00 - Rina: halo\n03/04/26 10.00 - Rina: lagi\n")
    assert [m.sent_at.date() for m in messages] == [datetime(2026, 2, 1).date(), datetime(2026, 4, 3).date()]


def test_a_day_over_twelve_anywhere_confirms_day_first():
    _, messages = read("01/02/26 09.00 - Rina: halo\n13/02/26 10.00 - Rina: lagi\n")
    assert messages[0].sent_at == datetime(2026, 2, 1, 9, 0)


@pytest.mark.parametrize("space", ["\u202f", "\u00a0", " ", ""])
def test_twelve_hour_clock_with_any_space_before_the_meridiem(space):
    _, messages = read(
        f"[4/3/26, 9:47:00{space}PM] Budi Santoso: how much?\n"
        f"[4/3/26, 12:05:00{space}AM] Budi Santoso: sorry, late\n"
        f"[4/3/26, 12:30:00{space}pm] Admin Sari: noon\n"
    )
    assert [m.sent_at.time().isoformat() for m in messages] == ["21:47:00", "00:05:00", "12:30:00"]


def test_android_english_twelve_hour_with_narrow_space():
    _, messages = read("4/13/26, 8:05\u202fPM - Budi Santoso: hi\n")
    assert messages[0].sent_at == datetime(2026, 4, 13, 20, 5)


def test_four_digit_years_and_colons():
    _, messages = read("23/11/2026, 10:15 - Sari: Halo kak\n")
    assert messages[0].sent_at == datetime(2026, 11, 23, 10, 15)


def test_copied_messages_time_first_and_date_first():
    _, messages = read(
        "[10.15, 23/11/2026] Sari: Halo kak\n"
        "[23/11/26 10:15:07] Sari: Masih ada?\n"
        "[10:16 PM, 11/23/2026] Sari: dari WhatsApp Web\n"
    )
    assert [m.sent_at for m in messages] == [
        datetime(2026, 11, 23, 10, 15), datetime(2026, 11, 23, 10, 15, 7), datetime(2026, 11, 23, 22, 16)]
    assert [m.body for m in messages] == ["Halo kak", "Masih ada?", "dari WhatsApp Web"]


def test_direction_marks_and_byte_order_mark_are_stripped():
    chat, messages = read(
        "\ufeff\u200e[23/11/26 10:15:07] \u202a+62 812-3456-7890\u202c: \u200fHalo\ufeff kak\u200e\n"
        "[23/11/26 10:16:00] \u200eToko Batik Sari\u200f: \u202bSiap\u202c\n"
    )
    assert chat.authors == ["+62 812-3456-7890", "Toko Batik Sari"]
    assert [m.body for m in messages] == ["Halo kak", "Siap"]
    assert chat.handles == {"+62 812-3456-7890": "+62 812-3456-7890"}


def test_messages_run_over_several_lines_blank_ones_included():
    chat, messages = read(
        "02/03/26 09.30 - Rina: Harganya berapa kak?\n"
        "\n"
        "Kalau ambil 2 ada diskon?\n"
        "02/03/26 09.34 - Toko: Satu 185rb\n"
        "\n"
    )
    assert [m.body for m in messages] == ["Harganya berapa kak?\n\nKalau ambil 2 ada diskon?", "Satu 185rb"]
    assert [m.line for m in messages] == [1, 4]
    assert chat.warnings == []


def test_a_header_whose_date_cannot_be_read_is_reported_and_never_glued_to_the_message_above():
    chat, messages = read(
        "02/03/26 09.30 - Rina: Harganya berapa kak?\n"
        "31/02/26 99.99 - Rina: not a real date or time\n"
        "[02/03/26, 25:61:00] Rina: nor this\n"
        "02/03/26 09.34 - Toko: Satu 185rb\n"
    )
    assert [m.body for m in messages] == ["Harganya berapa kak?", "Satu 185rb"]
    assert [w.line for w in chat.warnings] == [2, 3]
    assert "cannot be read" in str(chat.warnings[0]) and str(chat.warnings[0]).startswith("line 2: ")
    assert chat.system_lines_skipped == 2


def test_crlf_and_lf_mixed_as_ios_writes_them():
    _, messages = read("[02/03/26, 09.30.00] Rina: satu\ndua\r\n[02/03/26, 09.31.00] Rina: tiga\r\n")
    assert [m.body for m in messages] == ["satu\ndua", "tiga"]


SYSTEM_LINES = [
    "02/03/26 09.00 - Pesan dan panggilan terenkripsi secara end-to-end. Tidak seorang pun di luar chat ini.",
    "02/03/26 09.00 - Messages and calls are end-to-end encrypted. No one outside of this chat can read them.",
    "02/03/26 09.01 - Rina membuat grup \"Reseller Batik\"",
    "02/03/26 09.01 - Rina created group \"Reseller Batik\"",
    "02/03/26 09.02 - Rina menambahkan Budi",
    "02/03/26 09.02 - Rina added Budi",
    "02/03/26 09.03 - Budi keluar",
    "02/03/26 09.03 - Budi left",
    "02/03/26 09.04 - Rina changed the group description",
    "02/03/26 09.04 - Rina mengubah subjek dari \"A\" menjadi \"Promo: Lebaran\"",
    "02/03/26 09.04 - Rina changed the subject from \"A\" to \"Promo: Lebaran\"",
    "02/03/26 09.05 - Your security code with Rina changed. Tap to learn more.",
    "02/03/26 09.05 - Kode keamanan Anda dengan Rina telah berubah. Ketuk untuk info selengkapnya.",
    "[02/03/26, 09.06.00] Rina: \u200eMissed voice call",
    "[02/03/26, 09.06.00] Rina: \u200ePanggilan suara tak terjawab",
    "[02/03/26, 09.06.00] Rina: \u200eMissed video call, \u200eTap to call back",
    "[02/03/26, 09.07.00] Reseller Batik: \u200eRina added Budi",
    "[02/03/26, 09.07.00] Reseller Batik: \u200eRina menambahkan Budi",
    "[02/03/26, 09.08.00] Budi Santoso: \u200eMessages and calls are end-to-end encrypted. Tap to learn more.",
]


@pytest.mark.parametrize("line", SYSTEM_LINES)
def test_notices_are_skipped_not_messages(line):
    chat, messages = read(f"{line}\n02/03/26 10.00 - Rina: Halo kak\n")
    assert chat.system_lines_skipped == 1
    assert [(m.author, m.body) for m in messages] == [("Rina", "Halo kak")]


def test_plain_talk_about_calls_and_joining_stays_a_message():
    _, messages = read(
        "02/03/26 10.00 - Rina: Missed video call tadi kak, aku telepon lagi ya\n"
        "02/03/26 10.01 - Rina: Aku sudah added kakak di grup\n"
    )
    assert len(messages) == 2


@pytest.mark.parametrize("body", [
    "This message was deleted", "Pesan ini telah dihapus", "You deleted this message", "Anda menghapus pesan ini",
    "\u200eThis message was deleted.", "\u200eYou deleted this message.",
])
def test_deleted_messages_are_messages_marked_deleted(body):
    chat, messages = read(f"[02/03/26, 09.40.00] Rina: {body}\n")
    assert chat.message_count == 1 and chat.system_lines_skipped == 0
    assert messages[0].deleted is True


@pytest.mark.parametrize("body, attachments", [
    ("<Media omitted>", ("media",)),
    ("<Media tidak disertakan>", ("media",)),
    ("\u200e<attached: 00000012-PHOTO-2026-11-23.jpg>", ("00000012-PHOTO-2026-11-23.jpg",)),
    ("\u200e<terlampir: 00000013-PHOTO-2026-11-23.jpg>", ("00000013-PHOTO-2026-11-23.jpg",)),
    ("gambar tidak disertakan", ("photo",)),
    ("\u200eimage omitted", ("photo",)),
    ("video omitted", ("video",)),
    ("video tidak disertakan", ("video",)),
    ("sticker omitted", ("sticker",)),
    ("stiker tidak disertakan", ("sticker",)),
    ("audio omitted", ("audio",)),
    ("GIF omitted", ("gif",)),
    ("document omitted", ("document",)),
    ("dokumen tidak disertakan", ("document",)),
    ("Katalog.pdf \u2022 \u200e3 halaman \u200edokumen tidak disertakan", ("document",)),
    ("IMG-20261123-WA0001.jpg (file attached)", ("IMG-20261123-WA0001.jpg",)),
    ("IMG-20261123-WA0001.jpg (file terlampir)\nini fotonya kak", ("IMG-20261123-WA0001.jpg",)),
])
def test_media_placeholders_become_attachments_and_keep_their_text(body, attachments):
    _, messages = read(f"[23/11/26, 10.15.00] Rina: {body}\n")
    assert messages[0].attachments == attachments
    assert messages[0].body == body.replace("\u200e", "")
    assert messages[0].deleted is False


def test_lines_above_the_first_timestamp_are_counted_as_skipped():
    chat, messages = read("...tail of a message cut by the copy\n02/03/26 10.00 - Rina: Halo kak\n")
    assert chat.system_lines_skipped == 1
    assert [m.line for m in messages] == [2]


def test_title_and_phone_handle_from_the_export_file_name():
    text = "23/11/26 10.15 - +62 812-3456-7890: Halo kak\n23/11/26 10.16 - Toko Batik Sari: Halo\n"
    (chat,) = parse_file(io.BytesIO(text.encode()), name="WhatsApp Chat with +62 812-3456-7890.txt")
    assert chat.title == "+62 812-3456-7890"
    assert chat.source == "WhatsApp Chat with +62 812-3456-7890.txt"
    assert chat.handles == {"+62 812-3456-7890": "+62 812-3456-7890"}
    (chat,) = parse_file(io.BytesIO(text.encode()), name="Chat WhatsApp dengan Rina.txt")
    assert chat.title == "Rina"


def test_messages_can_be_read_again_and_come_from_the_file(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("02/03/26 10.00 - Rina: satu\n02/03/26 10.01 - Toko: dua\n", encoding="utf-8")
    (chat,) = parse_file(path)
    assert inspect.isgenerator(chat.messages())
    assert list(chat.messages()) == list(chat.messages())
    path.write_text("02/03/26 10.00 - Rina: satu diubah\n02/03/26 10.01 - Toko: dua\n", encoding="utf-8")
    assert next(chat.messages()).body == "satu diubah"


def test_text_with_no_timestamp_is_refused_naming_the_line():
    with pytest.raises(ParseError) as caught:
        parse_text("\nhalo kak\n", format="whatsapp", source="whatsapp-x.txt")
    assert caught.value.line == 2
    assert str(caught.value) == "whatsapp-x.txt line 2: no date and time at the start of the line"


def test_utf16_export_with_bom_is_read(tmp_path):
    path = tmp_path / "WhatsApp Chat - Rina.txt"
    path.write_bytes("02/03/26 10.00 - Rina: Halo 😊\n".encode("utf-16"))
    (chat,) = parse_file(path)
    assert [m.body for m in chat.messages()] == ["Halo 😊"]
    assert chat.title == "Rina"
