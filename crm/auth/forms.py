from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from .passwords import password_problem


def hard_to_guess(form, field):
    """The password policy (crm.auth.passwords), with the account's own name and e-mail as words to avoid."""
    account = getattr(form, "account", None)
    name = form.name.data if "name" in form else account.name if account else ""
    email = form.email.data if "email" in form else account.email if account else ""
    if problem := password_problem(field.data or "", name=name or "", email=email or ""):
        raise ValidationError(problem)


def _password_field(label):
    return PasswordField(label, validators=[DataRequired(), Length(max=200), hard_to_guess])


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))


class NewPasswordForm(FlaskForm):
    """`account`: whose password it is, so their name and e-mail count as easy to guess."""

    password = _password_field(_l("New password"))
    confirm = PasswordField(_l("Repeat the password"), validators=[EqualTo("password", _l("The passwords differ."))])

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account


class OwnPasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])


class AccountForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = _password_field(_l("Password"))
    confirm = PasswordField(_l("Repeat the password"), validators=[EqualTo("password", _l("The passwords differ."))])


class SetupForm(AccountForm):
    token = StringField(_l("Setup token (printed on the server console)"), validators=[DataRequired(), Length(max=100)])


class StaffForm(AccountForm):
    role = SelectField(_l("Role"), choices=[SelectChoice("staff", _l("Staff")), SelectChoice("owner", _l("Owner"))],
                       default="staff")
