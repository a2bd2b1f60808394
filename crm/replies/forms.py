from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..conversations.forms import MAX_MESSAGE_LENGTH, one_kind_of_line_break
from .filling import unknown_variables
from .services import SHORTCUT, normalise_shortcut

MAX_REPLY_LENGTH = 4000


def _shortcut(value: str | None) -> str | None:
    return normalise_shortcut(value) if value is not None else value


class QuickReplyEditForm(FlaskForm):
    shortcut = StringField(
        _l("Shortcut"), filters=[_shortcut],
        validators=[DataRequired(), Length(max=30),
                    Regexp(SHORTCUT, message=_l("Letters, digits, - and _ only, like rek or ongkir-jawa."))],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "placeholder": _l("e.g. rek")})
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=80)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_REPLY_LENGTH)],
                         filters=[one_kind_of_line_break], render_kw={"rows": 6})
    scope = RadioField(_l("Who uses it"), default="shop", choices=[
        SelectChoice("shop", _l("Everyone in the shop")), SelectChoice("personal", _l("Only me")),
    ])

    def validate_body(self, field):
        unknown = unknown_variables(field.data or "")
        if unknown:
            raise ValidationError(_l(
                "%(unknown)s is not a variable. Use {nama}, {toko}, {staf}, {rekening}, {produk}, {harga} "
                "(or {name}, {shop}, {staff}, {bank}, {product}, {price}), or {?anything} for a blank to fill in.",
                unknown=", ".join(unknown)))


class ShopDetailsForm(FlaskForm):
    shop_name = StringField(_l("Shop name, as customers know it"), validators=[Optional(), Length(max=120)])
    bank_accounts = TextAreaField(_l("Bank accounts and e-wallets"), validators=[Optional(), Length(max=2000)],
                                  filters=[one_kind_of_line_break], render_kw={"rows": 4})
    nudge_overdue = SelectField(_l("Nudge for an overdue follow-up"), default="")
    nudge_hot = SelectField(_l("Nudge for a hot prospect without a follow-up"), default="")


class SendViaLinkForm(FlaskForm):
    """A reply started from Obrolan: the customer, the handle it goes to, and the text (empty: only open)."""

    customer_id = IntegerField(validators=[DataRequired()])
    identity_id = IntegerField(validators=[DataRequired()])
    conversation_id = IntegerField(validators=[Optional()])
    text = TextAreaField(_l("Reply"), validators=[Optional(), Length(max=MAX_MESSAGE_LENGTH)],
                         filters=[one_kind_of_line_break])
    next = HiddenField()
