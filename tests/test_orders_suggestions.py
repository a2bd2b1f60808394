"""What a conversation suggests for its orders, from its messages alone: pure, no database."""
from datetime import datetime, timedelta, timezone

from crm.orders.suggestions import ChatLine, OrderState, suggest

T0 = datetime(2026, 6, 17, 3, 0, tzinfo=timezone.utc)
FORM = ("Nama: Rina Wati\nAlamat: Jl. Melati No. 5, Jakarta Selatan\nNo HP: 0812-3456-7890\n"
        "Pesanan: Gamis parang\nJumlah: 2\nUkuran: L\nEkspedisi: JNE\nPembayaran: Transfer BCA")


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def chat():
    return [
        ChatLine(1, "customer", "kak mau order ya", at(0)),
        ChatLine(2, "customer", FORM, at(1)),
        ChatLine(3, "staff", "Siap kak, total 370rb + ongkir 15rb = 385rb ya. BCA 1234567890 a/n Toko Sari", at(3)),
        ChatLine(4, "customer", "", at(30), "IMG-20260617-WA0003.jpg"),
        ChatLine(5, "customer", "sudah transfer kak", at(31)),
        ChatLine(6, "staff", "Terima kasih kak 🙏", at(32)),
        ChatLine(7, "staff", "Sudah dikirim ya kak, resi JNE 010880123456", at(300)),
    ]


def kinds(found):
    return [(s.kind, s.key, s.order_id) for s in found]


def test_a_chat_with_a_format_order_a_total_a_proof_and_a_resi():
    found = suggest(chat())
    assert kinds(found) == [("new_order", 2, None), ("paid", 5, None), ("shipped", 7, None)]
    new, paid, shipped = found
    assert (new.reading.total, new.reading.shipping_cost) == (385_000, 15_000), "the shop's answer fills the total"
    assert new.words[:3] == ("Nama", "Alamat", "No HP") and new.extra_words == ("total 385rb", "ongkir 15rb")
    assert paid.words == ("sudah transfer",) and paid.proof, "the photo right before it is the proof"
    assert shipped.tracking.courier == "jne" and shipped.words == ("resi", "JNE", "010880123456")


def test_once_the_order_exists_its_steps_point_to_it():
    orders = [OrderState(9, "awaiting_payment", at(1), "bank_transfer")]
    found = suggest(chat(), orders, used={("new_order", 2)})
    assert kinds(found) == [("paid", 5, 9), ("shipped", 7, 9)]
    paid_and_shipped = [OrderState(9, "shipped", at(1), "bank_transfer", "010880123456", paid=True)]
    assert suggest(chat(), paid_and_shipped, used={("new_order", 2), ("paid", 5)}) == []


def test_accepted_and_dismissed_suggestions_are_not_made_again():
    orders = [OrderState(9, "paid", at(1), "bank_transfer", paid=True)]
    found = suggest(chat(), orders, used={("new_order", 2), ("paid", 5)}, dismissed={("shipped", 7)})
    assert found == []


def test_paid_without_a_photo_is_still_offered_and_says_so():
    lines = [ChatLine(1, "customer", "udah tf ya kak", at(0))]
    [paid] = suggest(lines, [OrderState(3, "awaiting_payment", at(-60))])
    assert (paid.kind, paid.order_id, paid.proof) == ("paid", 3, False)


def test_a_photo_long_before_is_no_proof():
    lines = [ChatLine(1, "customer", "", at(0), "IMG-1.jpg"), ChatLine(2, "customer", "sudah transfer", at(120))]
    assert not suggest(lines)[0].proof


def test_only_the_customer_pays_and_receives():
    lines = [ChatLine(1, "staff", "Kak sudah transfer belum?", at(0)), ChatLine(2, "staff", "sudah sampai kak?", at(1)),
             ChatLine(3, "staff", "paket sudah diterima ya kak", at(2))]
    assert suggest(lines, [OrderState(3, "shipped", at(-60))]) == []


def test_a_cod_order_is_not_paid_by_transfer_words_and_the_latest_open_order_is_the_one():
    orders = [OrderState(1, "awaiting_payment", at(-600)), OrderState(2, "awaiting_payment", at(-60), "cod")]
    [paid] = suggest([ChatLine(5, "customer", "sudah transfer ya", at(0))], orders)
    assert paid.order_id == 1
    orders = [OrderState(1, "awaiting_payment", at(-600)), OrderState(2, "awaiting_payment", at(-60))]
    assert suggest([ChatLine(5, "customer", "sudah transfer ya", at(0))], orders)[0].order_id == 2
    later = [OrderState(1, "awaiting_payment", at(600))]
    assert suggest([ChatLine(5, "customer", "sudah transfer ya", at(0))], later)[0].order_id is None, \
        "an order placed after the message is not the one it paid"


def test_delivered_for_the_shipped_order():
    orders = [OrderState(4, "shipped", at(-3000), "cod", "JP1234567890")]
    [delivered] = suggest([ChatLine(8, "customer", "Paketnya udah sampai kak, makasih", at(0))], orders)
    assert (delivered.kind, delivered.order_id, delivered.words) == ("delivered", 4, ("udah sampai",))
    done = [OrderState(4, "delivered", at(-3000), "cod")]
    assert suggest([ChatLine(8, "customer", "Paketnya udah sampai kak", at(0))], done) == []


def test_a_resi_already_on_the_order_is_not_offered_again():
    orders = [OrderState(4, "shipped", at(-60), None, "010880123456")]
    assert suggest([ChatLine(7, "staff", "resi JNE 010880123456", at(0))], orders) == []


def test_a_blank_template_and_chit_chat_suggest_nothing():
    lines = [ChatLine(1, "staff", "Format order ya kak:\nNama:\nAlamat lengkap:\nNo HP:\nPesanan:", at(0)),
             ChatLine(2, "customer", "ok kak", at(1)), ChatLine(3, "customer", "no hp aku 081234567890", at(2))]
    assert suggest(lines) == []


def test_a_later_format_order_takes_its_own_total():
    second = FORM.replace("Gamis parang", "Mukena")
    lines = [ChatLine(1, "customer", FORM, at(0)), ChatLine(2, "staff", "total 370rb", at(1)),
             ChatLine(3, "customer", second, at(60)), ChatLine(4, "staff", "total 150rb kak", at(61))]
    first, later = suggest(lines)
    assert (first.reading.total, later.reading.total) == (370_000, 150_000)
