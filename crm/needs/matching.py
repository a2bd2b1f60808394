"""Tags a conversation from what the customer wrote: pure functions, no database, no Flask.

Pass only the CUSTOMER's messages to `Matcher.first_matches`; each tag found comes with the message,
the word as the customer wrote it and a short excerpt, so every automatic tag can say why.

    matcher = compile_rules(Rule(t.name, t.keywords) for t in STARTER_TAGS)
    matcher.first_matches(["Kak, harga gamis ukuran L berapa? bisa COD ke Bandung?"])
    # {"price": Match(keyword="harga", word="harga", ...), "product": ..., "shipping": ...}

How a message is read
1. Folding (`normalise`): casefold, NFKD, drop accents and invisible characters (zero-width joiners,
   direction marks), so "PrÍCE" is "price" and a fullwidth "ｈａｒｇａ" is "harga".
2. Tokens (`tokenise`): runs of letters or runs of digits. "185rb" is "185" "rb"; "J&T" and "h&m"
   stay one token (& joins groups of up to 3 letters, so "hrg&ongkir" is still two words);
   "i'll" is one token. Reduplication counts once: "pikir2" and "pikir-pikir" are the token "pikir".
   Web links and e-mail addresses are skipped: "shopee.co.id" must not look like "co" (checkout).
3. A keyword matches whole tokens only ("order" never in "border"). It also matches its Indonesian
   forms, generated from the keyword rather than guessed from the message, so "masalah" never
   becomes "masa" + "-lah" unless "masa" is a keyword:
   - suffixes -nya (keywords of 2+ letters: "tfnya"), and -kah -lah -pun -in -kan -ku -mu
     (3+ letters: "berapakah", "kirimin", "kirimkan"); -an is left out on purpose ("ukuran",
     "kiriman", "pesanan" are listed as keywords where they are wanted);
   - prefixes di- ke- ter- for keywords of 4+ letters: "dikirim", "terkirim", "ditransfer";
   - a stretched last letter, when 3+ letters remain: "hargaaa", "brpp".
   A phrase ("salah kirim", "how much") matches its words in a row, whatever punctuation or line
   breaks lie between them; each of its words may take the forms above.

Known blind spots, on purpose: negation ("ga jadi pesan" still tags order), "pesan" meaning
"message", "berapa hari" tagging price. The tag shows its reason, so the shop can remove it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class StarterTag:
    name: str  # stable key, also the tag's name in the database: "price", "order", ...
    colour: str  # "#rrggbb"
    kind: str  # "need" (matched from chat) or "label" (set by hand)
    keywords: tuple[str, ...]
    title_en: str
    title_id: str


# Slang and short forms seen in Indonesian shop chat. Left out because they match too much:
# "pl" (pricelist), "rek" ("ayo rek" in Surabaya), "ds" (dropship), "sampai", "habis", "foto", "ambil".
STARTER_TAGS: tuple[StarterTag, ...] = (
    StarterTag("price", "#2563eb", "need", (
        "harga", "hrg", "hrga", "berapa", "brp", "brapa", "brpa", "berapaan", "brapaan", "brpan",
        "diskon", "disc", "discount", "promo", "voucher", "cashback", "nego", "murah", "mahal",
        "cuci gudang", "price", "prices", "pricelist", "price list", "pricing", "how much", "cost",
        "sale",
    ), "Price", "Harga"),
    StarterTag("product", "#7c3aed", "need", (
        "ready", "stok", "stock", "restok", "restock", "masih ada", "tersedia", "available",
        "availability", "do you have", "sold out", "ukuran", "uk", "size", "sizes", "allsize",
        "warna", "color", "colour", "colors", "colours", "motif", "model", "bahan", "varian",
        "variant", "katalog", "catalog", "catalogue", "real pict", "realpict", "real pic",
        "interested",
    ), "Product interest", "Minat produk"),
    StarterTag("order", "#16a34a", "need", (
        "pesan", "pesen", "pesanan", "memesan", "pemesanan", "order", "orderan", "preorder",
        "pre order", "po", "beli", "membeli", "pembelian", "buy", "purchase", "checkout",
        "check out", "co", "transfer", "transferred", "tf", "trf", "bayar", "byr", "membayar",
        "pembayaran", "payment", "pay", "paid", "invoice", "rekening", "norek", "no rek", "dp",
        "cicil", "cicilan", "qris", "gopay", "ovo", "shopeepay", "bca", "bni", "bri",
    ), "Order", "Pesanan"),
    StarterTag("shipping", "#d97706", "need", (
        "ongkir", "ongkos kirim", "kirim", "mengirim", "pengiriman", "kiriman", "resi", "awb",
        "tracking", "track", "lacak", "ekspedisi", "expedisi", "kurir", "courier", "jne", "j&t",
        "j & t", "jnt", "sicepat", "si cepat", "anteraja", "tiki", "ninja", "pos indonesia",
        "lion parcel", "wahana", "gosend", "grabexpress", "grab express", "paxel", "sameday",
        "same day", "cod", "shipping", "ship", "shipped", "shipment", "delivery", "deliver",
        "delivered", "alamat", "paket", "dhl", "fedex", "ems", "cargo", "kargo",
    ), "Shipping", "Pengiriman"),
    StarterTag("complaint", "#dc2626", "need", (
        "komplain", "komplen", "complain", "complaint", "rusak", "kecewa", "mengecewakan",
        "retur", "return", "refund", "salah kirim", "salah ukuran", "salah size", "salah warna",
        "salah barang", "tukar", "broken", "damaged", "defect", "defective", "cacat", "sobek",
        "robek", "luntur", "pecah", "penyok", "lecet", "bolong", "jelek", "zonk", "tidak sesuai",
        "tdk sesuai", "ga sesuai", "gak sesuai", "gk sesuai", "nggak sesuai", "ngga sesuai",
        "enggak sesuai", "not as described", "wrong item", "wrong size", "wrong colour",
        "wrong color", "paket hilang", "barang hilang", "tipu", "penipu", "nipu", "garansi",
        "warranty", "ganti rugi",
    ), "Complaint", "Komplain"),
    StarterTag("reseller", "#0891b2", "need", (
        "reseller", "reseler", "resell", "dropship", "dropshipper", "dropshiper", "drop ship",
        "dropshipping", "grosir", "agen", "agent", "distributor", "supplier", "wholesale",
        "kulakan", "kodi", "kodian", "lusinan", "bulk", "mitra", "kemitraan", "min order",
        "minimal order", "minimum order", "moq",
    ), "Reseller", "Reseller"),
)

SUFFIXES_2 = ("nya",)  # safe even after two letters: "tfnya", "uknya"
SUFFIXES_3 = ("kah", "lah", "pun", "in", "kan", "ku", "mu")  # after 2 letters: "poin", "coin"
PREFIXES_4 = ("di", "ke", "ter")

# Notices that chat exports write in the customer's name; "Pesan ini telah dihapus" would read as an order.
PLACEHOLDERS = frozenset({
    "pesan ini telah dihapus", "this message was deleted", "<media tidak disertakan>",
    "<media omitted>", "gambar tidak disertakan", "image omitted", "video omitted",
    "audio omitted", "sticker omitted", "stiker tidak disertakan", "document omitted",
})

EXCERPT_WIDTH = 120
WORD_MAX = 120  # a phrase spread over a screen of spaces still fits the reason column


class _FoldTable(dict):
    """str.translate table filled on first sight of a character: one character in, its folded text out."""

    LIMIT = 50_000  # hostile input can show us every code point; stop remembering after this many

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        if ch in "\u2018\u2019\u02bc\u2032\uff07":
            out = "'"  # curly apostrophes, as phone keyboards type them: "don’t"
        elif ch.isspace():
            out = " "
        elif unicodedata.category(ch) == "Cf":
            out = ""  # zero-width joiners, direction marks (WhatsApp iOS), soft hyphens
        else:
            out, previous = ch, None
            while out != previous:  # casefolding can produce decomposable text and back
                previous = out
                out = "".join(c for c in unicodedata.normalize("NFKD", out).casefold()
                              if not unicodedata.combining(c))
                out = "".join(" " if c.isspace() else c for c in out
                              if unicodedata.category(c) != "Cf")
        if len(self) < self.LIMIT:
            self[cp] = out
        return out


_FOLD = _FoldTable({cp: chr(cp).lower() for cp in range(128)})


def _fold(text: str) -> str:
    """Per-character folding: output offsets map back to the input (see `_fold_with_index`)."""
    return text.lower() if text.isascii() else text.translate(_FOLD)


def _fold_with_index(text: str) -> tuple[str, list[int]]:
    """The same string as `_fold`, plus for each folded character the offset it came from."""
    parts: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = _FOLD[ord(ch)]
        parts.append(folded)
        index.extend([i] * len(folded))
    index.append(len(text))
    return "".join(parts), index


def normalise(text: str) -> str:
    """Casefold, strip accents and invisible characters, one space between words, no edge spaces."""
    return " ".join(_fold(text).split())


# A whitespace-separated chunk that is a link or an address: skipped whole. Lazy from the chunk's
# start so a long hostile chunk costs linear time.
_LINK_RE = re.compile(
    r"(?<!\S)\S*?(?:://|www\.|[\w.+-]@[\w-]+\.\w"
    r"|\.(?:com|co\.id|id|net|org|io|me|ly|shop|store|link|app)(?![^\W\d_]))\S*")

_L = r"[^\W\d_]"  # a letter (after folding, accents are gone)
# A word (letters, maybe joined by & or ': "j&t", "i'll"), maybe doubled ("pikir-pikir", "pikir2"),
# or a number. A 2 after fewer than 3 letters is a number: "ps2".
_TOKEN_RE = re.compile(rf"({_L}+(?:[&']{_L}+)*)(?:-\1(?!{_L})|(?<={_L}{{3}})2(?!\d))?|(\d+)")


def _blank_links(folded: str) -> str:
    if "." not in folded and "@" not in folded and "/" not in folded:
        return folded
    return _LINK_RE.sub(lambda m: " " * len(m.group()), folded)  # same length: offsets still line up


def _splits_at_ampersand(word: str) -> bool:
    """& joins short letter groups ("j&t", "h&m") but not words: "hrg&ongkir" is two."""
    return "&" in word and any(len(part) > 3 for part in word.split("&"))


def _tokens(folded: str) -> list[str]:
    found = _TOKEN_RE.findall(_blank_links(folded))
    if "&" not in folded:
        return [word or number for word, number in found]
    tokens: list[str] = []
    for word, number in found:
        tokens.extend(word.split("&") if _splits_at_ampersand(word) else [word or number])
    return tokens


def tokenise(text: str) -> list[str]:
    """The words of `text` as the matcher sees them: folded, links skipped, reduplication collapsed.

    Tokens keep their surface form ("harganya" stays "harganya"): suffixes and prefixes are handled
    by the matcher, which knows the forms of each keyword.
    """
    return _tokens(_fold(text))


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords typed in a textarea: one per line or comma-separated.

    Each is normalised and trimmed of punctuation at its ends ("Harga?" -> "harga"); entries with no
    letter or digit are dropped, and so are repeats, including ones that only differ in punctuation
    ("no.rek" after "no rek"), since they match the same words.
    """
    keywords: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for item in re.split(r"[,\n\r]", text):
        keyword = normalise(item)
        keyword = re.sub(r"^[\W_]+|[\W_]+$", "", keyword)
        tokens = tuple(_tokens(keyword))
        if tokens and tokens not in seen:
            seen.add(tokens)
            keywords.append(keyword)
    return tuple(keywords)


@dataclass(frozen=True)
class Rule:
    tag: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    tag: str
    keyword: str  # the rule's keyword as written in the rule: "salah kirim"
    word: str  # the text as the customer wrote it, at most WORD_MAX characters: "Harganya", "pikir2"
    message_index: int  # index in the list passed to first_matches
    excerpt: str  # the message around the word, one line, at most EXCERPT_WIDTH characters


def _forms(token: str) -> set[str]:
    """Surface forms that count as `token`: itself, with Indonesian suffixes, with prefixes."""
    forms = {token}
    if not token[-1].isalpha():
        return forms
    if len(token) >= 2:
        forms.update(token + s for s in SUFFIXES_2)
    if len(token) >= 3:
        forms.update(token + s for s in SUFFIXES_3)
    if len(token) >= 4 and token[0].isalpha():
        forms.update(p + f for p in PREFIXES_4 for f in list(forms))
    return forms


class Matcher:
    """Rules compiled into lookup tables; build once with `compile_rules`, use for many conversations."""

    def __init__(self, rules: Iterable[Rule]):
        self._bases: dict[str, tuple[str, ...]] = {}  # surface form -> keyword tokens it stands for
        self._words: dict[str, list[tuple[str, ...]]] = {}  # tag -> each keyword's tokens
        self._single: dict[str, list[tuple[str, str]]] = {}  # token -> [(tag, keyword)]
        self._phrases: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}  # first -> [(rest, tag, kw)]
        tags: dict[str, None] = {}  # ordered set
        bases: dict[str, set[str]] = {}
        for rule in rules:
            for keyword in rule.keywords:
                tokens = _tokens(_fold(keyword))
                if not tokens:
                    continue
                tags[rule.tag] = None
                self._words.setdefault(rule.tag, []).append(tuple(tokens))
                for token in tokens:
                    for form in _forms(token):
                        bases.setdefault(form, set()).add(token)
                if len(tokens) == 1:
                    hits = self._single.setdefault(tokens[0], [])
                    if rule.tag not in (t for t, _ in hits):
                        hits.append((rule.tag, keyword))
                else:
                    self._phrases.setdefault(tokens[0], []).append((tuple(tokens[1:]), rule.tag, keyword))
        for phrases in self._phrases.values():
            phrases.sort(key=lambda p: -len(p[0]))  # at one position, the longest phrase speaks first
        self._bases = {form: tuple(sorted(b)) for form, b in bases.items()}
        self.tags: tuple[str, ...] = tuple(tags)  # tags with at least one usable keyword

    def _bases_of(self, token: str) -> tuple[str, ...]:
        bases = self._bases.get(token)
        if bases is None and len(token) > 3 and token[-1] == token[-2] and token[-1].isalpha():
            stem = token.rstrip(token[-1])  # "hargaaa" -> "harg" + "a"; also try a kept double: "mall"
            if len(stem) >= 2:
                bases = self._bases.get(stem + token[-1]) or self._bases.get(stem + token[-1] * 2)
        return bases or ()

    def _scan(self, tokens: list[str], found: set[str]) -> list[tuple[str, str, int, int]]:
        """(tag, keyword, first token, last token) for each tag not in `found`, earliest first."""
        hits: list[tuple[str, str, int, int]] = []
        token_bases: list[tuple[str, ...] | None] = [None] * len(tokens)
        get = self._bases.get
        for i, token in enumerate(tokens):
            bases = get(token)
            if bases is None:
                if token[-1] != token[-2:-1]:
                    continue
                bases = self._bases_of(token)
            for base in bases:  # phrases first: "salah kirim" says more than "kirim" at the same place
                for rest, tag, keyword in self._phrases.get(base, ()):
                    if tag in found or i + len(rest) >= len(tokens):
                        continue
                    for k, want in enumerate(rest, start=i + 1):
                        if token_bases[k] is None:
                            token_bases[k] = self._bases_of(tokens[k])
                        if want not in token_bases[k]:
                            break
                    else:
                        found.add(tag)
                        hits.append((tag, keyword, i, i + len(rest)))
            for base in bases:
                for tag, keyword in self._single.get(base, ()):
                    if tag not in found:
                        found.add(tag)
                        hits.append((tag, keyword, i, i))
        return hits

    def could_match(self, text: str, tag: str) -> bool:
        """False when `text` cannot match `tag`: for every keyword, one of its words appears nowhere in it. Each
        form a word is matched in (prefixed, suffixed, a letter drawn out) contains the word itself, so this
        substring test is a safe first look, some twenty times cheaper than `first_matches`."""
        folded = _fold(text)
        return any(all(word in folded for word in words) for words in self._words.get(tag, ()))

    def first_matches(self, messages: Sequence[str]) -> dict[str, Match]:
        """Tag -> its first match (earliest message, then earliest word), in order of discovery."""
        found: set[str] = set()
        result: dict[str, Match] = {}
        all_tags = len(self.tags)
        for index, text in enumerate(messages):
            if len(found) == all_tags:
                break
            if not text:
                continue
            folded = _fold(text)
            if " ".join(folded.split()) in PLACEHOLDERS or folded.lstrip().startswith("<attached:"):
                continue
            hits = self._scan(_tokens(folded), found)
            if hits:
                spans = _token_spans(text)
                for tag, keyword, first, last in hits:
                    start, end = spans[first][0], spans[last][1]
                    word = text[start:end][:WORD_MAX]
                    result[tag] = Match(tag, keyword, word, index, _excerpt(text, start, end))
        return result


def compile_rules(rules: Iterable[Rule]) -> Matcher:
    """Keywords are folded and tokenised here, so rules may hold them as the shop typed them."""
    return Matcher(rules)


def _token_spans(text: str) -> list[tuple[int, int]]:
    """For each token of `text` (as `_tokens` gives them), its (start, end) in `text` itself."""
    if text.isascii():
        folded, index = text.lower(), None
    else:
        folded, index = _fold_with_index(text)
    spans: list[tuple[int, int]] = []
    for m in _TOKEN_RE.finditer(_blank_links(folded)):
        if m[1] and _splits_at_ampersand(m[1]):
            parts = [(m.start() + p.start(), m.start() + p.end()) for p in re.finditer(r"[^&]+", m[1])]
        else:
            parts = [m.span()]
        spans.extend(parts if index is None else ((index[a], index[b - 1] + 1) for a, b in parts))
    return spans


def _excerpt(text: str, start: int, end: int, width: int = EXCERPT_WIDTH) -> str:
    """One line of the message around text[start:end], cut at spaces, "…" where cut."""
    if len(" ".join(text.split())) <= width:
        return " ".join(text.split())
    budget = width - 2  # room for an ellipsis on each side
    if end - start >= budget:
        return " ".join(text[start:end].split())[: width - 1] + "…"
    lo = max(0, start - (budget - (end - start)) // 2)
    hi = min(len(text), lo + budget)
    lo = max(0, hi - budget)
    if lo > 0:  # do not start inside a word
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    return ("…" if lo > 0 else "") + " ".join(text[lo:hi].split()) + ("…" if hi < len(text) else "")
