"""The quick replies a new shop starts with, in Indonesian and in English: pure data, read by migration
0009 and by "Add the starter replies back" on the Quick replies page."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StarterReply:
    key: str  # stable: "id:rek"; kept on the row, so a starter the owner deleted can be added back
    language: str  # "id" or "en"
    shortcut: str
    title: str
    body: str


STARTER_REPLIES: tuple[StarterReply, ...] = (
    StarterReply("id:rek", "id", "rek", "Rekening pembayaran",
                 "Untuk pembayaran bisa transfer ke rekening berikut ya {nama}:\n{rekening}\n\n"
                 "Setelah transfer, mohon kirim bukti transfernya di sini. Terima kasih 🙏"),
    StarterReply("id:format", "id", "format", "Format order",
                 "Untuk order, mohon isi format berikut ya {nama}:\n"
                 "Nama:\nAlamat lengkap:\nNo HP:\nPesanan (produk, ukuran, warna, jumlah):\n"
                 "Pembayaran (transfer/COD):"),
    StarterReply("id:ongkir", "id", "ongkir", "Ongkos kirim",
                 "Ongkir ke {?kota} {?ongkir} ya {nama}, sampai sekitar {?berapa hari} hari. "
                 "Mau pakai kurir apa? (JNE, J&T, SiCepat)"),
    StarterReply("id:ready", "id", "ready", "Ready stok",
                 "Halo {nama}, {produk} ready ya 😊 Harganya {harga}. Mau ukuran dan warna apa?"),
    StarterReply("id:makasih", "id", "makasih", "Terima kasih",
                 "Terima kasih sudah belanja di {toko}, {nama} 🙏 Ditunggu order berikutnya ya!"),
    StarterReply("id:minat", "id", "minat", "Follow-up: masih minat kak?",
                 "Halo {nama}, saya {staf} dari {toko} 😊 Kemarin sempat tanya {produk}, masih minat kak? "
                 "Stoknya masih ada, kalau mau bisa langsung kami proses."),
    StarterReply("en:bank", "en", "bank", "Bank account",
                 "You can pay by bank transfer to:\n{bank}\n\n"
                 "Please send the transfer receipt here once it is done. Thank you, {name} 🙏"),
    StarterReply("en:order", "en", "order", "Order form",
                 "To order, please fill in:\n"
                 "Name:\nFull address:\nPhone number:\nOrder (product, size, colour, quantity):\n"
                 "Payment (transfer/COD):"),
    StarterReply("en:shipping", "en", "shipping", "Shipping cost",
                 "Shipping to {?city} is {?shipping cost}, about {?how many days} days. "
                 "Which courier would you like? (JNE, J&T, SiCepat)"),
    StarterReply("en:stock", "en", "stock", "In stock",
                 "Hi {name}, {product} is in stock 😊 It is {price}. Which size and colour would you like?"),
    StarterReply("en:thanks", "en", "thanks", "Thank you",
                 "Thank you for shopping at {shop}, {name} 🙏 Hope to see you again soon!"),
    StarterReply("en:interested", "en", "interested", "Follow-up: still interested?",
                 "Hi {name}, this is {staff} from {shop} 😊 You asked about {product}: are you still interested? "
                 "It is still in stock, and I can put the order through for you right away."),
)


def starter_reply_rows() -> list[dict]:
    """The starter replies as rows of quick_replies (shop-wide)."""
    return [{"starter": s.key, "shortcut": s.shortcut, "title": s.title, "body": s.body} for s in STARTER_REPLIES]
