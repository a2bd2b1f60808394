"""Rupiah as shops type them, in a form field or inside a chat message: "Rp 185.000", "185rb", "1,5jt", "370k".

`read_rupiah` is the one reading of a typed amount the order pages use. Another branch (trust, issue 11 item 10)
adds the app-wide money parser; when it lands, `read_rupiah` becomes that parser and nothing else changes.
`amounts_in` finds the amounts inside a message ("total 370rb ya kak, ongkir 15.000") with their places.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

MAX_RUPIAH = 10**12
UNITS = {"": 1, "rb": 1_000, "ribu": 1_000, "rebu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000}


class NotAnAmount(ValueError):
    pass


_TYPED = re.compile(
    r"(?:rp\.?|idr)?\s*(?P<number>\d[\d., ]*?)\s*(?P<unit>rb|ribu|rebu|k|jt|juta)?\s*(?:,-|\.-|,00|-|=)?")


def read_rupiah(text: str | None) -> int | None:
    """Whole rupiah from what was typed; None when nothing was typed; NotAnAmount for anything else."""
    cleaned = " ".join((text or "").replace("\u00a0", " ").split()).lower()
    if not cleaned:
        return None
    match = _TYPED.fullmatch(cleaned)
    if not match:
        raise NotAnAmount(text)
    value = _number(match["number"].strip(), has_unit=bool(match["unit"]))
    if value is None:
        raise NotAnAmount(text)
    amount = value * UNITS[match["unit"] or ""]
    if amount != amount.to_integral_value() or amount > MAX_RUPIAH:
        raise NotAnAmount(text)  # rupiah have no cents
    return int(amount)


def _number(text: str, has_unit: bool) -> Decimal | None:
    """"1.250.000", "1,250,000" and "1 250 000" are thousands; "1,5" and "1.5" a fraction (only before a unit
    like "jt", or in "1.250.000,5" where both marks appear)."""
    if " " in text:
        if not re.fullmatch(r"\d{1,3}(?: \d{3})+", text):
            return None
        return Decimal(text.replace(" ", ""))
    marks = [char for char in text if char in ".,"]
    if not marks:
        return Decimal(text)
    if re.search(r"[.,]{2}|[.,]$", text):
        return None
    decimal_mark = None
    if len(set(marks)) == 2:
        decimal_mark = marks[-1]
        if marks.count(decimal_mark) > 1:
            return None
    elif len(marks) == 1 and (has_unit or not re.search(r"[.,]\d{3}$", text)):
        decimal_mark = marks[0]
    whole, _, fraction = text.partition(decimal_mark) if decimal_mark else (text, "", "")
    group_mark = next((char for char in marks if char != decimal_mark), None)
    if group_mark:
        groups = whole.split(group_mark)
        if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
            return None
        whole = "".join(groups)
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


@dataclass(frozen=True)
class FoundAmount:
    amount: int
    start: int
    end: int
    text: str  # as written: "Rp 185.000", "370rb"
    marked: bool  # written as money: with Rp/IDR, a unit (rb, jt, k) or thousands marks


# In running text a number is money only when it looks like it: "Rp", a unit, or thousands marks (or 4+ digits).
_IN_TEXT = re.compile(
    r"(?<![\w.,])(?P<currency>(?:rp|idr)\.?\s?)?(?P<number>\d{1,3}(?:[.,]\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"(?:\s?(?P<unit>rb|ribu|rebu|k|jt|juta)(?![^\W\d_]))?(?P<end>,-|\.-)?(?![\w]|[.,]\d)",
    re.IGNORECASE)


def amounts_in(text: str) -> list[FoundAmount]:
    """Every amount in a message that reads as rupiah, in order."""
    found = []
    for match in _IN_TEXT.finditer(text):
        number, unit = match["number"], (match["unit"] or "").lower()
        marked = bool(match["currency"] or unit or re.search(r"[.,]\d{3}", number))
        if not marked and len(number) < 4:
            continue  # "2", "L", "no 5": quantities and house numbers, not money
        try:
            amount = read_rupiah(match.group(0))
        except NotAnAmount:
            continue
        if amount:
            found.append(FoundAmount(amount, match.start(), match.end(), match.group(0).strip(), marked))
    return found
