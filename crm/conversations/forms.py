from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from ..customers.forms import channel_choices
from ..formatting import SIDE_LABELS

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


class MessagesForm(FlaskForm):
    messages = FieldList(FormField(MessageEntryForm), min_entries=3, max_entries=200)

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


EXPORT_SUFFIXES = (".txt", ".zip", ".json")


TOO_LARGE = _l("This file is larger than %(size)s. Export the chat without media: the text is all Obrolan reads.")


def too_large_message(limit_bytes: int | None = None) -> str:
    """Said by the browser before uploading (which fills in %(size)s) and by the server after."""
    return str(TOO_LARGE) if limit_bytes is None else str(TOO_LARGE) % {"size": human_size(limit_bytes)}


def human_size(count: int) -> str:
    return f"{count // (1024 * 1024)} MB" if count >= 1024 * 1024 else f"{max(1, count // 1024)} kB"


class ImportForm(FlaskForm):
    export = FileField(_l("Exported chat: .txt, .zip or .json"), validators=[FileRequired(_l("Choose a file."))])
    format = SelectField(_l("Format"), default="auto", choices=[
        SelectChoice("auto", _l("Recognise it")), SelectChoice("whatsapp", "WhatsApp"),
        SelectChoice("telegram", "Telegram"), SelectChoice("messenger", "Facebook Messenger"),
        SelectChoice("instagram", "Instagram"), SelectChoice("line", "LINE"), SelectChoice("plain", _l("Name: text")),
    ])
    channel = SelectField(_l("Channel"), default="",
                          choices=[SelectChoice("", _l("From the format"))] + channel_choices())
    dry_run = BooleanField(_l("Only check: count, save nothing"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The browser says at once when a file is too large to upload (app.js), before sending it.
        self.export.render_kw = {"accept": ",".join(EXPORT_SUFFIXES), "required": True,
                                 "data-max-bytes": current_app.config["MAX_CONTENT_LENGTH"],
                                 "data-too-large": too_large_message()}

    def validate_export(self, field):
        upload = field.data
        if not (upload.filename or "").lower().endswith(EXPORT_SUFFIXES):
            raise ValidationError(_l("Choose the chat export itself: a .txt, .zip or .json file."))
        stream = upload.stream
        stream.seek(0, 2)
        empty = stream.tell() == 0
        stream.seek(0)
        if empty:
            raise ValidationError(_l("This file is empty. Export the chat again and choose the new file."))
