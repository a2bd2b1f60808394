from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
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
from wtforms.validators import Length, Optional, StopValidation, ValidationError

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


EXPORT_SUFFIXES = (".txt", ".zip", ".json")


TOO_LARGE = _l("This file is larger than %(size)s. Export the chat without media: the text is all Obrolan reads.")


def too_large_message(limit_bytes: int | None = None) -> str:
    """Said by the browser before uploading (which fills in %(size)s) and by the server after."""
    return str(TOO_LARGE) if limit_bytes is None else str(TOO_LARGE) % {"size": human_size(limit_bytes)}


def human_size(count: int) -> str:
    return f"{count // (1024 * 1024)} MB" if count >= 1024 * 1024 else f"{max(1, count // 1024)} kB"


def upload_name(filename: str | None) -> str:
    """The uploaded file's name as it can be saved here: it tells the format and the chat ("WhatsApp Chat -
    Rina.zip"), so it is kept, minus any folders, control characters (a NUL byte) and what goes beyond what a
    file system takes (255 bytes): the start of the name and its extension stay."""
    name = Path((filename or "").replace("\\", "/")).name
    name = "".join(char for char in name if char.isprintable()).strip()
    if name.strip(".") == "":
        return "export.txt"
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    while len((stem + suffix).encode("utf-8")) > 200:
        stem = stem[:-1]
    return (stem.strip() or "export") + suffix


class ExportField(FileField):
    """A file field that keeps a file whose name was cleaned to nothing (a NUL; crm.text_input): Flask-WTF's
    would drop it as "no file chosen"."""

    def process_formdata(self, valuelist):
        self.data = next((value for value in valuelist if isinstance(value, FileStorage)), None)


class ImportForm(FlaskForm):
    export = ExportField(_l("Exported chat: .txt, .zip or .json"))
    format = SelectField(_l("Format"), default="auto", choices=[SelectChoice("auto", _l("Recognise it"))] + [
        SelectChoice(key, label) for key, label in FORMAT_LABELS.items()])
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
        # A name made only of characters no file name can hold (a NUL) is cleaned to "": still a file sent.
        if not isinstance(upload, FileStorage) or not (upload.filename or _has_content(upload)):
            raise StopValidation(_l("Choose a file."))
        if not upload_name(upload.filename).lower().endswith(EXPORT_SUFFIXES):
            raise ValidationError(_l("Choose the chat export itself: a .txt, .zip or .json file."))
        stream = upload.stream
        stream.seek(0, 2)
        empty = stream.tell() == 0
        stream.seek(0)
        if empty:
            raise ValidationError(_l("This file is empty. Export the chat again and choose the new file."))


def _has_content(upload: FileStorage) -> bool:
    stream = upload.stream
    stream.seek(0)
    sent = bool(stream.read(1))
    stream.seek(0)
    return sent
