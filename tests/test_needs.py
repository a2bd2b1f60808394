import re
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crm.needs.matching import (
    EXCERPT_WIDTH,
    PREFIXES_4,
    STARTER_TAGS,
    SUFFIXES_2,
    SUFFIXES_3,
    WORD_MAX,
    Match,
    Rule,
    compile_rules,
    normalise,
    parse_keywords,
    tokenise,
)

STARTER = compile_rules(Rule(t.name, t.keywords) for t in STARTER_TAGS)


def tags_of(*messages: str) -> dict[str, Match]:
    return STARTER.first_matches(list(messages))


def why(*messages: str) -> dict[str, tuple[str, str]]:
    """tag -> (keyword, word): what a tag's reason shows."""
    return {tag: (m.keyword, m.word) for tag, m in tags_of(*messages).items()}


# --- the starter set -------------------------------------------------------------------------------

def test_starter_tags_are_well_formed():
    names = [t.name for t in STARTER_TAGS]
    assert names == ["price", "product", "order", "shipping", "complaint", "reseller"]
    for tag in STARTER_TAGS:
        assert re.fullmatch(r"#[0-9a-f]{6}", tag.colour)
        assert tag.kind == "need"
        assert tag.title_en and tag.title_id
        assert len(set(tag.keywords)) == len(tag.keywords)
    assert len({t.colour for t in STARTER_TAGS}) == len(STARTER_TAGS)


def test_starter_keywords_are_stored_normalised_and_each_matches_itself():
    seen: dict[str, str] = {}
    for tag in STARTER_TAGS:
        for keyword in tag.keywords:
            assert parse_keywords(keyword) == (keyword,)
            assert keyword not in seen, f"{keyword!r} is in {seen.get(keyword)} and {tag.name}"
            seen[keyword] = tag.name
            assert tag.name in tags_of(keyword), keyword
            assert tag.name in tags_of(f"Kak, {keyword.upper()}?"), keyword


# --- the cases from the issue ------------------------------------------------------------------------

def test_gamis_question_tags_price_product_and_shipping_with_reasons():
    message = "Kak, harga gamis ukuran L berapa? bisa COD ke Bandung?"
    found = tags_of(message)
    assert list(found) == ["price", "product", "shipping"]
    assert found["price"] == Match("price", "harga", "harga", 0, message)
    assert (found["product"].keyword, found["product"].word) == ("ukuran", "ukuran")
    assert (found["shipping"].keyword, found["shipping"].word) == ("cod", "COD")


def test_suffix_nya_and_short_form():
    assert why("Harganya brp?") == {"price": ("harga", "Harganya")}
    assert why("brp kak?") == {"price": ("brp", "brp")}


@pytest.mark.parametrize("message, tag, keyword", [
    ("berapakah?", "price", "berapa"),
    ("tolong kirimin ya", "shipping", "kirim"),
    ("kirimkan hari ini bisa?", "shipping", "kirim"),
    ("ini ukurannya pas?", "product", "ukuran"),
    ("bayarlah nanti", "order", "bayar"),
    ("stoknya masih?", "product", "stok"),
    ("udah tfnya kak", "order", "tf"),
    ("resinya mana", "shipping", "resi"),
    ("ukuranku M", "product", "ukuran"),
    ("dikirim kapan kak?", "shipping", "kirim"),
    ("sudah terkirim?", "shipping", "kirim"),
    ("sudah ditransfer ya", "order", "transfer"),
    ("dikirimin besok ya", "shipping", "kirim"),
    ("hargaaa", "price", "harga"),
    ("brpp kak", "price", "brp"),
    ("harganyaaa??", "price", "harga"),
    ("readyyy?", "product", "ready"),
])
def test_indonesian_word_forms(message, tag, keyword):
    found = tags_of(message)
    assert found[tag].keyword == keyword
    assert found[tag].word in message


@pytest.mark.parametrize("message", [
    "sharga", "border", "masalah", "sekolah", "kalah", "poin", "coin", "kain", "main", "lain",
    "ingin", "kemarin", "admin", "login", "makan", "ikan", "bukan", "already", "diskusi",
    "terima kasih kak", "halo kak, selamat pagi", "oke siap, mantap", "hati-hati di jalan",
    "ditunggu ya", "kerja", "pool", "too", "dress", "coo", "poo", "wall", "will", "sell",
    "apapun", "telah", "sebelah", "ketemu", "jamu", "buku", "saku", "laku",
])
def test_everyday_words_tag_nothing(message):
    assert tags_of(message) == {}


def test_whole_words_only():
    assert "price" in tags_of("harganya")
    assert "price" not in tags_of("sharga")
    assert "order" in tags_of("order")
    assert "order" not in tags_of("border")
    assert "order" not in tags_of("recorder")


def test_accents_and_case_and_fullwidth():
    assert why("prÍce?") == {"price": ("price", "prÍce")}
    assert why("PRICE") == {"price": ("price", "PRICE")}
    assert why("ｈａｒｇａ") == {"price": ("harga", "ｈａｒｇａ")}
    decomposed = "pri\u0301ce"  # combining acute accent, as some keyboards send it
    assert why(decomposed) == {"price": ("price", decomposed)}


def test_reduplication_counts_as_the_base_word():
    assert tokenise("saya pikir2 dulu") == ["saya", "pikir", "dulu"]
    assert tokenise("pikir-pikir dulu, lihat2") == ["pikir", "dulu", "lihat"]
    assert tokenise("baju-bajunya") == ["baju", "bajunya"]
    assert tokenise("ps2 size22") == ["ps", "2", "size", "22"]  # a 2 after short words is a number
    hesitant = compile_rules([Rule("hesitant", ("pikir", "lihat dulu"))])
    for message, word in [("saya pikir2 dulu", "pikir2"), ("pikir-pikir dulu", "pikir-pikir"),
                          ("Pikir pikir", "Pikir")]:
        assert hesitant.first_matches([message])["hesitant"].word == word
    assert hesitant.first_matches(["lihat2 dulu kak"])["hesitant"].keyword == "lihat dulu"


def test_numbers_glued_to_words():
    assert tokenise("185rb") == ["185", "rb"]
    assert tokenise("uk38") == ["uk", "38"]
    assert why("uk38 ada?") == {"product": ("uk", "uk")}  # the word is the letters, not the size


@pytest.mark.parametrize("message, word", [
    ("pakai J&T ya", "J&T"), ("j&t aja", "j&t"), ("jnt aja", "jnt"), ("J & T bisa?", "J & T"),
])
def test_j_and_t(message, word):
    assert tags_of(message)["shipping"].word == word


def test_ampersand_between_words_still_splits_them():
    assert tokenise("hrg&ongkir") == ["hrg", "ongkir"]
    assert set(tags_of("hrg&ongkir?")) == {"price", "shipping"}


def test_multi_word_rules():
    found = tags_of("kak ini salah kirim")
    assert (found["complaint"].keyword, found["complaint"].word) == ("salah kirim", "salah kirim")
    assert "complaint" not in tags_of("maaf salah ketik")
    assert "complaint" not in tags_of("salah")
    spread = tags_of("Salah\n  kirim nih")
    assert spread["complaint"].word == "Salah\n  kirim"
    assert spread["complaint"].excerpt == "Salah kirim nih"
    assert why("How much is shipping for 3 shirts?") == {
        "price": ("how much", "How much"), "shipping": ("shipping", "shipping")}
    assert why("ongkos kirimnya brp")["shipping"] == ("ongkos kirim", "ongkos kirimnya")
    assert "complaint" in tags_of("barangnya ga sesuai foto")
    assert "complaint" not in tags_of("sesuai pesanan, makasih")


def test_a_phrase_across_a_wall_of_spaces_keeps_a_short_word():
    match = tags_of("salah" + " " * 500 + "kirim")["complaint"]
    assert match.word.startswith("salah") and len(match.word) == WORD_MAX
    assert len(match.excerpt) <= EXCERPT_WIDTH


def test_phrase_wins_over_a_single_word_of_the_same_tag_at_the_same_place():
    matcher = compile_rules([Rule("x", ("kirim", "salah kirim", "salah"))])
    assert matcher.first_matches(["salah kirim"])["x"].keyword == "salah kirim"


def test_first_match_is_earliest_message_then_earliest_word():
    messages = ["halo kak", "ongkir brp? harganya juga", "harga berapa?"]
    found = tags_of(*messages)
    assert (found["price"].message_index, found["price"].word) == (1, "brp")
    assert (found["shipping"].message_index, found["shipping"].word) == (1, "ongkir")
    assert list(found) == ["shipping", "price"]


def test_links_and_email_addresses_are_not_words():
    assert tags_of("https://shopee.co.id/gamis-order-123") == {}
    assert tags_of("cek shopee.co.id/abc kak") == {}
    assert tags_of("email saya rina.order@gmail.co.id") == {}
    assert why("https://toko.id/x harga brp?") == {"price": ("harga", "harga")}
    assert why("udah co kak")["order"] == ("co", "co")


def test_chat_export_notices_are_skipped():
    assert tags_of("Pesan ini telah dihapus", "<Media tidak disertakan>",
                   "\u200e<attached: 00000006-PHOTO-2026-04-11-12-00-00.jpg>", "This message was deleted") == {}
    assert why("pesan 2 ya kak") == {"order": ("pesan", "pesan")}


def test_sample_whatsapp_chat_customer_side():
    rina = [
        "Halo kak, gamis motif parang ukuran L masih ready?",
        "Harganya berapa kak?\nKalau ambil 2 ada diskon?\nOngkir ke Bandung brp ya",
        "Pesan ini telah dihapus",
        "Oke kak saya pikir2 dulu ya",
        "Kak jadi pesan 2 yg biru ya, bisa COD?",
        "Jl. Melati No. 7, Cicendo, Bandung 40172\nRina - 0812 3456 7890",
        "Kak paketnya udah sampai tapi jahitan lengan kiri lepas 😢 bisa retur?",
    ]
    found = {tag: (m.message_index, m.keyword, m.word) for tag, m in tags_of(*rina).items()}
    assert found == {
        "product": (0, "motif", "motif"),
        "price": (1, "harga", "Harganya"),
        "shipping": (1, "ongkir", "Ongkir"),
        "order": (4, "pesan", "pesan"),
        "complaint": (6, "retur", "retur"),
    }


def test_excerpt_is_short_one_line_and_around_the_word():
    long = ("Halo kak selamat siang, " * 6) + "mau tanya harganya berapa ya " + ("terima kasih banyak kak " * 6)
    match = tags_of(long)["price"]
    assert match.word == "harganya"
    assert len(match.excerpt) <= EXCERPT_WIDTH
    assert "harganya" in match.excerpt
    assert match.excerpt.startswith("…") and match.excerpt.endswith("…")
    assert "\n" not in tags_of("a\nb\nharga?")["price"].excerpt
    edge = tags_of("harga " + "x" * 300)["price"].excerpt
    assert edge.startswith("harga") and len(edge) <= EXCERPT_WIDTH


def test_user_rules_are_normalised_when_compiled():
    matcher = compile_rules([Rule("syari", ("Gamis Syar'i", "  KHIMAR ", "", "!!!"))])
    assert matcher.tags == ("syari",)
    assert matcher.first_matches(["ada gamis syar’i?"])["syari"].keyword == "Gamis Syar'i"
    assert matcher.first_matches(["khimarnya ready?"])["syari"].word == "khimarnya"
    assert compile_rules([Rule("empty", ("", "  "))]).first_matches(["apa saja"]) == {}


def test_parse_keywords():
    assert parse_keywords("Harga?, hrg\nno rek, no.rek,, !!!\r\n  J&T  \nHARGA") == ("harga", "hrg", "no rek", "j&t")
    assert parse_keywords("") == ()
    assert parse_keywords("Ｃａｆé, salah   kirim") == ("cafe", "salah kirim")


def test_normalise():
    assert normalise("  PrÍCE\u00a0 \u200dKAK\n") == "price kak"
    assert normalise("Straße") == "strasse"
    assert normalise("don’t") == "don't"
    assert normalise("") == ""


# --- hostile input ---------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), max_size=5))
def test_never_raises_and_reasons_point_into_the_message(messages):
    for tag, match in STARTER.first_matches(messages).items():
        assert match.tag == tag
        assert match.word and match.word in messages[match.message_index]
        assert len(match.word) <= WORD_MAX and len(match.excerpt) <= EXCERPT_WIDTH


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalising_is_stable(text):
    once = normalise(text)
    assert normalise(once) == once
    assert tokenise(once) == tokenise(text)
    for keyword in parse_keywords(text):
        assert parse_keywords(keyword) == (keyword,)


ALL_KEYWORDS = [(t.name, k) for t in STARTER_TAGS for k in t.keywords]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_KEYWORDS), st.text(), st.text())
def test_a_keyword_between_spaces_is_always_found(tag_keyword, before, after):
    tag, keyword = tag_keyword
    message = f"{before} {keyword} {after}"
    assume(normalise(message) not in {"pesan ini telah dihapus"})
    assert tag in STARTER.first_matches([message])


WORD_PARTS = sorted({word for _, keyword in ALL_KEYWORDS for word in tokenise(keyword)} | set(PREFIXES_4)
                    | set(SUFFIXES_2) | set(SUFFIXES_3) | {" ", "-", "2", "ww", "aa", "É", "\u0301", "."})


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(WORD_PARTS), st.sampled_from(WORD_PARTS).map(str.upper),
                          st.text(max_size=2)), max_size=8))
def test_could_match_never_says_no_to_a_message_that_matches(parts):
    """A safe first look: callers skip `first_matches` when it says no (crm.orders.reading), so a no must be right;
    a yes may be wrong."""
    message = "".join(parts)
    for tag in STARTER.first_matches([message]):
        assert STARTER.could_match(message, tag), (message, tag)


def test_could_match_says_no_to_most_messages():
    assert not STARTER.could_match("ok kak makasih 🙏", "price")
    assert STARTER.could_match("Harganyaaa brp kak?", "price")
    assert not STARTER.could_match("anything", "no such tag")


@pytest.mark.parametrize("hostile", [
    "a&" * 50_000, "a." * 50_000, "x" * 200_000, "-".join(["pikir"] * 20_000), "@" * 100_000,
    "a.com" * 20_000, "é" * 100_000, "\u0301" * 100_000, "🙏" * 50_000, "salah " * 30_000,
])
def test_hostile_messages_are_handled_in_linear_time(hostile):
    start = time.perf_counter()
    STARTER.first_matches([hostile])
    tokenise(hostile)
    assert time.perf_counter() - start < 2
