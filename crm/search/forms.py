from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..fields import DayField
from ..formatting import CHANNEL_LABELS, SIDE_LABELS, STAGE_LABELS


class SearchForm(FlaskForm):
    """The query and filters, read from the URL: a search is a GET anyone can bookmark, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=300)])
    channel = SelectField(_l("Channel"), default="")
    tag = SelectField(_l("Tag"), default="")
    stage = SelectField(_l("Stage"), default="")
    staff = SelectField(_l("Logged by"), default="")
    side = SelectField(_l("Written by"), default="")
    date_from = DayField(_l("From"), validators=[Optional()])
    date_to = DayField(_l("To"), validators=[Optional()])
    order = SelectField(_l("Order"), default="best",
                        choices=[SelectChoice("best", _l("Best match")), SelectChoice("newest", _l("Newest"))])

    def set_choices(self, tags, users) -> None:
        anything = SelectChoice("", _l("Any"))
        self.channel.choices = [anything] + [SelectChoice(*item) for item in CHANNEL_LABELS.items()]
        self.stage.choices = [anything] + [SelectChoice(*item) for item in STAGE_LABELS.items()]
        self.side.choices = [anything, SelectChoice("customer", SIDE_LABELS["customer"]),
                             SelectChoice("staff", _l("Us (our messages)"))]
        self.tag.choices = [anything] + [SelectChoice(str(tag_id), title) for tag_id, title in tags]
        self.staff.choices = [anything] + [SelectChoice(str(user_id), name) for user_id, name in users]

    def chosen(self, field) -> str:
        """The value if it is one of the choices; anything else typed into the URL is no filter."""
        value = field.data or ""
        return value if value in {str(choice.value) for choice in field.choices} else ""
