"""Channel identities: one normal form per channel, so the same person typed three ways is one identity."""
import re

import phonenumbers
from flask_babel import gettext

CHANNELS = ("whatsapp", "instagram", "facebook", "tiktok", "x", "telegram", "email", "phone", "other")
PHONE_CHANNELS = frozenset({"whatsapp", "phone"})
AT_HANDLE_CHANNELS = frozenset({"instagram", "tiktok", "x", "telegram", "facebook"})
DEFAULT_REGION = "ID"

_HANDLE = re.compile(r"^[\w.\-]{1,100}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidHandle(ValueError):
    pass


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return E.164 ('+6281234567890') for 0812-3456-7890, +62 812 3456 7890 and 6281234567890 alike."""
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise InvalidHandle(gettext("not a phone number"))
    # People paste Indonesian numbers with the country code but without the plus.
    if not text.startswith("+") and not text.startswith("0") and digits.startswith("62"):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidHandle(gettext("not a phone number")) from error
    if not phonenumbers.is_possible_number(number):
        raise InvalidHandle(gettext("not a possible phone number"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_handle(channel: str, raw: str) -> str:
    """The stored, unique form of a handle on a channel; raises InvalidHandle with a reason."""
    if channel not in CHANNELS:
        raise InvalidHandle(gettext("unknown channel"))
    text = (raw or "").strip()
    if not text:
        raise InvalidHandle(gettext("empty handle"))
    if channel in PHONE_CHANNELS:
        return normalise_phone(text)
    if channel == "email":
        text = text.lower()
        if not _EMAIL.match(text):
            raise InvalidHandle(gettext("not an e-mail address"))
        return text
    if channel in AT_HANDLE_CHANNELS:
        text = text.removeprefix("@").lower()
        if channel == "telegram" and re.fullmatch(r"\+?[\d\s\-()]{7,}", text):
            return normalise_phone(text)
        if not _HANDLE.match(text):
            raise InvalidHandle(gettext("a handle has letters, digits, '.', '_' or '-' only"))
        return text
    return " ".join(text.split()).lower()


def display_handle(channel: str, handle: str) -> str:
    if channel in PHONE_CHANNELS or handle.startswith("+"):
        try:
            return phonenumbers.format_number(
                phonenumbers.parse(handle, DEFAULT_REGION), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
        except phonenumbers.NumberParseException:
            return handle
    if channel in AT_HANDLE_CHANNELS:
        return "@" + handle
    return handle


def phone_fragment_digits(query: str) -> str | None:
    """Digits to look for inside stored E.164 numbers when a query looks like part of a phone number."""
    if not re.fullmatch(r"[\d\s+\-().]{4,}", query.strip()):
        return None
    digits = re.sub(r"\D", "", query)
    # "62812..." is the country code in front of an Indonesian mobile number (they start with 8).
    if query.strip().startswith("+62") or digits.startswith("628"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= 3 else None
