"""The order settings of the shop (Today's N days), changed on the Order settings page and kept as text with the
shop's other settings (crm.shop_settings), one key each: "2", and "madu: 30" lines for the days per product."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from ..needs.matching import normalise, tokenise
from ..shop_settings import save_settings, setting

DEFAULTS = {"payment_nudge_days": 2, "delivery_days": 5, "review_days": 3, "repeat_days": 30}
PREFIX = "order_"  # the keys in crm.shop_settings


@dataclass(frozen=True)
class OrderSettings:
    payment_nudge_days: int = DEFAULTS["payment_nudge_days"]  # awaiting payment for more than this: nudge
    delivery_days: int = DEFAULTS["delivery_days"]  # shipped this long ago and not delivered: check
    review_days: int = DEFAULTS["review_days"]  # delivered this long ago, never asked for a review: ask
    repeat_days: int = DEFAULTS["repeat_days"]  # last paid order this long ago: remind to buy again
    repeat_days_by_product: tuple[tuple[str, int], ...] = ()  # (a word of the item's name, its days)

    def repeat_days_for(self, item_names) -> int:
        """The shortest of the per-product days whose word is in one of the item names, else the shop's."""
        tokens = [set(tokenise(name)) for name in item_names]
        days = [d for word, d in self.repeat_days_by_product
                if any(set(tokenise(word)) <= names for names in tokens if names)]
        return min(days) if days else self.repeat_days

    @property
    def shortest_repeat_days(self) -> int:
        return min([self.repeat_days, *(d for _, d in self.repeat_days_by_product)])


def order_settings() -> OrderSettings:
    values = {}
    for key, default in DEFAULTS.items():
        stored = setting(f"{PREFIX}{key}").strip()
        values[key] = int(stored) if stored.isdigit() else default
    products, _refused = parse_product_days(setting(f"{PREFIX}repeat_days_by_product"))
    return OrderSettings(**values, repeat_days_by_product=tuple(products))


def parse_product_days(text: str) -> tuple[list[tuple[str, int]], list[str]]:
    """"madu: 30" lines (also "madu = 30", "madu 30 hari") into (word, days); the lines that could not be read."""
    found, refused = [], []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*(?P<word>.+?)\s*[:=]?\s*(?P<days>\d{1,3})\s*(?:hari|days?|d)?\s*", line)
        if not match or not tokenise(match["word"]) or not 1 <= int(match["days"]) <= 730:
            refused.append(line.strip())
            continue
        found.append((normalise(match["word"]).strip(" :-"), int(match["days"])))
    return found, refused


def product_days_text(settings: OrderSettings) -> str:
    return "\n".join(f"{word}: {days}" for word, days in settings.repeat_days_by_product)


def save_order_settings(values: dict, products: list[tuple[str, int]], *, user_id: int | None) -> dict:
    """Store the settings; returns them as saved, for the audit event."""
    stored = {key: int(values[key]) for key in DEFAULTS}
    stored["repeat_days_by_product"] = [list(pair) for pair in products]
    save_settings({**{f"{PREFIX}{key}": str(days) for key, days in stored.items() if key in DEFAULTS},
                   f"{PREFIX}repeat_days_by_product": "\n".join(f"{word}: {days}" for word, days in products)},
                  user_id)
    return stored


def unreadable_lines_message(lines: list[str]) -> str:
    return _("Write each product as “word: days”; could not read: %(lines)s", lines="; ".join(lines))
