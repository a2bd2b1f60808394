"""Amounts as shops type them: rupiah ("1.250.000", "1,250,000", "Rp 150.000,-", "185rb", "1,5 jt") and hours
("12,5"): one reading everywhere money is typed (the form fields are in crm/fields.py), and one way to write it."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import get_locale

MAX_RUPIAH = 10**12
# What follows the number: "185rb", "185 ribu", "185k", "1,5 jt", "1.5 juta", "2 million".
MULTIPLIERS = {
    "": 1, "rb": 1_000, "ribu": 1_000, "rebu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000,
    "million": 1_000_000, "miliar": 10**9, "milyar": 10**9, "billion": 10**9,
}  # no bare "m": it is a million in English and a miliar (10⁹) in Indonesian
_CURRENCY = re.compile(r"^(?:rp\.?|idr)\s*", re.I)
# "Rp 150.000,-" and "Rp 150.000,00" end the whole rupiah; a trailing "=" or "-" is the same habit.
_WHOLE_END = re.compile(r"(?:[.,]-+|[.,]00|=|-)$")
_AMOUNT = re.compile(r"^(?P<number>\d[\d.,\s]*?)\s*(?P<unit>[a-z]*)\.?$")


class NotAnAmount(ValueError):
    pass


def parse_rupiah(text: str) -> int | None:
    """Whole rupiah from what was typed; None for nothing typed; NotAnAmount for anything else."""
    cleaned = " ".join((text or "").replace("\u00a0", " ").split()).lower()
    if not cleaned:
        return None
    cleaned = _CURRENCY.sub("", cleaned)
    cleaned = _WHOLE_END.sub("", cleaned).strip()
    match = _AMOUNT.match(cleaned)
    if not match or match["unit"] not in MULTIPLIERS:
        raise NotAnAmount(text)
    multiplier = MULTIPLIERS[match["unit"]]
    value = _number(match["number"].replace(" ", "" if _spaced_groups(match["number"]) else " "))
    if value is None:
        raise NotAnAmount(text)
    amount = value * multiplier
    if amount != amount.to_integral_value():
        raise NotAnAmount(text)  # "1,5" rupiah: rupiah have no cents
    if amount > MAX_RUPIAH:
        raise NotAnAmount(text)
    return int(amount)


def _spaced_groups(number: str) -> bool:
    """"1 250 000": spaces between groups of three digits."""
    return bool(re.fullmatch(r"\d{1,3}(?: \d{3})+(?:[.,]\d+)?", number.strip()))


def _number(text: str) -> Decimal | None:
    """"1.250.000" and "1,250,000" are thousands; "1,5" and "1.5" a decimal; "1.250.000,5" both."""
    if not re.fullmatch(r"\d[\d.,]*", text) or re.search(r"[.,]{2}|[.,]$", text):
        return None
    separators = [char for char in text if char in ".,"]
    decimal_mark = None
    if len(set(separators)) == 2:
        decimal_mark = separators[-1]
        if separators.count(decimal_mark) > 1:
            return None
    elif len(separators) == 1 and not re.search(r"[.,]\d{3}$", text):
        decimal_mark = separators[0]  # "1,5" or "1.25": one mark not followed by exactly three digits
    whole, _, fraction = text.partition(decimal_mark) if decimal_mark else (text, "", "")
    group_mark = next((char for char in separators if char != decimal_mark), None)
    if group_mark:
        groups = whole.split(group_mark)
        if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
            return None
        whole = "".join(groups)
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:
        return None


def parse_hours(text: str) -> Decimal | None:
    """"12", "12,5", "12.5" hours; None for nothing typed; NotAnAmount otherwise."""
    cleaned = (text or "").strip().lower().removesuffix("jam").removesuffix("h").strip()
    if not cleaned:
        return None
    if not re.fullmatch(r"\d+(?:[.,]\d+)?", cleaned):
        raise NotAnAmount(text)
    return Decimal(cleaned.replace(",", "."))


def grouped(amount: int) -> str:
    """1250000 as the reader writes it: "1.250.000" in Indonesian, "1,250,000" in English."""
    text = f"{amount:,}"
    return text.replace(",", ".") if str(get_locale() or "en") == "id" else text
