"""How values look on a page: times in the shop's zone, rupiah, channel names. Registered as Jinja filters."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from .amounts import grouped

CHANNEL_LABELS = {
    "whatsapp": _l("WhatsApp"),
    "instagram": _l("Instagram"),
    "facebook": _l("Facebook Messenger"),
    "tiktok": _l("TikTok"),
    "x": _l("X"),
    "telegram": _l("Telegram"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "other": _l("Other"),
}
STAGE_LABELS = {
    "none": _l("No stage"),
    "new_lead": _l("New lead"),
    "interested": _l("Interested"),
    "negotiating": _l("Negotiating"),
    "won": _l("Won"),
    "lost": _l("Lost"),
}
SIDE_LABELS = {"customer": _l("Customer"), "staff": _l("Us")}


def shop_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SHOP_TIMEZONE"])


def local_time(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, format)


def to_local(value: datetime) -> datetime:
    return value.astimezone(shop_zone())


def rupiah(amount: int | None) -> str:
    """"Rp 1.250.000" in Indonesian, "Rp 1,250,000" in English: the same "Rp" the labels and the inputs use."""
    if amount is None:
        return ""
    return "Rp " + grouped(amount)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(local_time=local_time, rupiah=rupiah, to_local=to_local)
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale() or "en"),
        CHANNEL_LABELS=CHANNEL_LABELS, STAGE_LABELS=STAGE_LABELS, SIDE_LABELS=SIDE_LABELS
    )
