from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..formatting import CHANNEL_LABELS, STAGE_LABELS
from ..identities import CHANNELS


def channel_choices():
    return [SelectChoice(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS]


class IdentityForm(FlaskForm):
    class Meta:
        csrf = False  # part of the outer form, which carries the token

    channel = SelectField(_l("Channel"), choices=channel_choices(), default="whatsapp")
    handle = StringField(_l("Number, @handle or e-mail"), validators=[Optional(), Length(max=200)])


class CustomerForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20_000)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=2000)])
    assigned_to_id = SelectField(_l("Assigned to"), coerce=int, default=0)
    stage = SelectField(_l("Pipeline stage"), default="none",
                        choices=[SelectChoice(stage, label) for stage, label in STAGE_LABELS.items()])
    expected_value = IntegerField(
        _l("Expected value (Rp)"), validators=[Optional(), NumberRange(min=0, max=10**12)]
    )
    identities = FieldList(FormField(IdentityForm), min_entries=2)


class MergeForm(FlaskForm):
    other_id = IntegerField(_l("Customer to merge into this one"), validators=[DataRequired()])
