"""How the report's figures read: durations, shares, ratios; registered as template filters."""
from datetime import date, timedelta

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _


def response_time(value: timedelta | None) -> str:
    """A first-response time in clock time: '45 min', '2 h 05 min', '3 d 4 h'."""
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    if minutes < 1:
        return _("under 1 min")
    if minutes < 60:
        return _("%(minutes)d min", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)02d min", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h", days=days, hours=hours)


def percent(value: float | None) -> str:
    return "–" if value is None else format_percent(value, "#,##0.#%")


def whole(value: int) -> str:
    return format_decimal(value, "#,##0")


def ratio(value: float | None) -> str:
    """Return on spend: 2.5 -> '2.5×'."""
    return "–" if value is None else _("%(ratio)s×", ratio=format_decimal(value, "#,##0.0#"))


def format_month(value: date) -> str:
    return format_date(value, "MMMM yyyy")


def register(blueprint) -> None:
    """The template filters and globals these pages draw with, for every page of the app."""
    blueprint.add_app_template_filter(response_time, "response_time")
    blueprint.add_app_template_filter(percent, "percent")
    blueprint.add_app_template_filter(whole, "whole")
    blueprint.add_app_template_filter(ratio, "ratio")
    blueprint.add_app_template_filter(format_month, "format_month")
