"""Logins on the server: each login is a row in login_sessions, named in the session and remember-me cookies by a
random token, so logging out ends it for good (a copy of the cookie taken before stops working too).

A cookie says "user:version:token" (User.get_id). The user's session version ends all their logins at once (a
new password, deactivation, "log out everywhere"); the row ends one. A login lasts at most LOGIN_DAYS (30) on
the server, remember-me or not. Functions add and flush; the caller commits.
"""
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app, request
from flask_login import login_user, logout_user

from ..extensions import db
from ..models import LoginSession, User, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_lifetime() -> timedelta:
    return timedelta(days=float(current_app.config["LOGIN_DAYS"]))


def log_in(user: User, remember: bool = False) -> None:
    """Start a new login for the user in this browser."""
    now = utcnow()
    db.session.execute(db.delete(LoginSession).where(LoginSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_hash(token), created_at=now,
                                expires_at=now + login_lifetime()))
    db.session.flush()
    user.login_token = token
    login_user(user, remember=remember, duration=login_lifetime())


def load_user(user_id: str) -> User | None:
    """The user a session or remember-me cookie names, if that login is still on."""
    user_pk, version, token = (user_id.split(":", 2) + ["", ""])[:3]
    if not user_pk.isdigit() or not version.isdigit() or not token:
        return None
    found = db.session.execute(
        db.select(User).join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == int(user_pk), LoginSession.token_hash == _hash(token),
               LoginSession.expires_at > datetime.now(timezone.utc))
    ).scalar_one_or_none()
    if found is None or not found.active or found.session_version != int(version):
        return None
    found.login_token = token
    return found


def log_out(user: User) -> None:
    """End this browser's login: its row goes, so its cookies (and any copy of them) stop working."""
    if user.login_token:
        db.session.execute(db.delete(LoginSession).where(LoginSession.token_hash == _hash(user.login_token)))
    logout_user()


def end_every_login(user: User, keep_this_one: bool = False) -> int:
    """Log the user out everywhere (every phone and PC); `keep_this_one` keeps the login of this request.
    Returns how many other logins ended."""
    keep = _hash(user.login_token) if keep_this_one and user.login_token else None
    statement = db.delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep:
        statement = statement.where(LoginSession.token_hash != keep)
    ended = db.session.execute(statement).rowcount
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()
    if keep:  # this browser's cookies get the new session version
        remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
        login_user(user, remember=remembered, duration=login_lifetime())
    return ended


def logins_of(user_ids) -> dict[int, int]:
    """How many logins each user has open now."""
    rows = db.session.execute(
        db.select(LoginSession.user_id, db.func.count()).where(
            LoginSession.user_id.in_(list(user_ids)), LoginSession.expires_at > utcnow())
        .group_by(LoginSession.user_id))
    return dict(rows.all())
