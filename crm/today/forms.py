from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..conversations.forms import MAX_MESSAGE_LENGTH
from ..customers.forms import SaleFields, channel_choices
from ..fields import DayField, RupiahField
from ..formatting import STAGE_LABELS


def when_choices():
    return [
        SelectChoice("1d", _l("In 1 day")),
        SelectChoice("3d", _l("In 3 days")),
        SelectChoice("7d", _l("Next week")),
        SelectChoice("date", _l("On a date")),
    ]


class _PickedDate:
    """The date field is needed only when "pick a date" was chosen. (Checked after the fields: an empty
    Optional() field stops its own chain, inline validators included.)"""

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.when.data == "date" and not self.due_date.data and not self.due_date.errors:
            self.due_date.errors.append(_l("Pick the date."))
            ok = False
        return ok


class FollowUpForm(_PickedDate, FlaskForm):
    customer_id = IntegerField(validators=[DataRequired()])
    conversation_id = IntegerField(validators=[Optional()])
    when = SelectField(_l("When"), choices=when_choices(), default="1d")
    due_date = DayField(_l("Date"), validators=[Optional()])
    due_time = TimeField(_l("Time (optional)"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)],
                       render_kw={"placeholder": _l("e.g. send the new colours, ask if the transfer went through")})
    assigned_to_id = SelectField(_l("Who follows up"), coerce=int, default=0)
    next = HiddenField()


class SnoozeForm(_PickedDate, FlaskForm):
    when = SelectField(_l("Snooze"), choices=when_choices(), default="1d")
    due_date = DayField(_l("New date"), validators=[Optional()])
    next = HiddenField()


class NextForm(FlaskForm):
    """Only the CSRF token and where to go back to."""

    next = HiddenField()


class QuickReplyForm(FlaskForm):
    body = TextAreaField(_l("Our reply"), validators=[DataRequired(), Length(max=MAX_MESSAGE_LENGTH)])
    next = HiddenField()


class StageForm(SaleFields, FlaskForm):
    stage = SelectField(_l("Pipeline stage"),
                        choices=[SelectChoice(stage, label) for stage, label in STAGE_LABELS.items()])
    expected_value = RupiahField(_l("Expected value (Rp)"))
    sold_on = DayField(_l("Sold on"), validators=[Optional()])
    channel = SelectField(_l("Sold through"), choices=channel_choices())

    def __init__(self, *args, needs_sale: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_sale = needs_sale  # becoming won now: ask for the sale

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = self.check_sale() and ok
        if self.sold_on.data is None and not self.sold_on.errors and self.wants_sale:
            self.sold_on.errors.append(_l("When was the sale?"))
            ok = False
        return ok
