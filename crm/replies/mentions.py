"""The product and the price a conversation last mentioned, for {produk} and {harga}: pure, no database.

Careful on purpose: a wrong product in a reply to a customer is worse than a prompt, so a guess is made only
from the words right next to what the need tagger matched ("gamis navy ready?", "harga tas ransel hitam
berapa?", "stok kemeja batik masih ada?"), and never from a message where those words are only chat ("ready
kak?", "harganya berapa ya?"). The price is the last amount written the way shops write money: "Rp 185.000",
"185rb", "1,5 jt", "150.000", "Rp150k".
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..needs.matching import Matcher, normalise

MAX_PRODUCT_WORDS = 4
_AMOUNT_END = r"(?![\w.,]\d|[^\W\d_])"
_PRICE = re.compile(
    r"(?<![\w.,])(?:"
    rf"(?:rp\.?|idr)\s?\d[\d.,]*(?:\s?(?:rb|ribu|rebu|k|jt|juta))?{_AMOUNT_END}"
    rf"|\d+(?:[.,]\d+)?\s?(?:rb|ribu|rebu|k|jt|juta){_AMOUNT_END}"
    rf"|\d{{1,3}}(?:\.\d{{3}})+{_AMOUNT_END}"
    r")",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_][\w'’\-]*|[^\w\s]+")

# Words that are chat around a product, never the product: greetings, forms of address, asking words, and
# the words the need rules match on (a product is what stands next to them).
STOP_WORDS = frozenset("""
kak ka kk kakak sis sist gan agan min mimin admin mbak mba mas bu ibu pak bang om tante teh
halo hallo hai hi hello helo pagi siang sore malam selamat permisi assalamualaikum punten misi
ya yaa iya yah dong deh nih sih kah lah ini itu tuh yang yg ada masih apa apakah berapa brp brapa berapaan
bisa boleh mau pengen ingin tanya nanya tny info untuk utk buat sama dan atau juga lagi aja saja kalau kalo
ga gak nggak ngga tidak belum sudah udah dah ok oke sip mohon tolong please pls
harga hrg hrga harganya price prices pricelist cost much how many
stok stock stoknya restok restock ready redy tersedia available availability sold out
ukuran uk size sizes warna color colour motif model bahan varian variant katalog catalog
the a an is are do does you have has any of for in on still what which this that it
""".split())


def last_price(messages: Sequence[str]) -> str | None:
    """The last amount in the messages (oldest first), as written; a bare "150.000" gains its "Rp"."""
    for text in reversed(messages):
        found = list(_PRICE.finditer(text or ""))
        if found:
            amount = " ".join(found[-1][0].split()).rstrip(".,")
            return amount if not amount[0].isdigit() or amount[-1].isalpha() else "Rp " + amount
    return None


def _words(segment: str) -> list[str]:
    return _WORD.findall(segment)


def _is_product_word(word: str) -> bool:
    return bool(re.search(r"[^\W\d_]", word)) and normalise(word) not in STOP_WORDS


def _phrase(words: Iterable[str]) -> str | None:
    """The first run of product words: stop words before it are skipped, anything else ends it."""
    taken: list[str] = []
    for word in words:
        if _is_product_word(word):
            taken.append(word)
            if len(taken) == MAX_PRODUCT_WORDS:
                break
        elif taken:
            break
    if not any(len(re.sub(r"\W", "", word)) >= 3 for word in taken):
        return None
    return " ".join(taken)


def product_near(text: str, word: str) -> str | None:
    """The product named next to `word` (what a need rule matched, as written in `text`), or None."""
    found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text or "")
    if found is None:
        return None
    # Only the sentence the word is in: "Gamis navy ready? Kalau hijau?" names one product.
    start = max(text.rfind(mark, 0, found.start()) for mark in "?!.\n,;")
    ends = [text.find(mark, found.end()) for mark in "?!.\n,;"]
    end = min([e for e in ends if e != -1], default=len(text))
    before = _words(text[start + 1:found.start()])
    after = _words(text[found.end():end])
    anchor = normalise(word)
    # "gamis navy ready?" names it before the word; "harga tas ransel?", "stok kemeja batik?" after it.
    if anchor.startswith(("ready", "redy", "tersedia", "available", "sold", "berapa", "brp", "brapa")):
        return _before(before) or _phrase(after)
    return _phrase(after) or _before(before)


def _before(words: list[str]) -> str | None:
    phrase = _phrase(reversed(words))
    return " ".join(reversed(phrase.split(" "))) if phrase else None


def last_product(messages: Sequence[str], matcher: Matcher) -> str | None:
    """The product named in the customer's last message that has one, next to a word `matcher` (the shop's
    product and price rules) finds; messages oldest first."""
    for text in reversed(messages):
        if not text:
            continue
        for match in matcher.first_matches([text]).values():
            product = product_near(text, match.word)
            if product:
                return product
    return None
