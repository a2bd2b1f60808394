"""Form fields for what shops type: rupiah and hours (read by crm.amounts) and days, each with one clear error.

Text inputs, not number inputs, for amounts: a browser's number input refuses "1.250.000" and "185rb", and
checks a step ("the two nearest valid values are 1 and 2") before the server can explain anything.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from .amounts import NotAnAmount, grouped, parse_hours, parse_rupiah

# Days a shop can mean: outside them a date is a typo ("0001-01-01"), and times around it do not exist in every
# zone (Jakarta's midnight of 1 January of year 1 is in year 0 in UTC).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def day_in_range(day: date | None) -> bool:
    return day is None or FIRST_DAY <= day <= LAST_DAY


class DayField(DateField):
    """A date between 1900 and 2999; any other is refused with one error, never a 500 further on."""

    def pre_validate(self, form):
        super().pre_validate(form)
        if not day_in_range(self.data):
            self.data = None
            raise ValidationError(str(_l("Pick a date between %(first)d and %(last)d.", first=FIRST_DAY.year,
                                         last=LAST_DAY.year)))


class RupiahField(Field):
    """Whole rupiah typed the way shops write them; shows the saved amount grouped, keeps a refused one as typed."""

    widget = TextInput()
    message = _l("Type an amount in rupiah, like 1.250.000, 185rb or 1,5 jt.")

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"autocomplete": "off", "placeholder": _l("e.g. 1.250.000 or 185rb"),
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_rupiah(valuelist[0])
        except NotAnAmount:
            self.data = None
            raise ValueError(str(self.message)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return grouped(self.data) if self.data is not None else ""


class HoursField(Field):
    """Hours with a decimal comma or point ("12,5"), never a browser's step check."""

    widget = TextInput()
    message = _l("Type the hours as a number, like 12 or 12,5.")
    limit = 24 * 31 * 20

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"autocomplete": "off", "inputmode": "decimal", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_hours(valuelist[0])
        except NotAnAmount:
            self.data = None
            raise ValueError(str(self.message)) from None
        if self.data is not None and self.data > self.limit:
            self.data = None
            raise ValueError(str(self.message))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = f"{Decimal(str(self.data)).normalize():f}"
        return text.replace(".", ",") if str(get_locale() or "en") == "id" else text
