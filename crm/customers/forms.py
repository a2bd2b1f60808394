from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from ..fields import RupiahField
from ..formatting import CHANNEL_LABELS, STAGE_LABELS
from ..identities import CHANNELS


def channel_choices():
    return [SelectChoice(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS]


class IdentityForm(FlaskForm):
    """One number or handle on the Edit page: a saved one (identity_id) to change or remove, or an empty row of
    one channel kind to add one."""

    class Meta:
        csrf = False  # part of the outer form, which carries the token

    identity_id = IntegerField(validators=[Optional()])
    channel = HiddenField(validators=[AnyOf(CHANNELS)], default="whatsapp")
    handle = StringField(_l("Number, @handle or e-mail"), validators=[Optional(), Length(max=200)])
    remove = BooleanField(_l("Remove"))


class CustomerForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20_000)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=2000)])
    assigned_to_id = SelectField(_l("Assigned to"), coerce=int, default=0)
    stage = SelectField(_l("Pipeline stage"), default="none",
                        choices=[SelectChoice(stage, label) for stage, label in STAGE_LABELS.items()])
    expected_value = RupiahField(_l("Expected value (Rp)"))
    identities = FieldList(FormField(IdentityForm), max_entries=100)


class MergeForm(FlaskForm):
    other_id = IntegerField(_l("Customer to merge into this one"), validators=[DataRequired()])
