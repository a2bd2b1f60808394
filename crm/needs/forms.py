from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

# A palette rather than any colour: static/app.css styles each one, so no inline style is needed (CSP).
COLOURS = {
    "#2563eb": _l("Blue"), "#7c3aed": _l("Violet"), "#16a34a": _l("Green"), "#d97706": _l("Amber"),
    "#dc2626": _l("Red"), "#0891b2": _l("Cyan"), "#db2777": _l("Pink"), "#4f46e5": _l("Indigo"),
    "#65a30d": _l("Lime"), "#0d9488": _l("Teal"), "#ea580c": _l("Orange"), "#64748b": _l("Grey"),
}


class TagForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=80)])
    colour = SelectField(_l("Colour"), choices=[SelectChoice(value, label) for value, label in COLOURS.items()],
                         default="#64748b")
    kind = SelectField(_l("Kind"), choices=[
        SelectChoice("need", _l("Need: tagged from the customer's words")),
        SelectChoice("label", _l("Label: set by hand only")),
    ], default="need")
    keywords = TextAreaField(_l("Keywords (one per line or comma-separated)"),
                             validators=[Optional(), Length(max=20_000)])


class ConversationTagForm(FlaskForm):
    tag_id = SelectField(_l("Tag"), coerce=int)
