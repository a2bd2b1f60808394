from datetime import datetime, timezone

from flask import (
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
from flask_babel import format_decimal
from flask_babel import gettext as _

from .. import audit
from ..auth import owner_required
from ..backups import BackupError, backup_folder, find_backup, keep_count, list_backups, make_backup
from ..exports import conversation_lines, customers_csv, in_chunks
from ..extensions import db
from ..formatting import shop_zone
from . import bp


@bp.get("/backups")
@owner_required
def backups():
    files = list_backups(backup_folder(current_app))
    sizes = {backup.name: format_decimal(backup.size / 1_000_000, format="#,##0.0") for backup in files}
    return render_template("admin/backups.html", backups=files, sizes=sizes, keep=keep_count(current_app),
                           sqlite=db.engine.dialect.name == "sqlite")


@bp.post("/backups")
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


@bp.get("/backups/<name>")
@owner_required
def download_backup(name):
    path = find_backup(backup_folder(current_app), name)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/vnd.sqlite3", as_attachment=True, download_name=path.name,
                     max_age=0)


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


@bp.get("/export/customers.csv")
@owner_required
def export_customers():
    # Excel with Indonesian regional settings splits columns on ";", with English ones on ",".
    delimiter = ";" if request.args.get("sep") == "semicolon" else ","
    return _attachment(customers_csv(delimiter=delimiter), "text/csv; charset=utf-8",
                       _download_name("customers", "csv"))


@bp.get("/export/conversations.jsonl")
@owner_required
def export_conversations():
    return _attachment(conversation_lines(), "application/x-ndjson; charset=utf-8",
                       _download_name("conversations", "jsonl"))
