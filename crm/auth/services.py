"""Accounts: loading the logged-in user, creating accounts, the one-time setup token."""
import secrets
import sys

from flask import current_app, g, has_request_context, request
from flask_babel import gettext

from ..extensions import db
from ..models import ROLES, User

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    pass


def load_user(user_id: str) -> User | None:
    # The id carries the session version, so a password change or deactivation ends old sessions.
    user_pk, _, version = user_id.partition(":")
    if not user_pk.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_pk))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


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


def create_user(*, name: str, email: str, password: str, role: str = "staff") -> User:
    if role not in ROLES:
        raise AccountError(gettext("role must be one of %(roles)s", roles=", ".join(ROLES)))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(gettext("the password needs at least %(count)d characters", count=MIN_PASSWORD_LENGTH))
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
