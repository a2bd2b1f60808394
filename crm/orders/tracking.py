"""Tracking numbers (resi) in a chat message, and which courier they belong to: pure, no database, no Flask.

    tracking_numbers("Resi JNE: 012345678901234 ya kak")
    # [TrackingNumber(number="012345678901234", courier="jne", words=("Resi", "JNE"), ...)]

How a number is read
1. Candidates are unbroken runs of letters and digits, 8 to 30 long, with at least 6 digits. A number written with
   dashes or spaces ("0812-3456-7890", "1234 5678") is never one: couriers print resi unbroken.
2. The courier comes from
   - its name near the number (the nearest in the message: "JNE", "J&T", "jnt", "si cepat", "Ninja Xpress",
     "SPX"...), when the number's shape allows that courier;
   - else the number's shape, for the shapes that belong to one courier (below);
   - else nobody: a number of plain digits with only "resi" / "no resi" / "awb" / "tracking" near it is
     offered with the courier left to choose.
   A number with neither a courier's name, nor a courier's shape, nor a resi word near it is not offered.
3. Look-alikes are refused: mobile numbers (08..., 628..., +62...), bank accounts (a bank, "rek", "a/n" nearer
   than any resi word), money ("Rp", "rb", thousands marks), order and invoice numbers and NIK (their word
   nearer than any resi word).

Shapes, from open-source Indonesian tracking tools and courier help pages (see tests/test_orders_tracking.py for
the sources noted beside each):
- Shopee Xpress: SPXID + 9-15 digits (SPXID055128932124);
- J&T Express: JP, JD, JX, JT, JO or JB + 10-13 digits (JP1234567890, JX8009962760);
- Ninja Xpress: NLIDAP + 6-12 digits, or NVID + letters and digits;
- ID Express: IDE + 9-15 digits;
- Lion Parcel: two digits, LP, 8-13 digits (11LP1234567890), or LP + 10-13 digits;
- AnterAja: TSA + 7-14 letters or digits;
- JNE: JNE, an origin code (CGK, BDO, SUB, ...) or TG, then 8-14 letters and digits;
- TIKI: TKP + 10-13 digits;
- Pos Indonesia: the UPU S10 shape, two letters, eight digits, a check digit, ID (RR123456785ID): strong when
  the check digit is right, weak otherwise;
These are strong: the shape alone names the courier. Weak shapes need a courier's name or a resi word near:
- SiCepat: 12 plain digits starting with 00;
- everything else (JNE, SiCepat, AnterAja, SAP, Wahana, Pos domestic...): 10-16 plain digits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

COURIERS = {
    "jne": "JNE",
    "jnt": "J&T Express",
    "sicepat": "SiCepat",
    "anteraja": "AnterAja",
    "pos": "Pos Indonesia",
    "ninja": "Ninja Xpress",
    "idexpress": "ID Express",
    "lion": "Lion Parcel",
    "sap": "SAP Express",
    "wahana": "Wahana",
    "spx": "Shopee Xpress",
    "tiki": "TIKI",
}

# How shops and customers write each courier's name. "pos" alone also means "post" (a post on Instagram),
# so it needs a courier word with it or a Pos shape; "lion" and "sap" likewise need the number close by.
_NAMES = {
    "spx": r"shopee\s?(?:xpress|express)|spx(?:\s?express)?",
    "jnt": r"j\s?&\s?t(?:\s?express)?|jnt(?:\s?express)?|j\s?and\s?t",
    "sicepat": r"si\s?cepat",
    "anteraja": r"anter\s?aja",
    "pos": r"pos\s?(?:indonesia|kilat(?:\s?khusus)?)|posindo|kantor\s?pos|pt\.?\s?pos"
           r"|(?:(?<=via )|(?<=kirim )|(?<=resi )|(?<=paket ))pos",
    "ninja": r"ninja(?:\s?(?:xpress|express|van))?|ninjavan",
    "idexpress": r"id\s?express|ide\s?express",
    "lion": r"lion(?:\s?parcel)?",
    "sap": r"sap(?:\s?express)?",
    "wahana": r"wahana(?:\s?(?:express|prestasi))?",
    "jne": r"jne(?:\s?(?:reg|yes|oke|express|trucking|jtr))?",
    "tiki": r"tiki",
}
_NAME_RE = re.compile(
    "|".join(f"(?P<{code}>(?<![^\\W_]){pattern}(?![^\\W_]))" for code, pattern in _NAMES.items()), re.IGNORECASE)

_ORIGINS = "JNE|CGK|BDO|SUB|JOG|SRG|SOC|MES|DPS|UPG|BPN|PLM|PKU|PNK|BTH|MDC|TKG|BKS|BGR|DPK|TGR|MLG|TG"
_SHAPES = (
    ("spx", re.compile(r"SPXID\d{9,15}")),
    ("jnt", re.compile(r"J[PDXTOB]\d{10,13}")),
    ("ninja", re.compile(r"NLIDAP\d{6,12}|NVID[A-Z0-9]{6,16}")),
    ("idexpress", re.compile(r"IDE\d{9,15}")),
    ("lion", re.compile(r"\d{2}LP\d{8,13}|LP\d{10,13}")),
    ("anteraja", re.compile(r"TSA[A-Z0-9]{7,14}")),
    ("jne", re.compile(rf"(?:{_ORIGINS})[A-Z0-9]{{8,14}}")),
    ("tiki", re.compile(r"TKP\d{10,13}")),
)
_S10 = re.compile(r"[A-Z]{2}(\d{8})(\d)ID")
_PLAIN = re.compile(r"\d{10,16}")
_SICEPAT = re.compile(r"00\d{10}")

# Words that say "this is a tracking number" in ID and EN.
_RESI_WORDS = re.compile(
    r"(?<![^\W_])(?:no\.?\s?)?(?:resi|resinya|awb|airway\s?bill|tracking(?:\s?(?:number|no))?|track(?:ing)?\s?id"
    r"|lacak|nomor\s?pengiriman|no\.?\s?pengiriman|kode\s?booking|waybill)(?![^\W_])", re.IGNORECASE)
# Words that make a plain number something else, when nearer than any resi word.
_NOT_RESI_WORDS = re.compile(
    r"(?<![^\W_])(?:bca|bri|bni|mandiri|bsi|cimb|permata|danamon|btn|btpn|jenius|seabank|jago|muamalat|ocbc"
    r"|rek|rek\.|rekening|norek|no\.?\s?rek|a/n|an\.|atas\s?nama|account|acc|virtual\s?account|va|dana|ovo|gopay"
    r"|shopeepay|linkaja|rp|idr|total|harga|ongkir|transfer|tf|hp|wa|whatsapp|telp|telepon|phone|kontak|call"
    r"|pesanan|order\s?id|no\.?\s?order|id\s?pesanan|invoice|inv|nik|ktp|npwp)(?![^\W_])", re.IGNORECASE)
_CANDIDATE = re.compile(r"(?<![\w+@/.#-])([A-Za-z0-9]{8,30})(?![\w@]|[.,]\d|-\d)")
_MOBILE = re.compile(r"(?:0|62)8\d{7,11}")

NEAR = 60  # characters: a name or word this close to the number speaks for it
MAX_NUMBERS = 50  # a message listing more parcels than this is a manifest, not a chat: the first ones are enough
MAX_WORDS = 500  # names and words looked at per message, so a hostile message costs little


@dataclass(frozen=True)
class TrackingNumber:
    number: str  # upper case, as the courier prints it
    courier: str  # a key of COURIERS, or "" when the shop has to say
    words: tuple[str, ...]  # what made it a resi, as written: ("resi", "JNE"), or the shape: ("SPXID…",)
    start: int
    end: int


def s10_ok(number: str) -> bool:
    """The UPU S10 check digit of a postal item number (RR123456785ID)."""
    match = _S10.fullmatch(number)
    if not match:
        return False
    digits, check = match.group(1), int(match.group(2))
    total = sum(int(d) * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=False))
    expected = 11 - total % 11
    expected = {10: 0, 11: 5}.get(expected, expected)
    return check == expected


@dataclass(frozen=True)
class Shape:
    courier: str  # the courier the shape points to, "" for any
    strong: bool  # strong: the shape alone says the courier; weak: a courier's name or a resi word must be near


def shape_of(number: str) -> Shape | None:
    """What a number's shape says (see the module's docstring); None for a number that is no resi's shape."""
    for code, shape in _SHAPES:
        if shape.fullmatch(number):
            return Shape(code, True)
    if _S10.fullmatch(number):
        return Shape("pos", s10_ok(number))
    if _SICEPAT.fullmatch(number):
        return Shape("sicepat", False)
    if _PLAIN.fullmatch(number):
        return Shape("", False)
    return None


def courier_named(text: str) -> str | None:
    """The first courier named in a text ("JNE REG", "kirim via J&T ya"): for an order form's Ekspedisi line."""
    match = _NAME_RE.search(text)
    return match.lastgroup if match else None


def _distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, b[0] - a[1], a[0] - b[1])


def _nearest(spans, span):
    best = None
    for item in spans:
        gap = _distance(item[1], span)
        if gap <= NEAR and (best is None or gap < best[0]):
            best = (gap, item)
    return best


def _same_line(text: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    return "\n" not in text[min(a[0], b[0]):max(a[1], b[1])]


def tracking_numbers(text: str) -> list[TrackingNumber]:
    """Each tracking number in a message, with its courier (see the module's docstring)."""
    if not text or not any(ch.isdigit() for ch in text):
        return []
    names = [(m.lastgroup, m.span(), m.group()) for m in islice(_NAME_RE.finditer(text), MAX_WORDS)]
    resi_words = [(None, m.span(), m.group()) for m in islice(_RESI_WORDS.finditer(text), MAX_WORDS)]
    others = [(None, m.span(), m.group()) for m in islice(_NOT_RESI_WORDS.finditer(text), MAX_WORDS)]
    found = []
    for match in _CANDIDATE.finditer(text):
        if len(found) >= MAX_NUMBERS:
            break
        number = match.group(1).upper()
        if sum(ch.isdigit() for ch in number) < 6:
            continue
        span = match.span(1)
        shape = shape_of(number)
        if shape is None:
            continue
        if not shape.strong and number.isdigit():
            if _MOBILE.fullmatch(number) or text[max(0, span[0] - 1):span[0]] == "+":
                continue  # a phone number
            if _amount_around(text, span):
                continue
        word = _nearest([w for w in resi_words if _same_line(text, w[1], span)] or resi_words, span)
        name = _nearest([n for n in names if n[0] in _allowed(shape)], span)
        if not shape.strong:
            if not name and not word:
                continue  # nothing near says it is a resi
            other = _nearest([o for o in others if _same_line(text, o[1], span)], span)
            closest_for = min((x[0] for x in (word, name) if x), default=None)
            if other and (closest_for is None or other[0] < closest_for):
                continue  # a bank account, an order number, a NIK: its word is nearer than any resi word
        if name:
            courier, said = name[1][0], (name[1][2],)
        elif shape.courier:
            courier, said = shape.courier, (_shape_text(number),)
        else:
            courier, said = "", ()
        words = ((word[1][2],) if word else ()) + said
        found.append(TrackingNumber(number, courier, words, *span))
    return found


def _allowed(shape: Shape) -> tuple[str, ...]:
    """Couriers whose name may speak for a number of this shape: plain digits are anybody's."""
    if shape.courier == "":
        return tuple(COURIERS)
    if shape.courier == "sicepat":
        return ("sicepat", "jne", "jnt", "anteraja", "sap", "wahana", "pos", "tiki", "idexpress", "lion")
    return (shape.courier,)


def _shape_text(number: str) -> str:
    prefix = re.match(r"[A-Z]*\d{0,2}LP|[A-Z]+|00", number)
    return f"{prefix.group()}…" if prefix and prefix.group() else number


def _amount_around(text: str, span: tuple[int, int]) -> bool:
    before = text[max(0, span[0] - 4):span[0]].lower()
    after = text[span[1]:span[1] + 5].lower()
    return "rp" in before or "idr" in before or bool(re.match(r"\s?(?:rb|ribu|k|jt|juta)(?![^\W\d_])", after))
