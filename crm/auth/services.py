"""Accounts: creating them, the reader's language, the one-time setup token (logins: crm.auth.sessions)."""
import secrets
import sys

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, has_request_context, request
from flask_babel import gettext

from ..extensions import db
from ..models import ROLES, User
from .passwords import password_problem


class AccountError(ValueError):
    pass


def select_locale() -> str | None:
    if not has_request_context():  # CLI commands and background threads speak the default language
        return None
    languages = current_app.config["LANGUAGES"]
    # Read the user the request already loaded: going through current_user here could load it again,
    # and loading may itself need a translated message.
    user = g.get("_login_user")
    if user is not None and user.is_authenticated and user.locale in languages:
        return user.locale
    return request.accept_languages.best_match(languages)


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(db.select(User).where(User.email == email.strip().lower())).scalar_one_or_none()


def email_problem(email: str) -> str | None:
    """Why this is not a login e-mail address, by the same rules as the web forms (WTForms' Email validator)."""
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return gettext("Invalid email address.")
    return None


def create_user(*, name: str, email: str, password: str, role: str = "staff") -> User:
    """The web forms and `create-user` both come here, so both refuse the same e-mails and passwords."""
    if role not in ROLES:
        raise AccountError(gettext("role must be one of %(roles)s", roles=", ".join(ROLES)))
    if not name.strip():
        raise AccountError(gettext("The name is empty."))
    if problem := email_problem(email) or password_problem(password, name=name, email=email):
        raise AccountError(problem)
    if find_user_by_email(email):
        raise AccountError(gettext("an account with this e-mail address exists already"))
    user = User(name=name.strip(), email=email.strip().lower(), role=role, active=True, session_version=0)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def no_user_exists() -> bool:
    return db.session.execute(db.select(User.id).limit(1)).first() is None


def setup_token() -> str:
    """The token the one-time setup page asks for; printed on the server console, never shown on a page."""
    token = current_app.extensions.get("obrolan_setup_token")
    if token is None:
        token = secrets.token_urlsafe(12)
        current_app.extensions["obrolan_setup_token"] = token
        print(
            "\n  No account exists yet. Create the owner at /setup with this setup token:\n"
            f"    {token}\n",
            file=sys.stderr,
            flush=True,
        )
    return token
