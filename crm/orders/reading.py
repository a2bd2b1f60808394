"""What a chat message says about an order: pure functions, no database, no Flask.

- `read_order_form(text)`: a "format order" (Nama / Alamat / No HP / Pesanan / Jumlah / Ukuran / Warna /
  Ekspedisi / Pembayaran ..., in Indonesian or English) in one message, read into its fields;
- `read_totals(text)`: the total, shipping cost and discount a message gives ("total 370rb + ongkir 15rb");
- `payment_said(text)`, `delivery_said(text)`, `review_asked(text)`: a customer saying they paid
  ("sudah transfer", "bukti tf", "udah tf ya kak"), that the parcel came ("paket sudah sampai"), and the shop
  asking for a review ("minta ulasannya ya kak"), each with the words that said it; `asks_for_review(side, text)`,
  what each message keeps of the last;
- `has_image(attachments, body)`: a photo came with the message (a transfer proof is a screenshot).

Each reading carries the words that made it (like the need tags), so the page can say why it suggests something.

How a format order is read
1. Each line "Key: value" (also "Key = value", "*Key* : value", "1. Key: value", "- Key: value", an emoji in front)
   whose key is known (KEYS, folded: "No. HP/WA" is "no hp wa") sets that field; a line without a key continues the
   field before it when that field may span lines (address, items, note); an empty line ends it.
2. Keys nobody knows ("Instagram: @rina") are kept as extras, shown and put into the order's note.
3. It is a format order when at least two known fields have values and one of them is the address or the items;
   a template the shop sent with empty values ("Nama:\nAlamat:") is not.
4. Items: the "Pesanan" value, one per line (or ";" / " + ", or ", " between parts that each give a quantity);
   "2x Gamis", "Gamis x2", "Gamis (2)", "2 pcs gamis" give the quantity, "@185rb" or the first amount the unit
   price, "= 370rb" the line's total. Ukuran, Warna and Varian become the variant of a single item; Jumlah its
   quantity; Harga its unit price.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..needs.matching import Rule, compile_rules, normalise
from .money import FoundAmount, amounts_in
from .tracking import courier_named

PAYMENT_METHODS = ("bank_transfer", "ewallet", "cod", "marketplace")

# Folded key -> field. Folding: lower case, accents gone, punctuation as spaces ("No. HP/WA" -> "no hp wa").
KEYS = {
    "name": ("nama", "nama lengkap", "nama penerima", "penerima", "nama pemesan", "pemesan", "atas nama",
             "name", "full name", "recipient", "recipient name", "receiver", "nama customer", "customer"),
    "address": ("alamat", "alamat lengkap", "alamat pengiriman", "alamat kirim", "alamat penerima", "alamat rumah",
                "address", "shipping address", "delivery address", "full address"),
    "address_part": ("kecamatan", "kec", "kelurahan", "kel", "desa", "kota", "kabupaten", "kab", "kota kab",
                     "kab kota", "provinsi", "prov", "kode pos", "kodepos", "kd pos", "rt rw", "patokan",
                     "city", "district", "province", "postal code", "postcode", "zip", "zip code", "landmark"),
    "phone": ("no hp", "nomor hp", "no hp wa", "no wa", "nomor wa", "no whatsapp", "hp", "wa", "hp wa", "wa hp",
              "no telp", "no tlp", "telp", "tlp", "telepon", "no telepon", "nomor telepon", "kontak", "no kontak",
              "no handphone", "handphone", "phone", "phone number", "mobile", "whatsapp", "contact", "tel"),
    "items": ("pesanan", "pesan", "order", "orderan", "produk", "nama produk", "barang", "nama barang", "item",
              "items", "product", "products", "artikel", "kode barang", "kode produk", "list order", "detail order",
              "detail pesanan", "isi pesanan"),
    "quantity": ("jumlah", "jml", "qty", "quantity", "banyaknya", "jumlah pesanan", "pcs", "jumlah barang"),
    "size": ("ukuran", "uk", "size", "sz", "ukuran size"),
    "colour": ("warna", "color", "colour", "motif", "corak"),
    "variant": ("varian", "variant", "variasi", "tipe", "type", "model"),
    "courier": ("ekspedisi", "expedisi", "ekspedisi pengiriman", "kurir", "courier", "jasa kirim", "jasa pengiriman",
                "pengiriman", "shipping", "kirim via", "pengiriman via", "expedition", "shipping method"),
    "payment": ("pembayaran", "metode pembayaran", "metode bayar", "cara bayar", "cara pembayaran", "bayar",
                "payment", "payment method", "pay", "bayar via", "pembayaran via"),
    "note": ("catatan", "keterangan", "ket", "note", "notes", "pesan tambahan", "remarks"),
    "price": ("harga", "harga satuan", "price", "unit price", "hrg"),
    "total": ("total", "total harga", "total bayar", "total pembayaran", "grand total", "total transfer", "subtotal"),
    "shipping_cost": ("ongkir", "ongkos kirim", "biaya kirim", "shipping cost", "shipping fee", "ongkir kurir"),
    "discount": ("diskon", "disc", "discount", "potongan", "potongan harga", "voucher"),
}
_KEY_OF = {key: name for name, keys in KEYS.items() for key in keys}
_MULTILINE = {"address", "items", "note"}
_LINE = re.compile(r"^[^\w\n]*?(?:\d{1,2}[.)]\s*)?[*_~]*(?P<key>[^\W\d_][^\n:=]{0,38}?)[*_~]*\s*[:=]\s*(?P<value>.*)$")


@dataclass(frozen=True)
class ItemGuess:
    name: str
    variant: str = ""
    quantity: int = 1
    unit_price: int | None = None


@dataclass(frozen=True)
class OrderFormReading:
    name: str = ""
    address: str = ""
    phone: str = ""
    items: tuple[ItemGuess, ...] = ()
    courier: str = ""  # a key of tracking.COURIERS, or "" when not said or not known
    courier_text: str = ""  # as written: "JNE REG"
    payment_method: str = ""  # one of PAYMENT_METHODS, or ""
    payment_text: str = ""  # as written: "Transfer BCA"
    note: str = ""
    shipping_cost: int | None = None
    discount: int | None = None
    total: int | None = None
    keys: tuple[str, ...] = ()  # the keys as written, in order: the words that made it a format order
    extras: tuple[tuple[str, str], ...] = ()  # unknown "Key: value" lines
    missing: tuple[str, ...] = ()  # of name, address, phone, items: those not given


def _fold_key(key: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", normalise(key)).split())


def _key_field(key: str) -> str | None:
    folded = _fold_key(key)
    if folded in _KEY_OF:
        return _KEY_OF[folded]
    if folded.endswith("nya") and folded[:-3].strip() in _KEY_OF:  # "alamatnya", "totalnya"
        return _KEY_OF[folded[:-3].strip()]
    return None


def _value(text: str) -> str:
    return " ".join(text.strip().strip("*_~").split())


def read_order_form(text: str) -> OrderFormReading | None:
    """The format order in a message, or None when the message is not one (see the module's docstring)."""
    if not text or (":" not in text and "=" not in text):
        return None
    fields: dict[str, list[str]] = {}
    keys: list[str] = []
    extras: list[tuple[str, str]] = []
    current: str | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            current = None
            continue
        match = _LINE.match(line)
        name = _key_field(match["key"]) if match else None
        if match and name:
            keys.append(_value(match["key"]))
            value = match["value"].strip()
            fields.setdefault(name, [])
            if value:
                fields[name].append(value)
            current = name if name in _MULTILINE or not value else None
            continue
        if match and len(match["key"].split()) <= 3 and not any(ch.isdigit() for ch in match["key"]) \
                and match["value"].strip() and keys:
            extras.append((_value(match["key"]), _value(match["value"])))
            current = None
            continue
        if current:
            fields[current].append(line.strip())
            current = current if current in _MULTILINE else None
            continue
        current = None
    given = {name for name, values in fields.items() if any(v.strip() for v in values)}
    if len(given) < 2 or not given & {"address", "items"}:
        return None
    return _reading(fields, tuple(keys), tuple(extras))


def _reading(fields: dict[str, list[str]], keys, extras) -> OrderFormReading:
    def one(name: str, sep: str = " ") -> str:
        return _value(sep.join(v for v in fields.get(name, ()) if v.strip()))

    address = ", ".join(part for part in (one("address", ", "), one("address_part", ", ")) if part)
    variant = " / ".join(part for part in (one("variant"), one("size"), one("colour")) if part)
    items = _items(fields.get("items", []))
    quantity = _first_int(one("quantity"))
    price = _first_amount(one("price"))
    if not items and (variant or quantity or price):
        items = [ItemGuess("", quantity=1)]  # sizes and colours without the item's name: the shop fills it
    if len(items) == 1:
        item = items[0]
        items = [ItemGuess(item.name, " / ".join(p for p in (item.variant, variant) if p),
                           quantity or item.quantity, item.unit_price if item.unit_price is not None else price)]
    courier_text = one("courier")
    payment_text = one("payment")
    note = "\n".join(part for part in (one("note"), *(f"{k}: {v}" for k, v in extras)) if part)
    missing = tuple(name for name in ("name", "address", "phone", "items")
                    if not (one(name) if name != "items" else any(i.name for i in items)))
    return OrderFormReading(
        name=one("name"), address=address, phone=one("phone"), items=tuple(items),
        courier=courier_named(courier_text) or "" if courier_text else "", courier_text=courier_text,
        payment_method=payment_method_of(payment_text), payment_text=payment_text, note=note,
        shipping_cost=_first_amount(one("shipping_cost")), discount=_first_amount(one("discount")),
        total=_first_amount(one("total")), keys=keys, extras=extras, missing=missing,
    )


def _first_amount(text: str) -> int | None:
    found = amounts_in(text)
    return found[0].amount if found else None


def _first_int(text: str) -> int | None:
    match = re.search(r"\d{1,4}", text or "")
    return int(match.group()) if match and int(match.group()) > 0 else None


_QUANTITY_PATTERNS = (
    re.compile(r"^(?P<q>\d{1,3})\s*(?:x|pcs|pc|buah|bh|biji|pasang|psg|lusin|set|pack|box)?(?![^\W\d_])\s*(?P<rest>.*)$",
               re.IGNORECASE),
    re.compile(r"^(?P<rest>.*?)\s*(?:x\s*(?P<q>\d{1,3})|(?P<q2>\d{1,3})\s*(?:x|pcs|pc|buah|bh|biji|pasang|psg))"
               r"(?![^\W\d_])(?P<tail>.*)$", re.IGNORECASE),
    re.compile(r"^(?P<rest>.*?)\s*\((?P<q>\d{1,3})\)(?P<tail>.*)$"),
)


def _items(values: list[str]) -> list[ItemGuess]:
    chunks: list[str] = []
    for value in values:
        for part in re.split(r"\s*(?:;|\s\+\s)\s*", value):
            pieces = [p for p in re.split(r",\s+", part) if p.strip()]
            if len(pieces) > 1 and all(_quantity_of(p)[0] is not None for p in pieces):
                chunks.extend(pieces)
            elif part.strip():
                chunks.append(part)
    items = []
    for chunk in chunks:
        chunk = re.sub(r"^\s*(?:[-•*▪·>]+|\d{1,2}[.)])\s+", "", chunk).strip()
        if not chunk:
            continue
        amounts = [a for a in amounts_in(chunk) if a.marked]
        unit_price, line_total = _prices(chunk, amounts)
        without = chunk
        for amount in reversed(amounts):
            without = without[:amount.start] + without[amount.end:]
        without = re.sub(r"[@=]|\b(?:harga|hrg|total)\b", " ", without, flags=re.IGNORECASE)
        quantity, name = _quantity_of(without)
        quantity = quantity or 1
        if unit_price is None and line_total is not None:
            unit_price = line_total // quantity if line_total % quantity == 0 else None
        name = " ".join(name.strip(" -:,.").split())
        if name or unit_price is not None:
            items.append(ItemGuess(name, "", quantity, unit_price))
    return items


def _quantity_of(text: str) -> tuple[int | None, str]:
    for pattern in _QUANTITY_PATTERNS:
        match = pattern.match(text.strip())
        if match:
            q = match.groupdict().get("q") or match.groupdict().get("q2")
            if q and 0 < int(q):
                return int(q), (match["rest"] + " " + (match.groupdict().get("tail") or "")).strip()
    return None, text


def _prices(chunk: str, amounts: list[FoundAmount]) -> tuple[int | None, int | None]:
    unit = total = None
    for amount in amounts:
        before = chunk[:amount.start].rstrip()
        if before.endswith("=") or re.search(r"total\s*:?$", before, re.IGNORECASE):
            total = amount.amount if total is None else total
        elif unit is None:
            unit = amount.amount
    return unit, total


_PAYMENT_WORDS = (
    ("cod", r"cod|bayar\s?di\s?tempat|cash\s?on\s?delivery|bayar\s?ditempat"),
    ("marketplace", r"shopee|tokopedia|tokped|lazada|tiktok\s?shop|bukalapak|blibli|marketplace|checkout\s?di"),
    ("ewallet", r"ovo|gopay|go\s?pay|dana|shopeepay|linkaja|link\s?aja|e-?wallet|qris|ewallet|dompet\s?digital"),
    ("bank_transfer", r"transfer|tf|trf|bank|rekening|rek|bca|bri|bni|mandiri|bsi|cimb|permata|danamon|btn|jago"
                      r"|seabank|jenius|va|virtual\s?account"),
)


def payment_method_of(text: str) -> str:
    """The payment method a Pembayaran line names ("Transfer BCA", "COD", "Shopee", "OVO"); "" if none."""
    for method, pattern in _PAYMENT_WORDS:
        if re.search(rf"(?<![^\W_])(?:{pattern})(?![^\W_])", text or "", re.IGNORECASE):
            return method
    return ""


# Totals ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Totals:
    total: int | None = None
    shipping_cost: int | None = None
    discount: int | None = None
    words: tuple[str, ...] = ()


_TOTAL_WORDS = {
    "total": r"total(?:nya)?(?:\s?(?:semua|semuanya|bayar|pembayaran|transfer|harga|belanja))?|grand\s?total"
             r"|jadi(?:nya)?|semua(?:nya)?\s?jadi|totalan|yang\s?harus\s?dibayar|amount\s?due",
    "shipping_cost": r"ongkir(?:nya)?|ongkos\s?kirim|biaya\s?kirim|shipping(?:\s?(?:cost|fee))?",
    "discount": r"diskon(?:nya)?|disc|discount|potongan|voucher",
}
_TOTAL_RE = re.compile("|".join(f"(?P<{name}>(?<![^\\W_])(?:{pattern})(?![^\\W_]))"
                                for name, pattern in _TOTAL_WORDS.items()), re.IGNORECASE)


def read_totals(text: str) -> Totals:
    """The total, shipping and discount a message gives: each word's next amount written as money, on its line."""
    if not text or not any(ch.isdigit() for ch in text):
        return Totals()
    amounts = amounts_in(text)
    found: dict[str, int] = {}
    words = []
    for match in _TOTAL_RE.finditer(text):
        name = match.lastgroup
        if name in found:
            continue
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end == -1 else line_end
        after = [a for a in amounts if match.end() <= a.start < min(line_end, match.end() + 40)
                 and (a.marked or len(str(a.amount)) <= 9)]
        if after:
            chosen = after[0]
            if name == "total":  # "total 370rb + ongkir 15rb = 385rb": what follows the "=" is what they pay
                equals = [a for a in amounts if chosen.start < a.start < line_end
                          and text[:a.start].rstrip().endswith("=") and a.marked]
                chosen = equals[-1] if equals else chosen
            found[name] = chosen.amount
            words.append(f"{match.group()} {chosen.text}")
    return Totals(found.get("total"), found.get("shipping_cost"), found.get("discount"), tuple(words))


# What customers and shops say --------------------------------------------------------------------------------

PAID_PHRASES = (
    "sudah transfer", "udah transfer", "sdh transfer", "udh transfer", "dah transfer", "sudah tf", "udah tf",
    "sdh tf", "udh tf", "dah tf", "sudah trf", "udah trf", "sdh trf", "sudah saya transfer", "udah aku transfer",
    "sudah ku transfer", "barusan transfer", "barusan tf", "baru transfer", "baru tf", "bukti transfer", "bukti tf",
    "bukti trf", "bukti bayar", "bukti pembayaran", "sudah bayar", "udah bayar", "sdh bayar", "sudah dibayar",
    "sudah lunas", "udah lunas", "sudah dilunasi", "sudah saya bayar", "transfer sudah", "tf sudah", "tf udah",
    "paid", "already paid", "have paid", "i paid", "payment done", "payment sent", "payment proof",
    "proof of payment", "proof of transfer", "transferred", "transfer done", "done transfer", "sent the payment",
)
DELIVERED_PHRASES = (
    "sudah sampai", "udah sampai", "sdh sampai", "udh sampai", "dah sampai", "sudah nyampe", "udah nyampe",
    "udh nyampe", "dah nyampe", "paket sampai", "paketnya sampai", "barang sampai", "sudah diterima",
    "udah diterima", "sdh diterima", "sudah terima", "udah terima", "barang sudah datang",
    "sudah datang", "udah datang", "arrived", "has arrived", "got the package", "received the package",
    "received it", "package received", "parcel arrived", "delivered",
)
REVIEW_PHRASES = (
    "ulasan", "ulasannya", "review", "reviewnya", "testimoni", "testimonial", "rating", "bintang 5",
    "bintang lima", "kasih bintang", "nilai toko", "penilaian", "feedback", "rate us", "leave a review",
)
# Words right before a phrase that turn it around: "belum transfer", "blm ada bukti tf", "not paid yet".
NEGATIONS = frozenset({"belum", "blm", "blum", "belom", "nanti", "ntar", "besok", "mau", "akan", "bakal", "gak",
                       "ga", "nggak", "ngga", "tidak", "tdk", "not", "haven't", "havent", "didn't", "didnt", "no",
                       "kapan", "apakah", "apa", "will", "won't", "semoga", "moga"})

_MATCHER = compile_rules([Rule("paid", PAID_PHRASES), Rule("delivered", DELIVERED_PHRASES),
                          Rule("review", REVIEW_PHRASES)])


@dataclass(frozen=True)
class Said:
    word: str  # as written: "udah tf", "Bukti transfer"
    keyword: str  # the phrase of the rule: "udah tf"
    excerpt: str


def _said(text: str, tag: str) -> Said | None:
    if not text or not _MATCHER.could_match(text, tag):
        return None
    match = _MATCHER.first_matches([text]).get(tag)
    if match is None:
        return None
    at = text.find(match.word)
    before = normalise(text[:at]).split()[-3:] if at >= 0 else []
    if any(word.strip("?.,!") in NEGATIONS for word in before):
        return None
    if tag != "review" and text.rstrip().endswith("?") and len(text) < 80:
        return None  # "sudah sampai?" asks, it does not tell
    return Said(match.word, match.keyword, match.excerpt)


def payment_said(text: str) -> Said | None:
    return _said(text, "paid")


def delivery_said(text: str) -> Said | None:
    return _said(text, "delivered")


def review_asked(text: str) -> Said | None:
    return _said(text, "review")


def asks_for_review(side: str, text: str) -> bool:
    """A message of ours asking the customer for a review: kept on each message as it is written
    (Message.asks_for_review), so Today's "ask for a review" reads no chat text."""
    return side == "staff" and review_asked(text) is not None


_IMAGE_NAME = re.compile(r"\.(?:jpe?g|png|webp|heic|heif|gif)$|^(?:photo|image|media|gambar|foto)$", re.IGNORECASE)
_IMAGE_IN_TEXT = re.compile(
    r"<media omitted>|<media tidak disertakan>|gambar tidak disertakan|image omitted|\[(?:foto|gambar|image|photo)\]"
    r"|📷|🖼", re.IGNORECASE)


def has_image(attachments: str | tuple[str, ...] | None, body: str = "") -> bool:
    """A photo came with the message: an attachment that is one, or the export's note that one was left out."""
    names = attachments.split("\n") if isinstance(attachments, str) else list(attachments or ())
    return any(_IMAGE_NAME.search(name.strip()) for name in names if name.strip()) or bool(
        body and _IMAGE_IN_TEXT.search(body[:400]))
