"""The export classes of issue 12, each from a fixture in tests/fixtures/exports (see its README)."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crm.importers import ParsedChat, ParseError, parse_file, parse_path, parse_text

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
FLAGS = ("deleted", "edited", "view_once", "poll", "location", "contact", "truncated")


def chat_of(name, **options):
    (chat,) = parse_file(EXPORTS / name, **options)
    messages = list(chat.messages())
    assert len(messages) == chat.message_count
    return chat, messages


def flags(message):
    return [flag for flag in FLAGS if getattr(message, flag)]


def test_us_phone_with_every_day_under_13_is_read_month_first_and_says_it_was_a_guess():
    chat, messages = chat_of("whatsapp/android-en-us-days-under-13.txt")
    assert [m.sent_at for m in messages] == [
        datetime(2026, 3, 1, 21, 5), datetime(2026, 3, 1, 21, 7), datetime(2026, 3, 2, 9, 6),
        datetime(2026, 3, 2, 9, 10), datetime(2026, 3, 9, 19, 30)]
    assert (chat.day_first, chat.date_order_ambiguous, chat.date_order_basis) == (False, True, "clock")
    assert chat.authors == ["Budi Santoso", "Admin Sari"] and chat.system_lines_skipped == 1
    assert (chat.is_group, chat.participant_count) == (False, 2)


def test_the_switch_reads_the_same_file_day_first():
    chat, messages = chat_of("whatsapp/android-en-us-days-under-13.txt", day_first=True)
    assert [m.sent_at.date() for m in messages][::2] == [
        datetime(2026, 1, 3).date(), datetime(2026, 2, 3).date(), datetime(2026, 9, 3).date()]
    assert (chat.day_first, chat.date_order_ambiguous, chat.date_order_basis) == (True, True, "forced")


def test_indonesian_group_export_is_read_as_a_group_with_its_members_and_markers():
    chat, messages = chat_of("whatsapp/android-id-group.txt")
    assert chat.is_group is True
    assert chat.authors == ["Toko Batik Sari", "Rina", "Dewi", "Budi"]
    assert chat.participant_count == 5   # Tono joined with the link and never wrote
    assert (chat.message_count, chat.system_lines_skipped) == (6, 4)
    assert (chat.day_first, chat.date_order_ambiguous, chat.date_order_basis) == (True, False, "values")
    assert [(m.line, m.author, m.body, m.attachments, flags(m)) for m in messages] == [
        (5, "Toko Batik Sari", "Selamat datang kak Tono", (), []),
        (6, "Rina", "Katalog baru ada kak?", (), ["edited"]),
        (7, "Toko Batik Sari", "IMG-20260302-WA0003.jpg (file terlampir)\nIni katalognya kak",
         ("IMG-20260302-WA0003.jpg",), []),
        (9, "Dewi", "Pesan ini telah dihapus", (), ["deleted"]),
        (10, "Budi", "<Media tidak disertakan>", ("media",), []),
        (11, "Toko Batik Sari", "Anda menghapus pesan ini", (), ["deleted"]),
    ]
    assert (chat.first, chat.last) == (datetime(2026, 3, 2, 10, 16), datetime(2026, 3, 13, 19, 5))


def test_ios_markers_become_flags_and_the_edit_marker_leaves_the_text():
    chat, messages = chat_of("whatsapp/ios-en-gb-markers.txt")
    assert (chat.is_group, chat.authors, chat.system_lines_skipped) == (False, ["Priya", "Admin Sari"], 2)
    assert (chat.day_first, chat.date_order_ambiguous, chat.date_order_basis) == (True, True, "default")
    assert [(m.line, m.attachments, flags(m)) for m in messages] == [
        (2, (), []),
        (3, (), ["edited"]),
        (4, ("00000012-PHOTO-2026-03-04-14-06-40.jpg",), []),
        (5, ("photo",), []),
        (6, ("photo",), ["view_once"]),
        (7, (), ["deleted"]),
        (8, ("contact",), ["contact"]),
        (9, (), ["location"]),
        (10, (), ["poll"]),
        (15, (), []),
    ]
    assert messages[1].body == "Yes we do, moved to tomorrow"
    assert messages[7].body == "Location: https://maps.google.com/?q=-6.914744,107.609810"
    assert messages[8].body.splitlines() == ["POLL:", "Which colour?", "OPTION: Indigo (1 vote)",
                                             "OPTION: Sogan (0 votes)"]
    assert messages[0].sent_at == datetime(2026, 3, 4, 14, 5, 30)


LOCALES = {
    "dotted-colon-de.txt": True, "ios-dotted-nl.txt": True, "finnish-klo.txt": True, "croatian-spaced.txt": True,
    "korean.txt": None, "japanese.txt": None, "chinese-ios.txt": None, "thai-buddhist-era.txt": True,
}


@pytest.mark.parametrize("name", sorted(LOCALES))
def test_european_and_asian_whatsapp_locales(name):
    chat, messages = chat_of(f"whatsapp/{name}")
    assert chat.format == "whatsapp" and chat.warnings == []
    assert [(m.author, m.body) for m in messages] == [
        ("Rina", "Halo kak, gamis parang ada?"), ("Toko Batik Sari", "Ada kak, ukuran M dan L"),
        ("Rina", "L satu ya"), ("Toko Batik Sari", "Siap kak")]
    assert [m.sent_at.replace(second=0) for m in messages] == [
        datetime(2018, 6, 13, 21, 25), datetime(2018, 6, 13, 21, 26), datetime(2018, 6, 14, 8, 1),
        datetime(2018, 6, 14, 8, 3)]
    assert chat.day_first is LOCALES[name]
    assert chat.date_order_ambiguous is False


def test_spanish_p_m_with_days_under_13_follows_the_shops_preference():
    chat, messages = chat_of("whatsapp/spanish-p-m.txt")
    assert messages[0].sent_at == datetime(2018, 6, 3, 21, 25) and messages[3].sent_at == datetime(2018, 6, 4, 8, 3)
    assert (chat.day_first, chat.date_order_ambiguous, chat.date_order_basis) == (True, True, "default")
    chat, messages = chat_of("whatsapp/spanish-p-m.txt", prefer_day_first=False)
    assert messages[0].sent_at == datetime(2018, 3, 6, 21, 25)


def test_unreadable_headers_are_reported_with_their_lines_and_never_glued():
    chat, messages = chat_of("whatsapp/unreadable-headers.txt")
    assert [(m.line, m.body) for m in messages] == [(1, "Harganya berapa kak?"), (5, "Satu 185rb, dua 350rb")]
    assert [w.line for w in chat.warnings] == [2, 3]
    assert all("cannot be read" in w.message for w in chat.warnings)
    assert chat.system_lines_skipped == 2


def test_signal_export_is_refused_as_not_whatsapp():
    with pytest.raises(ParseError, match="Signal export, not a WhatsApp export"):
        parse_file(EXPORTS / "signal/chat.md")
    with pytest.raises(ParseError, match="Signal export"):
        parse_file(EXPORTS / "signal/chat.md", format="whatsapp")


def test_telegram_desktop_copied_text_is_its_own_format():
    chat, messages = chat_of("telegram/copied-desktop-id.txt")
    assert (chat.format, chat.channel, chat.authors) == ("telegram_copy", "telegram", ["Rina Wati", "Kerajinan Bu Ani"])
    assert [(m.line, m.sent_at, m.body) for m in messages] == [
        (1, datetime(2022, 6, 25, 7, 25), "Halo kak, tas rotan masih ada?"),
        (4, datetime(2022, 6, 25, 7, 26), "Masih kak\nTinggal 2 ya"),
        (8, datetime(2022, 6, 25, 7, 30), "Oke saya ambil 1"),
        (11, datetime(2022, 7, 1, 10, 2), "Sudah dikirim kak: JNE 0123456789"),
    ]
    assert (chat.day_first, chat.date_order_basis) == (True, "values")


def test_telegram_copied_text_from_a_us_computer_and_the_one_line_form():
    chat, messages = chat_of("telegram/copied-us-english.txt")
    assert [(m.sent_at, m.author, m.body) for m in messages] == [
        (datetime(2022, 6, 3, 19, 25), "Dewi Lestari", "Hi, is the rattan bag available?"),
        (datetime(2022, 6, 3, 19, 40), "Kerajinan Bu Ani", "Yes!"),
        (datetime(2022, 6, 4, 9, 2), "Dewi Lestari", "Great, ordering now"),
    ]
    assert (chat.day_first, chat.date_order_ambiguous, chat.date_order_basis) == (False, True, "clock")


def test_a_telegram_copy_is_never_read_as_a_plain_paste():
    chat = parse_text("Rina, [25.06.22 07:25]\nHalo\n\nToko, [25.06.22 07:26]\nya\n\nRina, [25.06.22 07:27]\nok\n")
    assert chat.format == "telegram_copy" and chat.authors == ["Rina", "Toko"] and chat.message_count == 3


def test_telegram_supergroup_is_flagged_with_its_members():
    chat, messages = chat_of("telegram/group-result.json")
    assert (chat.is_group, chat.participant_count, chat.authors) == (True, 3, ["Kerajinan Bu Ani", "Dewi", "Rina"])
    assert (chat.message_count, chat.system_lines_skipped) == (3, 2)
    assert messages[2].body == "Harga reseller berapa?"


def test_telegram_account_export_counts_the_groups_it_leaves_out_and_uses_unix_times():
    chats = parse_file(EXPORTS / "telegram/account-result.json")
    assert [chat.title for chat in chats] == ["Dewi Lestari"]
    chat = chats[0]
    assert chat.account_groups_skipped == 2 and chat.is_group is False
    messages = list(chat.messages())
    assert [(m.line, m.sent_at, flags(m), m.attachments) for m in messages] == [
        (1, datetime(2026, 5, 9, 10, 0), [], ()),
        (2, datetime(2026, 5, 9, 10, 4), ["edited"], ()),
        (3, datetime(2026, 5, 9, 3, 10, tzinfo=timezone.utc), [], ()),   # only date_unixtime
        (5, datetime(2026, 5, 9, 10, 12), ["location"], ("location",)),
        (6, datetime(2026, 5, 9, 10, 13), ["poll"], ("poll",)),
        (7, datetime(2026, 5, 9, 10, 14), ["contact"], ("contact",)),
    ]
    assert [w.line for w in chat.warnings] == [4] and "no readable date" in chat.warnings[0].message
    assert chat.handles == {"Dewi Lestari": "+62 812 3456 7890"}

    with_groups = parse_file(EXPORTS / "telegram/account-result.json", include_groups=True)
    assert [(c.title, c.is_group) for c in with_groups] == [
        ("Dewi Lestari", False), ("Reseller Rotan Bu Ani", True), ("Info Promo Bu Ani", True)]
    assert {c.account_groups_skipped for c in with_groups} == {0}


def test_instagram_group_thread_keeps_shared_links_and_drops_reactions():
    (chat,) = parse_path(EXPORTS / "instagram/inbox/resellerbatik_55512/message_1.json")
    assert isinstance(chat, ParsedChat)
    messages = list(chat.messages())
    assert (chat.format, chat.is_group, chat.participant_count, chat.title) == ("instagram", True, 3, "Reseller Batik")
    assert (chat.message_count, chat.system_lines_skipped) == (3, 1)
    assert [(m.author, m.body) for m in messages] == [
        ("Toko Batik Sari ✨", "Halo kak 😊"),
        ("Dewi", "Yang ini ready kak?\nhttps://www.instagram.com/reel/D00d/"),
        ("Rina", "https://www.instagram.com/p/C0ffee123/"),
    ]


def test_messenger_shared_post_keeps_its_link_and_a_reaction_is_no_message():
    (chat,) = parse_path(EXPORTS / "messenger/inbox/dewilestari_777/message_1.json")
    messages = list(chat.messages())
    assert (chat.format, chat.is_group, chat.participant_count) == ("messenger", False, 2)
    assert [m.body for m in messages] == ["Ada foto tas rotannya?", "Ini kak",
                                          "https://www.facebook.com/tokorotan/posts/12345"]
    assert chat.system_lines_skipped == 1 and messages[1].attachments == ("123_456.jpg",)


def test_line_pc_export_with_spaces_learns_multi_word_names_and_reads_24_hour_past_midnight():
    chat, messages = chat_of("line/pc-save-chat.txt")
    assert chat.authors == ["Dewi Lestari", "Kerajinan Bu Ani"] and chat.warnings == []
    assert [(m.line, m.sent_at, m.author, m.body, m.attachments) for m in messages] == [
        (2, datetime(2017, 9, 2, 16, 23), "Dewi Lestari", "Halo kak, tas rotan masih ada?\nYang warna coklat", ()),
        (4, datetime(2017, 9, 2, 16, 25), "Kerajinan Bu Ani", "Masih kak", ()),
        (5, datetime(2017, 9, 2, 16, 26), "Kerajinan Bu Ani", "Photos", ("photo",)),
        (6, datetime(2017, 9, 2, 23, 58), "Dewi Lestari", "Oke besok transfer", ()),
        (7, datetime(2017, 9, 3, 0, 10), "Dewi Lestari", "Eh sekarang aja", ()),
        (9, datetime(2017, 9, 3, 9, 0), "Kerajinan Bu Ani", "Sudah diterima kak, terima kasih", ()),
    ]


def test_line_pc_known_names_win_over_learned_ones():
    text = "2017.09.02 Saturday\n16:23 Bob Sanders Hi\n16:24 Alice ok\n"
    chat = parse_text(text, known_names=["Bob Sanders"])
    assert chat.authors == ["Bob Sanders", "Alice"]
    assert parse_text(text).authors == ["Bob", "Alice"]


def test_line_group_export_and_an_unreadable_date_line_is_reported():
    chat, messages = chat_of("line/group-en.txt")
    assert (chat.is_group, chat.title, chat.authors) == (True, "Reseller Rotan", ["Kerajinan Bu Ani", "Dewi", "Rina",
                                                                                  "Budi"])
    assert (chat.message_count, chat.system_lines_skipped) == (5, 2)
    assert [w.line for w in chat.warnings] == [11]
    assert messages[3].body == "Two lines\nin one message" and messages[4].sent_at == datetime(2026, 5, 9, 10, 5)


def test_line_dotted_date_headers_24_53_and_a_message_before_any_date():
    chat, messages = chat_of("line/dated-headers-id.txt")
    assert [(m.line, m.sent_at) for m in messages] == [
        (6, datetime(2026, 5, 9, 23, 59)), (7, datetime(2026, 5, 10, 0, 53)), (9, datetime(2026, 5, 10, 8, 0))]
    assert [w.line for w in chat.warnings] == [4] and "no readable date" in chat.warnings[0].message
    assert messages[2].attachments == ("sticker",)
    assert chat.is_group is False


def test_line_thai_buddhist_era_years():
    chat, messages = chat_of("line/thai-buddhist-era.txt")
    assert [m.sent_at for m in messages] == [datetime(2026, 5, 9, 10, 0), datetime(2026, 5, 9, 10, 1)]


def test_order_form_keys_stay_inside_the_message():
    chat, messages = chat_of("plain/order-form-id.txt")
    assert chat.authors == ["Rina", "Saya"]
    assert [(m.line, m.author) for m in messages] == [(1, "Rina"), (14, "Saya"), (15, "Rina"), (16, "Saya")]
    assert messages[0].body.splitlines()[1:4] == [
        "Nama: Rina Wati", "Alamat: Jl. Melati No. 5, RT 02/RW 03", "No HP/WA: 0812-3456-7890"]
    assert messages[0].body.endswith("Pembayaran: Transfer BCA")


def test_an_order_form_alone_or_a_paste_with_no_recurring_name_is_refused():
    with pytest.raises(ParseError, match="does not look like a chat export Obrolan knows"):
        parse_file(EXPORTS / "plain/order-form-en.txt")
    with pytest.raises(ParseError, match="no name recurs") as caught:
        parse_file(EXPORTS / "plain/no-recurring-name.txt")
    assert caught.value.line == 1


def test_a_known_name_counts_as_a_speaker_the_first_time():
    chat = parse_text("Rina: halo kak\nBudi Toko: hai kak\n", format="plain", known_names=["Budi Toko"])
    assert chat.authors == ["Rina", "Budi Toko"]
    with pytest.raises(ParseError, match="no name recurs"):
        parse_text("Rina: halo kak\nBudi Toko: hai kak\n", format="plain")


def test_a_date_in_a_name_position_is_no_speaker():
    with pytest.raises(ParseError):
        parse_text("13. 6. 2018. 21: halo\n13. 6. 2018. 21: lagi\n", format="plain")
