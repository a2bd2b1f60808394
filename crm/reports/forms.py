from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, FieldList, FormField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, NumberRange, Optional, StopValidation, ValidationError

from ..identities import CHANNELS
from .figures import LONGEST_CUSTOM_DAYS

MAX_RUPIAH = 10**12


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
    first = DateField(_l("From"), validators=[Optional()])
    last = DateField(_l("To"), validators=[Optional()])

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


def _finite(form, field):
    # "NaN" and "sNaN" are decimals too; NumberRange would fail on them, so stop here.
    if field.data is not None and not field.data.is_finite():
        field.data = None
        raise StopValidation(_l("Type a number."))


class CostEntryForm(FlaskForm):
    class Meta:
        csrf = False  # part of the outer form, which carries the token

    channel = HiddenField(validators=[AnyOf(CHANNELS)])
    ads = IntegerField(_l("Ads (Rp)"), validators=[Optional(), NumberRange(min=0, max=MAX_RUPIAH)])
    boosts = IntegerField(_l("Boosts (Rp)"), validators=[Optional(), NumberRange(min=0, max=MAX_RUPIAH)])
    staff_hours = DecimalField(_l("Staff hours"), places=None,
                               validators=[Optional(), _finite, NumberRange(min=0, max=24 * 31 * 20)],
                               render_kw={"step": "0.25", "min": "0"})
    hourly_cost = IntegerField(_l("Cost per staff hour (Rp)"),
                               validators=[Optional(), NumberRange(min=0, max=MAX_RUPIAH)])


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
