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


class SaleFields:
    """What becoming won asks for: the amount (typed as shops write it: "1.250.000", "185rb"), or that it is
    not known."""

    amount = RupiahField(_l("Sale amount (Rp)"))
    amount_unknown = BooleanField(_l("Amount not known"))

    def sale_asked(self) -> bool:
        """Won chosen now: a sale must come with it (its amount, or "not known")."""
        return self.stage.data == "won" and self.needs_sale

    def check_sale(self) -> bool:
        if self.sale_asked() and self.amount.data is None and not self.amount_unknown.data \
                and not self.amount.errors:
            self.amount.errors.append(_l("How much did they buy for? Or tick “Amount not known”."))
            return False
        return True

    @property
    def wants_sale(self) -> bool:
        return self.amount.data is not None or (self.sale_asked() and bool(self.amount_unknown.data))


class CustomerForm(SaleFields, FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20_000)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=2000)])
    assigned_to_id = SelectField(_l("Assigned to"), coerce=int, default=0)
    stage = SelectField(_l("Pipeline stage"), default="none",
                        choices=[SelectChoice(stage, label) for stage, label in STAGE_LABELS.items()])
    expected_value = RupiahField(_l("Expected value (Rp)"))
    identities = FieldList(FormField(IdentityForm), max_entries=100)

    def __init__(self, *args, needs_sale: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_sale = needs_sale  # choosing won now (a new customer, or one who was not won)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return self.check_sale() and ok


class MergeForm(FlaskForm):
    other_id = IntegerField(_l("Customer to merge into this one"), validators=[DataRequired()])


class CustomerListForm(FlaskForm):
    """The list's search, filters and order, read from the URL: a list is a page to bookmark."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, phone number or @handle"), validators=[Optional(), Length(max=200)])
    stage = SelectField(_l("Stage"), default="")
    channel = SelectField(_l("Channel"), default="")
    tag = SelectField(_l("Need tag"), default="")
    assigned = SelectField(_l("Assigned to"), default="")
    quiet = SelectField(_l("No contact for"), default="")
    won = SelectField(_l("Won"), default="")
    waiting = BooleanField(_l("Waiting on us"))
    follow_up = BooleanField(_l("Has an open follow-up"))
    sort = SelectField(_l("Order by"), default="activity")
    dir = SelectField(default="", choices=[SelectChoice("", ""), SelectChoice("asc", _l("ascending")),
                                           SelectChoice("desc", _l("descending"))])

    def chosen(self, field) -> str:
        """The value if it is one of the choices; anything else typed into the URL is no filter."""
        value = field.data or ""
        return value if value in {str(choice.value) for choice in field.choices} else ""


class BulkForm(FlaskForm):
    """What to do with the customers picked on a page (their ids come as `ids`)."""

    # Only the field of the action chosen matters; the view checks that one against its choices.
    assign_to = SelectField(_l("Assign to"), coerce=int, default=0, validate_choice=False)
    stage = SelectField(_l("Stage"), default="none", validate_choice=False)
    tag_id = SelectField(_l("Tag"), coerce=int, default=0, validate_choice=False)
    when = SelectField(_l("Follow up"), default="1d", validate_choice=False)
    next = HiddenField()

    def chose(self, field) -> bool:
        return field.data in {choice.value for choice in field.choices}
