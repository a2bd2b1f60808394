"""Reading a chat for orders: format orders (ID and EN, missing and extra keys), amounts as shops write them,
totals, payment proofs, deliveries and review requests, each with the words that said it."""
from pathlib import Path

import pytest

from crm.orders.money import NotAnAmount, amounts_in, read_rupiah
from crm.orders.reading import (
    ItemGuess,
    delivery_said,
    has_image,
    payment_method_of,
    payment_said,
    read_order_form,
    read_totals,
    review_asked,
)

FIXTURES = Path(__file__).parent / "fixtures" / "exports" / "plain"


# Amounts ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, amount", [
    ("185000", 185_000), ("185.000", 185_000), ("Rp 185.000", 185_000), ("Rp185.000,-", 185_000),
    ("Rp 150.000,00", 150_000), ("IDR 185,000", 185_000), ("1.250.000", 1_250_000), ("1,250,000", 1_250_000),
    ("1 250 000", 1_250_000), ("185rb", 185_000), ("185 ribu", 185_000), ("185k", 185_000), ("185K", 185_000),
    ("1,5jt", 1_500_000), ("1.5 juta", 1_500_000), ("2jt", 2_000_000), ("rp. 75rb", 75_000), ("0", 0),
])
def test_amounts_as_shops_type_them(typed, amount):
    assert read_rupiah(typed) == amount


@pytest.mark.parametrize("typed", ["12,5", "1,5", "abc", "1..2", "Rp", "185rb rb", "1.25.000", "-5000", "1e6",
                                   "9" * 14])
def test_what_is_not_an_amount(typed):
    with pytest.raises(NotAnAmount):
        read_rupiah(typed)


def test_nothing_typed_is_no_amount():
    assert read_rupiah("") is None and read_rupiah("   ") is None and read_rupiah(None) is None


def test_amounts_in_running_text_with_their_places():
    text = "Siap kak, total 370rb + ongkir 15.000 = Rp 385.000,- ya. Jumlah 2, no 5"
    found = amounts_in(text)
    assert [(a.amount, a.text) for a in found] == [(370_000, "370rb"), (15_000, "15.000"), (385_000, "Rp 385.000,-")]
    assert all(text[a.start:a.end].strip() == a.text for a in found)


# Format orders ------------------------------------------------------------------------------------------------

def _fixture_form(name: str) -> str:
    """The format order message of a fixture chat: its lines up to the shop's answer."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return text.split("\nSaya:")[0].split(": ", 1)[1]


def test_an_indonesian_format_order_in_one_message():
    reading = read_order_form(_fixture_form("order-form-id.txt"))
    assert (reading.name, reading.phone) == ("Rina Wati", "0812-3456-7890")
    assert reading.address == "Jl. Melati No. 5, RT 02/RW 03, Cilandak, Jakarta Selatan, 12430"
    assert reading.items == (ItemGuess("Gamis parang", "L / Sogan", 2, None),)
    assert (reading.courier, reading.courier_text) == ("jne", "JNE")
    assert (reading.payment_method, reading.payment_text) == ("bank_transfer", "Transfer BCA")
    assert reading.keys[:3] == ("Nama", "Alamat", "No HP/WA") and "Pembayaran" in reading.keys
    assert reading.missing == () and reading.extras == ()


def test_an_english_format_order_missing_its_item():
    reading = read_order_form((FIXTURES / "order-form-en.txt").read_text(encoding="utf-8"))
    assert (reading.name, reading.address, reading.phone) == ("Budi Santoso", "Jl. Kenanga 7", "+62 812 1111 2222")
    assert reading.items == (ItemGuess("", "M", 1, None),), "the size is kept; the shop names the item"
    assert reading.missing == ("items",)


def test_missing_keys_are_named_and_extra_keys_kept_in_the_note():
    reading = read_order_form("Nama: Sari\nPesanan: 2 hijab pashmina hitam\nInstagram: @sari.shop\n"
                              "Dropship dari: Toko Ayu")
    assert reading.missing == ("address", "phone")
    assert reading.extras == (("Instagram", "@sari.shop"), ("Dropship dari", "Toko Ayu"))
    assert reading.note == "Instagram: @sari.shop\nDropship dari: Toko Ayu"
    assert reading.items == (ItemGuess("hijab pashmina hitam", "", 2, None),)


def test_keys_written_every_way_shops_write_them():
    reading = read_order_form(
        "FORMAT ORDER 🛍️\n"
        "*Nama* : Dewi Lestari\n"
        "1. Alamat lengkap = Jl. Kenanga 7\n"
        "Kec. Sukajadi\n"
        "Bandung 40162\n"
        "\n"
        "📱 No. WA : 0857 1122 3344\n"
        "- Orderan: Khimar maroon\n"
        "Jml: 3 pcs\n"
        "Uk: XL\n"
        "Ekspedisi : J&T\n"
        "Metode pembayaran : COD\n"
        "Catatan : tolong dibungkus rapi\n")
    assert reading.name == "Dewi Lestari" and reading.phone == "0857 1122 3344"
    assert reading.address == "Jl. Kenanga 7, Kec. Sukajadi, Bandung 40162", "lines without a key continue it"
    assert reading.items == (ItemGuess("Khimar maroon", "XL", 3, None),)
    assert (reading.courier, reading.payment_method, reading.note) == ("jnt", "cod", "tolong dibungkus rapi")


def test_several_items_with_quantities_and_prices():
    reading = read_order_form(
        "Nama: Ayu\nAlamat: Jl. Mawar 1, Depok\n"
        "Pesanan:\n"
        "1. Gamis parang L x2 @185rb\n"
        "2. 1 pcs hijab hitam = 75.000\n"
        "3. Mukena (3) Rp 120.000\n"
        "Ongkir: 18rb\nDiskon: 10.000\nTotal: 728rb")
    assert reading.items == (
        ItemGuess("Gamis parang L", "", 2, 185_000),
        ItemGuess("hijab hitam", "", 1, 75_000),
        ItemGuess("Mukena", "", 3, 120_000),
    )
    assert (reading.shipping_cost, reading.discount, reading.total) == (18_000, 10_000, 728_000)


def test_items_on_one_line_split_where_each_has_a_quantity():
    reading = read_order_form("Nama: Ayu\nAlamat: Depok\nPesanan: 2 gamis sage, 1 hijab hitam")
    assert [(i.name, i.quantity) for i in reading.items] == [("gamis sage", 2), ("hijab hitam", 1)]
    reading = read_order_form("Nama: Ayu\nAlamat: Depok\nPesanan: Gamis parang, L, sogan")
    assert [(i.name, i.quantity) for i in reading.items] == [("Gamis parang, L, sogan", 1)]


@pytest.mark.parametrize("text", [
    "Format order ya kak:\nNama:\nAlamat lengkap:\nNo HP:\nPesanan (warna/ukuran/jumlah):\nEkspedisi: JNE",
    "Nama: Rina\nNo HP: 081234567890",  # who, but no order and no address
    "kak harga gamis berapa?",
    "Jam buka: 08:00 - 17:00\nLibur: Minggu",
    "",
])
def test_what_is_not_a_format_order(text):
    assert read_order_form(text) is None


def test_payment_methods_from_a_pembayaran_line():
    assert payment_method_of("Transfer BCA") == "bank_transfer"
    assert payment_method_of("tf mandiri") == "bank_transfer"
    assert payment_method_of("COD") == "cod"
    assert payment_method_of("bayar di tempat") == "cod"
    assert payment_method_of("OVO") == "ewallet"
    assert payment_method_of("QRIS") == "ewallet"
    assert payment_method_of("checkout di Shopee") == "marketplace"
    assert payment_method_of("nanti dikabari") == ""


# Totals -------------------------------------------------------------------------------------------------------

def test_totals_the_shop_answers_with():
    totals = read_totals("Siap kak, total 370rb + ongkir 15.000 = Rp 385.000,-. Transfer ke BCA 1234567890")
    assert (totals.total, totals.shipping_cost) == (385_000, 15_000), "what follows the = is what they pay"
    assert read_totals("totalnya jadi 185rb ya kak").total == 185_000
    lines = read_totals("Total: Rp 370.000\nOngkir: Rp 15.000\nDiskon 5rb\nBCA 1234567890 a/n Toko Sari")
    assert (lines.total, lines.shipping_cost, lines.discount) == (370_000, 15_000, 5_000)
    assert lines.words == ("Total Rp 370.000", "Ongkir Rp 15.000", "Diskon 5rb")
    assert read_totals("Grand total 1,5jt").total == 1_500_000


def test_no_total_without_an_amount_near_its_word():
    assert read_totals("totalnya berapa kak?").total is None
    assert read_totals("Total ada 3 warna").total is None
    assert read_totals("transfer ke BCA 1234567890").total is None


# What people say ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, word", [
    ("Sudah transfer ya kak", "Sudah transfer"), ("udah tf kak 🙏", "udah tf"), ("sdh trf ya", "sdh trf"),
    ("ini bukti transfernya kak", "bukti transfernya"), ("bukti tf", "bukti tf"), ("Kak udahhh tf yaa", "udahhh tf"),
    ("sudah ditransfer barusan", "sudah ditransfer"), ("sudah saya transfer 185rb", "sudah saya transfer"),
    ("udah bayar kak", "udah bayar"), ("Already paid, thanks!", "Already paid"),
    ("Payment done", "Payment done"), ("I have transferred the money", "transferred"),
])
def test_payment_said(text, word):
    said = payment_said(text)
    assert said is not None and said.word == word


@pytest.mark.parametrize("text", [
    "belum transfer kak", "blm tf kak nanti sore", "nanti aku transfer ya", "mau transfer ke mana kak?",
    "sudah transfer?", "besok bukti tf nya ya", "not paid yet", "kak harga berapa",
])
def test_not_paid(text):
    assert payment_said(text) is None, text


def test_delivery_said_and_review_asked():
    assert delivery_said("paketnya udah sampai kak, makasih").word == "udah sampai"
    assert delivery_said("Sudah diterima ya kak").word == "Sudah diterima"
    assert delivery_said("The parcel arrived today").word == "parcel arrived"
    assert delivery_said("belum sampai kak") is None and delivery_said("sudah sampai?") is None
    assert review_asked("Boleh minta ulasannya ya kak 🙏").word == "ulasannya"
    assert review_asked("kasih bintang 5 ya kak").word == "kasih bintang"
    assert review_asked("Please leave a review").word == "leave a review"
    assert review_asked("makasih kak") is None


def test_a_photo_with_the_message():
    assert has_image("IMG-20260617-WA0003.jpg")
    assert has_image("00000012-PHOTO-2026-06-17-10-31-22.jpg")
    assert has_image(("photo",)) and has_image("media")
    assert has_image("", "<Media omitted>") and has_image("", "gambar tidak disertakan")
    assert not has_image("contact") and not has_image("invoice.pdf") and not has_image("", "sudah transfer")
