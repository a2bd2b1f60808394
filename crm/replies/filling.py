"""Filling a quick reply's text: pure, no database, no Flask.

A text may hold
- variables, in Indonesian or English: {nama}/{name} the customer's first name (or "Kak"), {toko}/{shop} the
  shop's name, {staf}/{staff} the first name of whoever sends it, {rekening}/{bank} the shop's bank accounts,
  {produk}/{product} and {harga}/{price} the product and price last mentioned in the conversation;
- fill-in prompts, {?ukuran}: the sender types the size before sending.

A variable without a value becomes a prompt of the same name ({rekening} -> {?rekening}), so nothing is sent with
a hole in it and nothing is invented. Anything else in braces ({foo}, a JSON snippet) is left as written.

    fill("Halo {nama}, ukuran {?ukuran} ready", Facts(customer_name="Rina Kusuma"))
    # "Halo Rina, ukuran {?ukuran} ready"
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Variable names as typed (any case) -> what they stand for.
VARIABLES = {
    "nama": "name", "name": "name",
    "toko": "shop", "shop": "shop",
    "staf": "staff", "staff": "staff",
    "rekening": "bank", "bank": "bank",
    "produk": "product", "product": "product",
    "harga": "price", "price": "price",
}
CONVERSATION_VARIABLES = frozenset({"product", "price"})  # the only ones that need the conversation read
NAME_FALLBACK = "Kak"
PROMPT = re.compile(r"\{\?([^{}\n]{1,40})\}")
_VARIABLE = re.compile(r"\{([A-Za-z]{3,10})\}")
_PLACEHOLDER = re.compile(r"\{([A-Za-z]{3,10})\}|\{\?([^{}\n]{1,40})\}")

# Words in front of a name that are part of how the shop addresses the person: "Bu Sari", "Pak Hendra".
HONORIFICS = frozenset("""
bu ibu pak bapak mbak mba mas kak kakak ka bang abang om tante teh aa akang cik ci cici koh ko kokoh sis dek
adik ms mrs mr miss dr hj haji
""".split())
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


@dataclass(frozen=True)
class Facts:
    """What a reply can be filled with; None where the shop or the chat does not say."""

    customer_name: str | None = None  # the customer's display name as stored
    shop: str | None = None
    staff_name: str | None = None  # the sender's account name
    bank: str | None = None
    product: str | None = None
    price: str | None = None


def first_name(display_name: str | None) -> str | None:
    """How a reply addresses the customer: "Rina Kusuma" -> "Rina", "bu sari" -> "Bu Sari", "RINA" -> "Rina".
    None when the name is not a person's name: a phone number, an @handle, "Customer 0812...", only emoji."""
    text = (display_name or "").strip()
    if not text or "@" in text or text.startswith("+") or sum(ch.isdigit() for ch in text) >= 4:
        return None
    words = _NAME_WORD.findall(text)
    if not words:
        return None
    taken = words[:2] if words[0].casefold() in HONORIFICS and len(words) > 1 else words[:1]
    return " ".join(_capitalised(word) for word in taken)


def _capitalised(word: str) -> str:
    # Typed all in lower or all in upper case: write it the usual way; "McDonald", "DiCaprio" stay as they are.
    return word[:1].upper() + word[1:].lower() if word.islower() or word.isupper() else word


def _values(facts: Facts) -> dict[str, str | None]:
    staff = first_name(facts.staff_name) or ((facts.staff_name or "").strip() or None)
    return {
        "name": first_name(facts.customer_name) or NAME_FALLBACK,
        "shop": _clean(facts.shop),
        "staff": staff,
        "bank": _clean(facts.bank, keep_lines=True),
        "product": _clean(facts.product),
        "price": _clean(facts.price),
    }


def _clean(value: str | None, keep_lines: bool = False) -> str | None:
    if value is None:
        return None
    if keep_lines:
        lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
        text = "\n".join(lines).strip("\n")
    else:
        text = " ".join(value.split())
    # A value never opens a placeholder of its own: a shop named "{toko}" stays text.
    return text.replace("{", "(").replace("}", ")") or None


def fill(text: str, facts: Facts) -> str:
    """The text with every variable filled; missing values become prompts. Prompts stay for the sender."""
    values = _values(facts)
    out: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        meaning = VARIABLES.get(match[1].lower())
        if meaning is None:
            continue
        before = text[position:match.start()]
        value = values[meaning]
        if value is None:
            out.append(before)
            out.append("{?" + match[1] + "}")
        else:
            if meaning == "name":
                before, value = _without_repeated_word(before, value)
            out.append(before)
            out.append(value)
        position = match.end()
    out.append(text[position:])
    return "".join(out)


def _without_repeated_word(before: str, value: str) -> tuple[str, str]:
    """"Halo kak {nama}" for someone without a name reads "Halo kak", not "Halo kak Kak"; "Bu {nama}" for
    "Bu Sari" reads "Bu Sari"."""
    previous = re.search(r"([^\W\d_]+)(\s+)$", before)
    first, _, rest = value.partition(" ")
    if previous is None or previous[1].casefold() != first.casefold():
        return before, value
    if rest:
        return before, rest
    return before[: previous.end(1)], ""


def prompts(text: str) -> list[str]:
    """The fill-in prompts left in a text, in order, each once: ["ukuran", "warna"]."""
    seen: dict[str, None] = {}
    for match in PROMPT.finditer(text):
        seen.setdefault(match[1].strip(), None)
    return list(seen)


def needs_conversation(text: str) -> bool:
    """Whether filling the text reads the conversation ({produk}, {harga}): most replies do not."""
    return any(VARIABLES.get(m[1].lower()) in CONVERSATION_VARIABLES for m in _VARIABLE.finditer(text))


def placeholders(text: str) -> list[str]:
    """Every variable and prompt in a text as written, for the Quick replies page: ["{nama}", "{?ukuran}"]."""
    found: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(text):
        if match[1] is None or match[1].lower() in VARIABLES:
            found.setdefault(match[0], None)
    return list(found)


def unknown_variables(text: str) -> list[str]:
    """Words in braces that look like a variable but are none ({nma}): the form warns about them."""
    return sorted({m[0] for m in _VARIABLE.finditer(text) if m[1].lower() not in VARIABLES})
