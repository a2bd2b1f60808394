"""How values look on a page: times in the shop's zone, rupiah, channel names. Registered as Jinja filters."""
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from flask import Flask, current_app, url_for
from flask_babel import format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l

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
    if amount is None:
        return ""
    if str(get_locale()) == "id":
        return "Rp " + f"{amount:,}".replace(",", ".")
    return f"IDR {amount:,}"


def short_time_formatter():
    """local_time(value, "short") with the reader's language and the shop's zone looked up once for the
    page, not for each of the many times on it (Flask-Babel's lookups are most of local_time's cost)."""
    locale, zone = get_locale(), get_timezone()
    return lambda value: babel_datetime(value, "short", tzinfo=zone, locale=locale) if value else ""


def url_pattern(endpoint: str, **values) -> str:
    """A route's URL with its one integer part as %d, built once for a page of rows: Werkzeug's url_for costs
    more than the rest of a row. `url_pattern("today.done", follow_up_id=0) % 12` is "/follow-ups/12/done"."""
    (name, _zero), = values.items()
    sentinel = 987654321
    return url_for(endpoint, **{name: sentinel}).replace("%", "%%").replace(str(sentinel), "%d", 1)


def page_labels() -> dict:
    """Channel, stage and side names in the reader's language, looked up once for a page of rows."""
    return {name: {key: str(label) for key, label in labels.items()}
            for name, labels in (("channel", CHANNEL_LABELS), ("stage", STAGE_LABELS), ("side", SIDE_LABELS))}


def register(app: Flask) -> None:
    app.jinja_env.filters.update(local_time=local_time, rupiah=rupiah, to_local=to_local)
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale() or "en"),
        CHANNEL_LABELS=CHANNEL_LABELS, STAGE_LABELS=STAGE_LABELS, SIDE_LABELS=SIDE_LABELS
    )
