"""Tracking numbers (resi) in chat messages: each courier by its name near the number and by the number's shape,
and the look-alikes that are not resi (phone numbers, bank accounts, totals, order numbers, NIK).

Where the shapes come from (open-source Indonesian tracking tools and courier pages, read through the search tool):
- MuflihItsuka312/API-Server, PATTERN-COMPARISON.md and COURIER-DETECTION-FIX.md (a BinderByte cekresi client,
  tested on real parcels): J&T JX8009962760 and JT + 10-14 digits; JNE TG7007260622, TG3530937431, CGK...,
  JNEA...; SiCepat 002927168687 (00 + 10 digits); AnterAja TSA...; Ninja NLIDAP + 8-12 digits; Pos RR...ID;
  TIKI TKP4003574518; its "add more patterns" list for Lion Parcel (LP...) and ID Express (IDE + digits);
- an API note for Shopee Xpress tracking (found by its example number): SPXID055128932124;
- jdlexpress.co.id "Apa itu Resi?": JNE + 10 digits (JNE1234567890), Pos 13 characters (RA123456789ID);
- bjalogistic.id "Panduan lengkap memahami nomor resi": JNE 12 digits (010880123456);
- the UPU S10 standard for postal item numbers (two letters, 8 digits, a check digit, country).
SAP Express and Wahana publish no shape we could find: their numbers are recognised by the name near them.
"""
import pytest

from crm.orders.tracking import COURIERS, courier_named, s10_ok, shape_of, tracking_numbers


def one(text):
    found = tracking_numbers(text)
    assert len(found) == 1, (text, found)
    return found[0]


@pytest.mark.parametrize("text, number, courier", [
    ("Resi JNE: 010880123456 ya kak", "010880123456", "jne"),
    ("JNE1234567890", "JNE1234567890", "jne"),
    ("resinya TG7007260622 kak", "TG7007260622", "jne"),
    ("Sudah dikirim ya kak, resi J&T JX8009962760", "JX8009962760", "jnt"),
    ("jnt JP1234567890", "JP1234567890", "jnt"),
    ("resi JD0123456789 🙏", "JD0123456789", "jnt"),
    ("Resi sicepat 002927168687", "002927168687", "sicepat"),
    ("resi 002927168687", "002927168687", "sicepat"),
    ("Anteraja TSA1234567890", "TSA1234567890", "anteraja"),
    ("resi anter aja 10001234567890", "10001234567890", "anteraja"),
    ("Kirim via Pos Indonesia, resi RR123456785ID", "RR123456785ID", "pos"),
    ("EE123456785ID", "EE123456785ID", "pos"),
    ("resi pos 1234567890123", "1234567890123", "pos"),
    ("Ninja Xpress NLIDAP12345678", "NLIDAP12345678", "ninja"),
    ("resi ninja 1234567890", "1234567890", "ninja"),
    ("ID Express IDE701234567890", "IDE701234567890", "idexpress"),
    ("idexpress resi 701234567890", "701234567890", "idexpress"),
    ("Lion Parcel 11LP1234567890", "11LP1234567890", "lion"),
    ("resi lion 99LP1658461125", "99LP1658461125", "lion"),
    ("SAP Express resi 1234567890123", "1234567890123", "sap"),
    ("resi wahana 1234567890", "1234567890", "wahana"),
    ("Shopee Xpress SPXID055128932124", "SPXID055128932124", "spx"),
    ("spx: SPXID055128932124", "SPXID055128932124", "spx"),
    ("TKP4003574518", "TKP4003574518", "tiki"),
])
def test_each_courier_is_found_by_its_name_near_the_number_or_its_shape(text, number, courier):
    found = one(text)
    assert (found.number, found.courier) == (number, courier)
    assert found.words, "the suggestion says what made it"
    assert text[found.start:found.end].upper() == number


def test_every_courier_the_issue_names_is_known():
    assert {"jne", "jnt", "sicepat", "anteraja", "pos", "ninja", "idexpress", "lion", "sap", "wahana", "spx"} <= set(
        COURIERS)


def test_the_words_are_what_made_it_as_written():
    assert one("Resi JNE: 010880123456").words == ("Resi", "JNE")
    assert one("SPXID055128932124").words == ("SPXID…",)
    assert one("resi JX8009962760").words == ("resi", "JX…")


def test_the_nearest_name_wins_and_a_name_must_fit_the_shape():
    found = one("Kak yang JNE sudah sampai? Ini resi yang baru, sicepat 002927168687")
    assert found.courier == "sicepat"
    # A J&T number named JNE by mistake: the shape knows better.
    assert one("resi JNE JP1234567890").courier == "jnt"


def test_a_resi_with_no_courier_is_offered_with_the_courier_to_choose():
    found = one("no resi: 1234567890123")
    assert (found.number, found.courier) == ("1234567890123", "")


def test_lower_case_is_read_and_stored_upper_case():
    assert one("resi jx8009962760").number == "JX8009962760"


@pytest.mark.parametrize("text", [
    "no hp aku 081234567890 ya kak",
    "WA 0812-3456-7890",
    "+6281234567890",
    "6281234567890",
    "resi 081234567890",  # a mobile number typed where the resi should be: still a phone
    "Transfer ke BCA 1234567890 a.n. Toko Sari",
    "norek mandiri 1370012345678",
    "BRI 012301000123567 an Sari Dewi",
    "rek BNI: 0123456789",
    "Total Rp 1250000000",
    "totalnya 1.250.000 ya kak",
    "185000",
    "No pesanan 2306171ABCDEF01",
    "Invoice INV/20260617/MPL/1234567890",
    "NIK 3201234567890001",
    "order id 12345678901234",
    "tanggal 20260617",
    "kode pos 12430",
    "Jl. Melati No. 5, RT 02/RW 03",
    "1234567890123",  # plain digits, nothing says resi
    "002927168687",  # SiCepat's shape, but nothing says resi either
    "RA123456789ID",  # a Pos shape with a wrong check digit, nothing near
    "harga 150000 x 12 = 1800000",
    "https://shopee.co.id/product/12345/678901234",
])
def test_look_alikes_are_not_resi(text):
    assert tracking_numbers(text) == [], text


def test_a_bank_account_beside_a_resi_is_left_out_and_the_resi_kept():
    found = tracking_numbers("BCA 1234567890 a/n Toko Sari. Resi JNE 010880123456 ya kak")
    assert [(f.number, f.courier) for f in found] == [("010880123456", "jne")]


def test_two_parcels_in_one_message():
    found = tracking_numbers("Resi kak Rina: JP1234567890\nResi kak Dewi: SPXID055128932124")
    assert [(f.number, f.courier) for f in found] == [("JP1234567890", "jnt"), ("SPXID055128932124", "spx")]


def test_s10_check_digits():
    assert s10_ok("RR123456785ID") and s10_ok("EE123456785ID")
    assert not s10_ok("RA123456789ID") and not s10_ok("RR12345678ID")
    assert shape_of("RR123456785ID").strong and not shape_of("RA123456789ID").strong


def test_courier_named_reads_an_ekspedisi_line():
    assert courier_named("JNE REG") == "jne"
    assert courier_named("J&T Express") == "jnt"
    assert courier_named("Si Cepat Halu") == "sicepat"
    assert courier_named("Shopee Express") == "spx"
    assert courier_named("ID Express") == "idexpress"
    assert courier_named("Ninja Van") == "ninja"
    assert courier_named("kantor pos") == "pos"
    assert courier_named("terserah kak") is None
    assert courier_named("kirim aja") is None


def test_hostile_input_costs_little():
    assert tracking_numbers("9" * 100_000) == []
    assert tracking_numbers("resi " + "JP1234567890 " * 2_000)[0].number == "JP1234567890"
    assert tracking_numbers("") == [] and tracking_numbers("no digits here") == []
    manifest = " ".join(f"JNE JP{n:010d}" for n in range(1_400))  # a 20,000-character message
    assert len(tracking_numbers(manifest)) == 50, "a wall of resi is read up to a bound"
