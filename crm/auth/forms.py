from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from .services import MIN_PASSWORD_LENGTH


def _password_field(label):
    return PasswordField(label, validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))


class NewPasswordForm(FlaskForm):
    password = _password_field(_l("New password"))
    confirm = PasswordField(_l("Repeat the password"), validators=[EqualTo("password", _l("The passwords differ."))])


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
