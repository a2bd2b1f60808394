from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Optional, ValidationError

from ..fields import DayField, HoursField, RupiahField
from ..identities import CHANNELS
from .figures import LONGEST_CUSTOM_DAYS


def period_choices():
    return [
        SelectChoice("this_month", _l("This month")),
        SelectChoice("last_month", _l("Last month")),
        SelectChoice("last_30", _l("Last 30 days")),
        SelectChoice("last_90", _l("Last 90 days")),
        SelectChoice("custom", _l("From … to …")),
    ]


class PeriodForm(FlaskForm):
    """Read from the query string: a report is a page to bookmark, not a change to the data."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), choices=period_choices(), default="this_month")
    first = DayField(_l("From"), validators=[Optional()])
    last = DayField(_l("To"), validators=[Optional()])

    def validate(self, extra_validators=None):
        # Checked after the fields: an empty Optional() date stops its own chain, inline validators included.
        ok = super().validate(extra_validators)
        if not ok or self.period.data != "custom":
            return ok
        if not self.first.data or not self.last.data:
            self.first.errors.append(_l("Pick the first and the last day."))
            return False
        if abs((self.last.data - self.first.data).days) >= LONGEST_CUSTOM_DAYS:
            self.first.errors.append(_l("Pick at most three years."))
            return False
        return True


class CostEntryForm(FlaskForm):
    class Meta:
        csrf = False  # part of the outer form, which carries the token

    channel = HiddenField(validators=[AnyOf(CHANNELS)])
    # A table of nine rows: the page's hint says how to type amounts, each cell only shows where to.
    ads = RupiahField(_l("Ads (Rp)"), render_kw={"placeholder": "0"})
    boosts = RupiahField(_l("Boosts (Rp)"), render_kw={"placeholder": "0"})
    staff_hours = HoursField(_l("Staff hours"), render_kw={"placeholder": "0"})
    hourly_cost = RupiahField(_l("Cost per staff hour (Rp)"), render_kw={"placeholder": "0"})


class CostsForm(FlaskForm):
    month = HiddenField()
    entries = FieldList(FormField(CostEntryForm), min_entries=len(CHANNELS), max_entries=len(CHANNELS))

    def validate_month(self, field):
        if parse_month(field.data) is None:
            raise ValidationError(_l("Pick a month."))


def parse_month(text: str | None) -> date | None:
    """'2026-11' -> 1 November 2026; anything else -> None."""
    try:
        year, month = (text or "").split("-")
        return date(int(year), int(month), 1) if len(year) == 4 and len(month) == 2 else None
    except ValueError:
        return None
