"""Click-to-chat links for each channel: pure, no database.

WhatsApp and e-mail open with our text already typed (wa.me/<number>?text=..., mailto:...?body=...); Telegram,
Instagram, Messenger, TikTok and X open the customer's chat or profile only, so the text goes to the clipboard
first and the sender pastes it. A phone number gets a tel: link (a call, nothing to log).
"""
from __future__ import annotations

import re
from urllib.parse import quote

from ..identities import InvalidHandle, normalise_phone

PREFILLED = frozenset({"whatsapp", "email"})  # the link carries the text
LOGGED = frozenset({"whatsapp", "email", "telegram", "instagram", "facebook", "tiktok", "x"})


def wa_me_number(handle: str) -> str:
    """The digits wa.me wants: country code first, no "+", no leading 0: "+62 812-3456-7890" and
    "0812 3456 7890" both give "6281234567890"."""
    try:
        return normalise_phone(handle).lstrip("+")
    except InvalidHandle:
        digits = re.sub(r"\D", "", handle)
        return "62" + digits[1:] if digits.startswith("0") else digits


def _encoded(text: str) -> str:
    # Everything but letters, digits and -._~ is percent-encoded as UTF-8: spaces (%20, never "+", which
    # WhatsApp shows as a plus), "&" and "#" (which would end the text), newlines (%0A), emoji.
    return quote(text, safe="")


def chat_link(channel: str, handle: str, text: str = "") -> str | None:
    """The link that opens a chat with this handle, carrying `text` where the channel allows; None for a
    channel without one ("other")."""
    handle = (handle or "").strip()
    if not handle:
        return None
    if channel == "whatsapp":
        number = wa_me_number(handle)
        return f"https://wa.me/{number}" + (f"?text={_encoded(text)}" if text else "")
    if channel == "email":
        # RFC 6068: line breaks in a mailto body are CRLF.
        body = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return f"mailto:{quote(handle, safe='@')}" + (f"?body={_encoded(body)}" if text else "")
    if channel == "phone":
        return "tel:" + (handle if handle.startswith("+") else "+" + wa_me_number(handle))
    name = quote(handle.removeprefix("@"), safe="")
    if channel == "telegram":
        # A Telegram handle that is a phone number opens by number: t.me/+6281234567890.
        return f"https://t.me/+{wa_me_number(handle)}" if handle.startswith("+") else f"https://t.me/{name}"
    if channel == "instagram":
        return f"https://ig.me/m/{name}"
    if channel == "facebook":
        return f"https://m.me/{name}"
    if channel == "tiktok":
        return f"https://www.tiktok.com/@{name}"
    if channel == "x":
        return f"https://x.com/{name}"
    return None


def prefills(channel: str) -> bool:
    return channel in PREFILLED


def logs_replies(channel: str) -> bool:
    """Whether a reply started here can be logged as sent: every chat channel; not a call, not "other"."""
    return channel in LOGGED
