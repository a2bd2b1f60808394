"""How values look on a page: times in the shop's zone, rupiah, channel names. Registered as Jinja filters."""
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from flask import Flask, current_app, url_for
from flask_babel import format_datetime, format_time, get_locale, get_timezone
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
# The export formats crm.importers reads, as the preview and the Import page name them.
FORMAT_LABELS = {
    "whatsapp": "WhatsApp", "telegram": "Telegram", "messenger": "Facebook Messenger", "instagram": "Instagram",
    "line": "LINE", "plain": _l("Name: text"),
}


def shop_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SHOP_TIMEZONE"])


def moment_pattern(locale=None) -> str:
    """How a moment is written on every page, in the reader's language: the day as `format_day` writes it
    ("Nov 23, 2026" / "23 Nov 2026"), then the time without seconds ("9:15 AM" / "09.15")."""
    locale = locale or get_locale()
    return (str(locale.datetime_formats["medium"]).replace("{1}", locale.date_formats["medium"].pattern)
            .replace("{0}", locale.time_formats["short"].pattern))


def local_time(value: datetime | None, format: str | None = None) -> str:
    """A moment in the shop's zone, written the one way (see moment_pattern) unless a Babel format is asked for.
    A time without a zone is one read from a chat export: it is the shop's time already."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=shop_zone())
    return format_datetime(value, format or moment_pattern())


def time_range(start: datetime | None, end: datetime | None) -> str:
    """"Nov 23, 2026, 9:15 AM – 10:40 AM"; one moment when it starts and ends in the same minute; the day again
    only when it ends on another day."""
    if start is None:
        return local_time(end)
    first, last = local_time(start), local_time(end)
    if end is None or first == last:
        return first
    if to_local(start).date() == to_local(end).date():
        last = format_time(end, "short")
    return f"{first} – {last}"


def to_local(value: datetime) -> datetime:
    return value.astimezone(shop_zone())


def rupiah(amount: int | None) -> str:
    """"Rp 1.250.000" in Indonesian, "Rp 1,250,000" in English: the same "Rp" the labels and the inputs use."""
    if amount is None:
        return ""
    return "Rp " + grouped(amount)


def short_time_formatter():
    """local_time(value) with the reader's language and the shop's zone looked up once for the page, not for
    each of the many times on it (Flask-Babel's lookups are most of local_time's cost)."""
    locale, zone = get_locale(), get_timezone()
    pattern = moment_pattern(locale)
    return lambda value: babel_datetime(value, pattern, tzinfo=zone, locale=locale) if value else ""


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
    app.jinja_env.filters.update(local_time=local_time, rupiah=rupiah, to_local=to_local, time_range=time_range)
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale() or "en"),
        CHANNEL_LABELS=CHANNEL_LABELS, STAGE_LABELS=STAGE_LABELS, SIDE_LABELS=SIDE_LABELS,
        FORMAT_LABELS=FORMAT_LABELS,
    )
