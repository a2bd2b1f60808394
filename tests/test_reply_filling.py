"""Quick replies filled for a customer, and the click-to-chat links they go out through: pure functions."""
from urllib.parse import unquote

import pytest

from crm.needs.matching import STARTER_TAGS, Rule, compile_rules
from crm.replies.filling import Facts, fill, first_name, needs_conversation, placeholders, prompts, unknown_variables
from crm.replies.links import chat_link, prefills, wa_me_number
from crm.replies.mentions import last_price, last_product, product_near
from crm.replies.starter import STARTER_REPLIES

SHOP = Facts(customer_name="Rina Kusuma", shop="Toko Batik Sari", staff_name="Budi Santoso",
             bank="BCA 1234567890 a.n. Sari Dewi\nMandiri 9876543210 a.n. Sari Dewi")


# --- variables -------------------------------------------------------------------------------------------


def test_every_variable_is_filled_in_indonesian_and_in_english():
    text = "{nama}|{toko}|{staf}|{rekening}|{name}|{shop}|{staff}|{bank}"
    assert fill(text, SHOP).split("|") == [
        "Rina", "Toko Batik Sari", "Budi", "BCA 1234567890 a.n. Sari Dewi\nMandiri 9876543210 a.n. Sari Dewi",
        "Rina", "Toko Batik Sari", "Budi", "BCA 1234567890 a.n. Sari Dewi\nMandiri 9876543210 a.n. Sari Dewi"]


def test_variable_names_are_read_in_any_case():
    assert fill("Halo {Nama}, dari {TOKO}", SHOP) == "Halo Rina, dari Toko Batik Sari"


def test_a_missing_value_becomes_a_prompt_of_the_same_name():
    text = fill("Transfer ke {rekening} ya {nama}, harga {harga}, produk {product}", Facts(customer_name="Rina"))
    assert text == "Transfer ke {?rekening} ya Rina, harga {?harga}, produk {?product}"
    assert prompts(text) == ["rekening", "harga", "product"]


def test_without_a_name_the_customer_is_kak():
    assert fill("Halo {nama}, terima kasih", Facts()) == "Halo Kak, terima kasih"
    assert fill("Halo {nama}", Facts(customer_name="+62 812-3456-7890")) == "Halo Kak"
    assert fill("Halo {nama}", Facts(customer_name="Customer 08123456789")) == "Halo Kak"
    assert fill("Hi {name}", Facts(customer_name="@rina.shop")) == "Hi Kak"


def test_a_word_is_not_said_twice_before_the_name():
    assert fill("Halo kak {nama}, ready ya", Facts()) == "Halo kak, ready ya"
    assert fill("Halo kak {nama}!", Facts(customer_name="Rina")) == "Halo kak Rina!"
    assert fill("Terima kasih Bu {nama}", Facts(customer_name="Bu Sari")) == "Terima kasih Bu Sari"


@pytest.mark.parametrize("stored, called", [
    ("Rina Kusuma", "Rina"), ("rina kusuma", "Rina"), ("RINA", "Rina"), ("Bu Sari Wulandari", "Bu Sari"),
    ("pak hendra", "Pak Hendra"), ("Rina 🌸", "Rina"), ("~ Dewi", "Dewi"), ("Nur'aini Putri", "Nur'aini"),
    ("Rina (reseller Bandung)", "Rina"), ("McDonald", "McDonald"), ("Bu", "Bu"),
    ("0812 3456 7890", None), ("+6281234567890", None), ("rina@tokosari.id", None), ("🌸🌸", None), ("", None),
])
def test_first_name(stored, called):
    assert first_name(stored) == called


def test_prompts_stay_for_the_sender_and_are_listed_once_in_order():
    text = fill("Ukuran {?ukuran} warna {?warna}, ukuran {?ukuran} ya {nama}", SHOP)
    assert text == "Ukuran {?ukuran} warna {?warna}, ukuran {?ukuran} ya Rina"
    assert prompts(text) == ["ukuran", "warna"]
    assert prompts("Ongkir ke {?kota tujuan} ya") == ["kota tujuan"]
    assert prompts("no prompt {here} or {?}") == []


def test_other_braces_are_left_as_written_and_reported():
    text = "Kode {promo} dan {\"a\": 1} untuk {nama}"
    assert fill(text, SHOP) == "Kode {promo} dan {\"a\": 1} untuk Rina"
    assert unknown_variables("{nma} {nama} {promo}") == ["{nma}", "{promo}"]
    assert placeholders("{nama} {?ukuran} {foo} {nama}") == ["{nama}", "{?ukuran}"]


def test_a_value_never_opens_a_placeholder_of_its_own():
    facts = Facts(customer_name="{rekening}", shop="Toko {?x}", bank="{nama}")
    text = fill("{nama} {toko} {rekening}", facts)
    assert "{" not in text and prompts(text) == []


def test_values_with_odd_spacing_are_tidied():
    facts = Facts(shop="  Toko   Batik ", bank="BCA 123  \r\n\r\n  Mandiri 456  \n")
    assert fill("{toko}: {rekening}", facts) == "Toko Batik: BCA 123\n\nMandiri 456"


def test_only_product_and_price_read_the_conversation():
    assert needs_conversation("Harga {produk} {harga}")
    assert needs_conversation("{Price}")
    assert not needs_conversation("Halo {nama} {rekening} {?produk}")


# --- links -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["+6281234567890", "+62 812-3456-7890", "0812 3456 7890", "6281234567890",
                                    "081234567890"])
def test_wa_me_numbers_are_digits_without_plus_or_leading_zero(handle):
    assert wa_me_number(handle) == "6281234567890"


def test_a_foreign_number_keeps_its_country_code():
    assert wa_me_number("+60 12-345 6789") == "60123456789"


def test_whatsapp_link_carries_the_text_escaped():
    text = "Halo Rina 😊\nTotal: 2 × Rp 150.000 & ongkir #JNE = 50% off? ya+ok"
    link = chat_link("whatsapp", "+6281234567890", text)
    assert link.startswith("https://wa.me/6281234567890?text=")
    encoded = link.split("?text=", 1)[1]
    assert " " not in encoded and "\n" not in encoded and "&" not in encoded and "#" not in encoded
    assert "+" not in encoded  # a "+" in the text is %2B; spaces are %20, never "+"
    assert "%20" in encoded and "%0A" in encoded and "%26" in encoded and "%F0%9F%98%8A" in encoded
    assert unquote(encoded) == text


def test_whatsapp_link_without_a_text_opens_the_chat():
    assert chat_link("whatsapp", "+6281234567890") == "https://wa.me/6281234567890"


def test_every_channel_has_its_link():
    assert chat_link("telegram", "rina_batik") == "https://t.me/rina_batik"
    assert chat_link("telegram", "+6281234567890") == "https://t.me/+6281234567890"
    assert chat_link("instagram", "rina.shop") == "https://ig.me/m/rina.shop"
    assert chat_link("facebook", "rina.kusuma") == "https://m.me/rina.kusuma"
    assert chat_link("tiktok", "rinashop") == "https://www.tiktok.com/@rinashop"
    assert chat_link("x", "rinashop") == "https://x.com/rinashop"
    assert chat_link("phone", "+6281234567890") == "tel:+6281234567890"
    assert chat_link("other", "rina di pasar") is None
    assert chat_link("whatsapp", "") is None


def test_only_whatsapp_and_email_carry_a_text():
    assert [channel for channel in ("whatsapp", "instagram", "facebook", "tiktok", "x", "telegram", "email")
            if prefills(channel)] == ["whatsapp", "email"]
    assert chat_link("instagram", "rina.shop", "Halo") == "https://ig.me/m/rina.shop"


def test_email_link_carries_the_text_with_crlf_line_breaks():
    link = chat_link("email", "rina@tokosari.id", "Halo Rina,\nRekening: BCA & Mandiri")
    assert link == "mailto:rina@tokosari.id?body=Halo%20Rina%2C%0D%0ARekening%3A%20BCA%20%26%20Mandiri"


# --- what the conversation mentioned ----------------------------------------------------------------------

MATCHER = compile_rules(Rule(t.name, t.keywords) for t in STARTER_TAGS if t.name in ("product", "price"))


@pytest.mark.parametrize("message, product", [
    ("Kak gamis navy ready?", "gamis navy"),
    ("Harga tas ransel hitam berapa kak?", "tas ransel hitam"),
    ("stok kemeja batik pria masih ada?", "kemeja batik pria"),
    ("Halo kak, ready gamis navy kak?", "gamis navy"),
    ("Do you have the blue dress in M?", "blue dress"),
    ("ready size L kak?", None),
    ("harganya berapa ya kak?", None),
    ("ready kak?", None),
    ("Kak ready kah? 🙏", None),
])
def test_the_product_is_only_what_stands_next_to_the_need_words(message, product):
    assert last_product([message], MATCHER) == product


def test_the_product_comes_from_the_newest_message_that_names_one():
    messages = ["Harga gamis navy berapa?", "Kalau kemeja batik ready?", "ok kak, ready kah?"]
    assert last_product(messages, MATCHER) == "kemeja batik"


def test_product_near_stays_in_the_sentence():
    assert product_near("Gamis navy ready? Kalau hijau gimana", "ready") == "Gamis navy"
    assert product_near("something else", "ready") is None


@pytest.mark.parametrize("message, price", [
    ("harganya 185rb kak", "185rb"), ("Rp 1.250.000 ya", "Rp 1.250.000"), ("total 150.000", "Rp 150.000"),
    ("jadi 1,5 jt kak", "1,5 jt"), ("Rp150k", "Rp150k"), ("ongkir 15rb, total Rp 200.000,-", "Rp 200.000"),
    ("0812.3456.7890", None), ("beratnya 2kg", None), ("ukuran 42", None), ("no resi JP1234567890", None),
])
def test_the_price_is_the_last_amount_written_like_money(message, price):
    assert last_price([message]) == price


def test_the_price_comes_from_the_newest_message_with_one():
    assert last_price(["harga 150rb", "diskon jadi 135rb ya kak", "oke kak"]) == "135rb"


# --- the starter set ----------------------------------------------------------------------------------------


def test_the_starter_set_speaks_indonesian_and_english():
    by_language = {}
    for reply in STARTER_REPLIES:
        by_language.setdefault(reply.language, []).append(reply.shortcut)
    assert by_language == {"id": ["rek", "format", "ongkir", "ready", "makasih", "minat"],
                           "en": ["bank", "order", "shipping", "stock", "thanks", "interested"]}
    assert len({reply.key for reply in STARTER_REPLIES}) == len(STARTER_REPLIES)


def test_every_starter_reply_fills_without_unknown_variables():
    for reply in STARTER_REPLIES:
        assert unknown_variables(reply.body) == [], reply.key
        text = fill(reply.body, Facts(customer_name="Rina", shop="Toko Sari", staff_name="Budi", bank="BCA 123",
                                      product="gamis navy", price="185rb"))
        assert "{" not in text.replace("{?", "") and "Kak Kak" not in text, reply.key
    assert "BCA 123" in fill(STARTER_REPLIES[0].body, Facts(bank="BCA 123"))
