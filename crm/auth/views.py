import hmac
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..admin import audit
from ..extensions import db
from ..models import User
from ..security import failed_login, limiter, login_email
from .forms import LoginForm, OwnPasswordForm, SetupForm
from .services import create_user, find_user_by_email, no_user_exists, setup_token

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: "//evil.example" and "https://evil.example" would be open redirects.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        if "\\" not in target:
            return target
    return url_for("home")


def account_label(user: User) -> str:
    return f"{user.name} <{user.email}>"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=failed_login)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=login_email,
               deduct_when=failed_login)
def login():
    if no_user_exists():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user and user.active and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password, or the account is deactivated."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not no_user_exists():
        abort(404)
    expected = setup_token()
    form = SetupForm()
    if form.validate_on_submit():
        if not hmac.compare_digest(form.token.data.strip(), expected):
            form.token.errors.append(_("This is not the token printed on the server console."))
        else:
            user = create_user(name=form.name.data, email=form.email.data, password=form.password.data, role="owner")
            audit.record("account_added", user, account_label(user), {"role": user.role}, user=user)
            db.session.commit()
            login_user(user)
            flash(_("Welcome! Your owner account is ready."), "success")
            return redirect(url_for("home"))
    return render_template("auth/setup.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_own_password():
    form = OwnPasswordForm()
    if form.validate_on_submit():
        if current_user.check_password(form.current.data):
            current_user.set_password(form.password.data)
            audit.record("password_changed", current_user._get_current_object(), account_label(current_user))
            db.session.commit()
            # The session version changed: keep this session, end the others.
            login_user(current_user._get_current_object())
            flash(_("Your password is changed."), "success")
            return redirect(url_for("home"))
        form.current.errors.append(_("This is not your current password."))
    return render_template("auth/reset_password.html", form=form, user=current_user)


@bp.post("/account/language")
def set_language():
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        current_user.locale = language
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
