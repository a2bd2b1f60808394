"""The owner's pages for the shop's data and people: staff accounts, backups, exports, the trash and the
audit trail (read only: it has no POST route)."""
from datetime import date, datetime, timezone

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import owner_required
from ..auth.forms import NewPasswordForm, StaffForm
from ..auth.services import AccountError, create_user
from ..auth.sessions import end_every_login, logins_of
from ..auth.views import account_label
from ..extensions import db
from ..fields import day_in_range
from ..formatting import shop_zone
from ..models import User
from ..replies.services import ShortcutTaken
from . import audit
from .audit import ACTION_LABELS, TARGET_LABELS, AuditFilters, detail_lines, events, filter_choices
from .backups import (
    BackupError,
    adopt_shared_backups,
    backup_folder,
    backups_work,
    database_file,
    find_backup,
    keep_count,
    list_backups,
    make_backup,
)
from .exports import conversation_lines, customers_csv, in_chunks, quick_replies_csv
from .trash import TRASH_DAYS, ParentInTrash, contents, describe, empty_trash, get_trashed, purge_expired, restore

bp = Blueprint("admin", __name__)

AUDIT_PER_PAGE = 50


# Staff accounts -----------------------------------------------------------------------------------------------

@bp.get("/users")
@owner_required
def users():
    return _staff_page(StaffForm())


def _staff_page(form: StaffForm, status: int = 200):
    accounts = db.session.execute(db.select(User).order_by(User.active.desc(), User.name)).scalars().all()
    return render_template("admin/staff.html", users=accounts, form=form,
                           logins=logins_of(user.id for user in accounts)), status


@bp.post("/users")
@owner_required
def add_user():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                name=form.name.data, email=form.email.data, password=form.password.data, role=form.role.data
            )
        except AccountError as error:
            form.email.errors.append(str(error))
        else:
            audit.record("account_added", user, account_label(user), {"role": user.role})
            db.session.commit()
            flash(_("Account for %(name)s created.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return _staff_page(form, 400)


def _other_user(user_id: int) -> User:
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        abort(400, _("You cannot change your own account here."))
    return user


@bp.post("/users/<int:user_id>/active")
@owner_required
def set_active(user_id: int):
    user = _other_user(user_id)
    user.active = request.form.get("active") == "1"
    end_every_login(user)
    audit.record("account_reactivated" if user.active else "account_deactivated", user, account_label(user))
    db.session.commit()
    if user.active:
        flash(_("%(name)s can log in again.", name=user.name), "success")
    else:
        flash(_("%(name)s is deactivated and logged out everywhere.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/logout-everywhere")
@owner_required
def logout_everywhere(user_id: int):
    """For a lost phone or a shared PC left logged in: every login of this account ends; the password stays."""
    user = _other_user(user_id)
    ended = end_every_login(user)
    audit.record("logged_out_everywhere", user, account_label(user))
    db.session.commit()
    flash(ngettext("%(name)s is logged out everywhere (%(num)d login ended).",
                   "%(name)s is logged out everywhere (%(num)d logins ended).", ended, name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@owner_required
def reset_password(user_id: int):
    user = _other_user(user_id)
    form = NewPasswordForm(account=user)
    if form.validate_on_submit():
        user.set_password(form.password.data)
        end_every_login(user)
        audit.record("password_reset", user, account_label(user))
        db.session.commit()
        flash(_("New password set for %(name)s.", name=user.name), "success")
        return redirect(url_for("admin.users"))
    return render_template("auth/reset_password.html", form=form, user=user)


# Backups and exports ------------------------------------------------------------------------------------------


@bp.get("/admin/backups")
@owner_required
def backups():
    folder = backup_folder(current_app)
    try:
        adopt_shared_backups(database_file(db.engine), folder)
    except BackupError:
        pass  # not a SQLite file: the page says to use the database server's tools
    files = list_backups(folder)
    sizes = {backup.name: format_decimal(backup.size / 1_000_000, format="#,##0.0") for backup in files}
    return render_template("admin/backups.html", backups=files, sizes=sizes, keep=keep_count(current_app),
                           backups_work=backups_work(db.engine), postgres=db.engine.dialect.name == "postgresql",
                           missing=_missing_backup_tools())


@bp.post("/admin/backups")
@owner_required
def back_up_now():
    try:
        path = make_backup(db.engine, backup_folder(current_app), keep_count(current_app))
    except BackupError as error:
        flash(_("No backup was made: %(reason)s", reason=str(error)), "error")
    else:
        audit.record("backup", "backup", path.name)
        db.session.commit()
        flash(_("Backup %(name)s is ready.", name=path.name), "success")
    return redirect(url_for("admin.backups"))


@bp.get("/admin/backups/<name>")
@owner_required
def download_backup(name):
    path = find_backup(backup_folder(current_app), name)
    if path is None:
        abort(404)
    mimetype = "application/octet-stream" if path.suffix == ".dump" else "application/vnd.sqlite3"
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=path.name, max_age=0)


def _missing_backup_tools() -> list[str]:
    if db.engine.dialect.name != "postgresql":
        return []
    from .postgres_backups import missing_tools

    return missing_tools()


def _download_name(kind: str, extension: str) -> str:
    return f"obrolan-{kind}-{datetime.now(timezone.utc).astimezone(shop_zone()):%Y-%m-%d}.{extension}"


def _attachment(pieces, mimetype: str, filename: str) -> Response:
    # Recorded when the download starts: the body is streamed after this request's transaction is over.
    audit.record("export", "export", filename)
    db.session.commit()
    response = Response(stream_with_context(in_chunks(pieces)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/export/customers.csv")
@owner_required
def export_customers():
    # Excel with Indonesian regional settings splits columns on ";", with English ones on ",".
    delimiter = ";" if request.args.get("sep") == "semicolon" else ","
    return _attachment(customers_csv(delimiter=delimiter), "text/csv; charset=utf-8",
                       _download_name("customers", "csv"))


@bp.get("/admin/export/quick-replies.csv")
@owner_required
def export_quick_replies():
    delimiter = ";" if request.args.get("sep") == "semicolon" else ","
    return _attachment(quick_replies_csv(delimiter=delimiter), "text/csv; charset=utf-8",
                       _download_name("quick-replies", "csv"))


@bp.get("/admin/export/conversations.jsonl")
@owner_required
def export_conversations():
    return _attachment(conversation_lines(), "application/x-ndjson; charset=utf-8",
                       _download_name("conversations", "jsonl"))


# Trash and audit trail ----------------------------------------------------------------------------------------


@bp.get("/trash")
@owner_required
def trash():
    # What has been in the trash for 30 days goes now; usually there is nothing and this is one indexed look.
    if any(purge_expired().values()):
        db.session.commit()
    return render_template("admin/trash.html", trash=contents(), days=TRASH_DAYS)


@bp.post("/trash/<kind>/<int:item_id>/restore")
@owner_required
def restore_item(kind: str, item_id: int):
    item = get_trashed(kind, item_id)
    if item is None:
        abort(404)
    try:
        restore(item)
    except ParentInTrash as error:
        flash(_("%(what)s is in the trash too: restore it first.", what=describe(error.parent)), "error")
        return redirect(url_for("admin.trash"))
    except ShortcutTaken as error:
        flash(_("Another quick reply has the shortcut /%(shortcut)s now: change its shortcut, then restore this "
                "one.", shortcut=error.shortcut), "error")
        return redirect(url_for("admin.trash"))
    db.session.commit()
    flash(_("%(what)s is back.", what=describe(item)), "success")
    return redirect(url_for("admin.trash"))


@bp.post("/trash/empty")
@owner_required
def empty():
    counts = empty_trash()
    db.session.commit()
    flash(ngettext("The trash is empty: %(num)d item was deleted for good.",
                   "The trash is empty: %(num)d items were deleted for good.", sum(counts.values())), "success")
    return redirect(url_for("admin.trash"))


def _day(name: str) -> date | None:
    try:
        day = date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None
    return day if day_in_range(day) else None


@bp.get("/audit")
@owner_required
def audit_trail():
    """Read only: the trail can be filtered and paged, never changed (there is no POST route here)."""
    filters = AuditFilters(
        user=request.args.get("user", "").strip(),
        action=request.args.get("action", "").strip(),
        target_type=request.args.get("target_type", "").strip(),
        date_from=_day("from"),
        date_to=_day("to"),
        target_id=request.args.get("target_id", type=int),
    )
    page = db.paginate(events(filters), per_page=AUDIT_PER_PAGE, max_per_page=AUDIT_PER_PAGE)
    return render_template(
        "admin/audit.html", page=page, filters=filters, choices=filter_choices(), detail_lines=detail_lines,
        ACTION_LABELS=ACTION_LABELS, TARGET_LABELS=TARGET_LABELS,
        shop_timezone=current_app.config["SHOP_TIMEZONE"],
    )
