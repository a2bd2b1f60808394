from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from ..customers.forms import channel_choices
from ..formatting import FORMAT_LABELS, SIDE_LABELS, local_time, shop_zone
from .services import in_the_future

MAX_MESSAGE_LENGTH = 20_000


def one_kind_of_line_break(text: str | None) -> str | None:
    """Browsers send a textarea's line breaks as CRLF; a message keeps the LF a pasted or imported copy has."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if text else text


class MessageEntryForm(FlaskForm):
    class Meta:
        csrf = False  # a row of the outer form, which carries the token

    side = RadioField(_l("Who wrote it"), choices=[SelectChoice(side, label) for side, label in SIDE_LABELS.items()],
                      default="customer")
    body = TextAreaField(_l("Message"), validators=[Optional(), Length(max=MAX_MESSAGE_LENGTH)],
                         filters=[one_kind_of_line_break])
    sent_at = DateTimeLocalField(
        _l("Time (empty: now)"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()]
    )

    def validate_sent_at(self, field):
        # A time days ahead (a slip of the date picker) would make the chat "waiting on us" for days.
        if field.data is not None and in_the_future(field.data.replace(tzinfo=shop_zone())):
            raise ValidationError(_l("This time is in the future; it is %(now)s now. Correct the time or leave it "
                                     "empty for now.", now=local_time(datetime.now(timezone.utc))))


class MessagesForm(FlaskForm):
    messages = FieldList(FormField(MessageEntryForm), min_entries=3, max_entries=200)
    # The form's one-time key (crm.conversations.services.earlier_submission): a double "Save" saves once.
    submission = HiddenField(validators=[Optional(), Length(max=64)])

    def filled_messages(self):
        return [entry.form for entry in self.messages if (entry.form.body.data or "").strip()]


MAX_PASTE_LENGTH = 2_000_000


class LogChatForm(MessagesForm):
    pasted = TextAreaField(
        _l("Paste copied messages or a chat export"), validators=[Optional(), Length(max=MAX_PASTE_LENGTH)]
    )
    customer_id = IntegerField(validators=[Optional()])
    new_customer_name = StringField(_l("New customer's name"), validators=[Optional(), Length(max=200)])
    new_customer_handle = StringField(_l("Their number, @handle or e-mail"), validators=[Optional(), Length(max=200)])
    channel = SelectField(_l("Channel"), choices=channel_choices(), default="whatsapp")


class ImportForm(FlaskForm):
    export = FileField(_l("Exported chat: .txt, .zip or .json"), validators=[FileRequired(_l("Choose a file."))])
    format = SelectField(_l("Format"), default="auto", choices=[SelectChoice("auto", _l("Recognise it"))] + [
        SelectChoice(key, label) for key, label in FORMAT_LABELS.items()])
    channel = SelectField(_l("Channel"), default="",
                          choices=[SelectChoice("", _l("From the format"))] + channel_choices())
    me = StringField(_l("The shop's names in these chats, comma-separated"), validators=[Optional(), Length(max=500)])
    dry_run = BooleanField(_l("Only check: count, save nothing"))
