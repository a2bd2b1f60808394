"""Rupiah inside a chat message: `amounts_in` finds the amounts ("total 370rb ya kak, ongkir 15.000") with their
places, each read by the app's one money parser (crm.amounts), the same that reads every money field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..amounts import NotAnAmount
from ..amounts import parse_rupiah as read_rupiah


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
