import hmac
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash, generate_password_hash

from ..admin import audit
from ..extensions import db
from ..models import User
from ..security import account_at_address, limiter, own_account, wrong_password_given
from .forms import LoginForm, OwnPasswordForm, SetupForm
from .services import AccountError, create_user, find_user_by_email, no_user_exists, setup_token
from .sessions import end_every_login, log_in, log_out

bp = Blueprint("auth", __name__)

_dummy_hash: list[str] = []


def _safe_next(target: str | None) -> str:
    # Only same-site paths: "//evil.example" and "https://evil.example" would be open redirects.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        if "\\" not in target:
            return target
    return url_for("home")


def account_label(user: User) -> str:
    return f"{user.name} <{user.email}>"


def _password_matches(user: User | None, password: str) -> bool:
    """The same work whether the account exists or not (a hash is checked either way), so the time a wrong
    login takes does not tell which e-mail addresses have accounts."""
    if user is None:
        if not _dummy_hash:
            _dummy_hash.append(generate_password_hash("no account has this password"))
        check_password_hash(_dummy_hash[0], password)
        return False
    return user.check_password(password)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               deduct_when=wrong_password_given)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=account_at_address,
               deduct_when=wrong_password_given)
def login():
    if no_user_exists():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if _password_matches(user, form.password.data) and user.active:
            log_in(user, remember=form.remember.data)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        g.wrong_password = True
        flash(_("Wrong e-mail or password, or the account is deactivated."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    log_out(current_user._get_current_object())
    db.session.commit()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    user = current_user._get_current_object()
    end_every_login(user)
    audit.record("logged_out_everywhere", user, account_label(user))
    log_out(user)
    db.session.commit()
    flash(_("You are logged out everywhere: on every phone and PC."), "info")
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
            try:
                user = create_user(name=form.name.data, email=form.email.data, password=form.password.data,
                                   role="owner")
            except AccountError as error:
                form.email.errors.append(str(error))
            else:
                audit.record("account_added", user, account_label(user), {"role": user.role}, user=user)
                log_in(user)
                db.session.commit()
                flash(_("Welcome! Your owner account is ready."), "success")
                return redirect(url_for("home"))
    return render_template("auth/setup.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["PASSWORD_CHECK_LIMIT"], methods=["POST"], key_func=own_account,
               deduct_when=wrong_password_given)
def change_own_password():
    user = current_user._get_current_object()
    form = OwnPasswordForm(account=user)
    if form.validate_on_submit():
        if user.check_password(form.current.data):
            user.set_password(form.password.data)
            # Keep this login; every other one of this account ends.
            end_every_login(user, keep_this_one=True)
            audit.record("password_changed", user, account_label(user))
            db.session.commit()
            flash(_("Your password is changed."), "success")
            return redirect(url_for("home"))
        g.wrong_password = True
        form.current.errors.append(_("This is not your current password."))
    return render_template("auth/reset_password.html", form=form, user=user)


@bp.post("/account/language")
def set_language():
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        current_user.locale = language
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
