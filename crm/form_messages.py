"""WTForms' own error messages, in Obrolan's catalogue: WTForms ships no Indonesian.

Listing them here with _l() puts them in messages.po; `use_catalogue_for_form_errors` makes every form
ask Flask-Babel for them, so "This field is required." reads "Wajib diisi." for an Indonesian user.
"""
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from flask_wtf import FlaskForm

MESSAGES = (
    _l("Field must be equal to %(other_name)s."),
    _ln("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1),
    _ln("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1),
    _ln("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
)


class CatalogueTranslations:
    """What WTForms calls to translate its messages; it fills in %(min)d and the like itself."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


def use_catalogue_for_form_errors() -> None:
    FlaskForm.Meta.get_translations = lambda meta, form: CatalogueTranslations()
