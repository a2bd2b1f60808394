from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..customers.forms import channel_choices
from ..fields import RupiahField
from .labels import COURIER_LABELS, PAYMENT_LABELS, STATUS_LABELS

# Seconds first: a step taken from a message keeps its place after the message before it, even in one minute.
MOMENT_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]


def courier_choices():
    return [SelectChoice("", _l("No courier yet"))] + [SelectChoice(code, label)
                                                       for code, label in COURIER_LABELS.items()]


def payment_choices():
    return [SelectChoice("", _l("Not chosen yet"))] + [SelectChoice(code, label)
                                                      for code, label in PAYMENT_LABELS.items()]


class ItemForm(FlaskForm):
    class Meta:
        csrf = False  # a row of the order form, which carries the token

    name = StringField(_l("Item"), validators=[Optional(), Length(max=200)])
    variant = StringField(_l("Size, colour"), validators=[Optional(), Length(max=200)])
    quantity = IntegerField(_l("Quantity"), default=1, validators=[Optional(), NumberRange(min=1, max=9999)],
                            render_kw={"inputmode": "numeric"})
    unit_price = RupiahField(_l("Price each (Rp)"), validators=[Optional()])


class OrderForm(FlaskForm):
    customer_id = IntegerField(validators=[Optional()], widget=HiddenInput())
    conversation_id = IntegerField(validators=[Optional()], widget=HiddenInput())
    source_message_id = IntegerField(validators=[Optional()], widget=HiddenInput())
    items = FieldList(FormField(ItemForm), min_entries=2, max_entries=50)
    shipping_cost = RupiahField(_l("Shipping (Rp)"), validators=[Optional()])
    discount = RupiahField(_l("Discount (Rp)"), validators=[Optional()])
    total = RupiahField(_l("Total (Rp), empty: items + shipping − discount"), validators=[Optional()])
    payment_method = SelectField(_l("Payment"), choices=payment_choices(), default="")
    channel = SelectField(_l("Ordered through"), choices=channel_choices(), default="whatsapp")
    ordered_at = DateTimeLocalField(_l("Ordered at (empty: now)"), format=MOMENT_FORMATS, validators=[Optional()])
    recipient_name = StringField(_l("Recipient"), validators=[Optional(), Length(max=200)])
    recipient_phone = StringField(_l("Recipient's phone"), validators=[Optional(), Length(max=40)])
    address = TextAreaField(_l("Shipping address"), validators=[Optional(), Length(max=2000)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])
    courier = SelectField(_l("Courier"), choices=courier_choices(), default="")
    tracking_number = StringField(_l("Tracking number (resi)"), validators=[Optional(), Length(max=40)])
    save_name = BooleanField()
    save_address = BooleanField()
    save_phone = BooleanField()

    def filled_items(self):
        return [entry.form for entry in self.items
                if (entry.form.name.data or "").strip() or entry.form.unit_price.data is not None]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not self.filled_items() and self.total.data is None:
            self.items.errors.append(_l("Add an item, or type the total."))
            ok = False
        for entry in self.items:
            if entry.form.unit_price.data is not None and not (entry.form.name.data or "").strip():
                entry.form.name.errors.append(_l("What is it?"))
                ok = False
        return ok


def status_choices():
    return [SelectChoice(status, label) for status, label in STATUS_LABELS.items()]


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=status_choices(), validators=[DataRequired()])
    at = DateTimeLocalField(_l("When (empty: now)"), format=MOMENT_FORMATS, validators=[Optional()])
    courier = SelectField(_l("Courier"), choices=courier_choices(), default="")
    tracking_number = StringField(_l("Tracking number (resi)"), validators=[Optional(), Length(max=40)])
    message_id = IntegerField(validators=[Optional()], widget=HiddenInput())
    next = HiddenField()


class SuggestionForm(FlaskForm):
    """Dismissing a suggestion: which message, which kind, and where to go back to."""

    message_id = IntegerField(validators=[DataRequired()])
    kind = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class NextForm(FlaskForm):
    next = HiddenField()


class OrderSettingsForm(FlaskForm):
    payment_nudge_days = IntegerField(_l("Awaiting payment: nudge after (days)"), validators=[
        DataRequired(), NumberRange(min=1, max=60)])
    delivery_days = IntegerField(_l("Shipped: check delivery after (days)"), validators=[
        DataRequired(), NumberRange(min=1, max=60)])
    review_days = IntegerField(_l("Delivered: ask for a review after (days)"), validators=[
        DataRequired(), NumberRange(min=1, max=60)])
    repeat_days = IntegerField(_l("Remind to buy again after (days)"), validators=[
        DataRequired(), NumberRange(min=1, max=730)])
    repeat_days_by_product = TextAreaField(
        _l("Per product: a word of the item's name and its days, one per line"),
        validators=[Optional(), Length(max=5000)], render_kw={"placeholder": _l("e.g. madu: 30\nberas 5kg: 14")})
