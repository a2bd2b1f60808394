"""`flask --app app create-user`, `backup [PATH]`, `restore FILE` and `purge-trash`."""
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from .. import PROJECT_ROOT
from ..auth.services import AccountError, create_user
from ..extensions import db
from ..models import ROLES
from . import audit
from .backups import (
    BackupError,
    RestoreRefused,
    backup_database,
    backup_folder,
    database_file,
    keep_count,
    make_backup,
    restore_database,
)
from .trash import purge_expired


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path):
    """Back up the database while the app runs (into its folder in instance/backups/, keeping the newest BACKUP_KEEP),
    or to PATH (a folder, or a new file name)."""
    app = current_app._get_current_object()
    try:
        if path is None:
            written = make_backup(db.engine, backup_folder(app), keep_count(app))
        elif db.engine.dialect.name == "postgresql":
            from .postgres_backups import dump_database

            written = dump_database(db.engine, path / f"obrolan-backup-{_stamp()}.dump" if path.is_dir() else path)
        else:
            target = path / f"obrolan-backup-{_stamp()}.sqlite" if path.is_dir() else path
            written = backup_database(database_file(db.engine), target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {written} ({written.stat().st_size:,} bytes).")
    try:
        audit.record("backup", "backup", str(written))
        db.session.commit()
    except SQLAlchemyError as error:
        # The backup is whole and checked: a busy server or an older schema must not make it look failed.
        db.session.rollback()
        reason = getattr(error, "orig", None) or error
        click.echo(f"Note: the backup is good, but it could not be noted in the audit trail ({reason}).", err=True)


def _stamp() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%SZ")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file, yes):
    """Replace the database with a backup FILE, after checking it. Stop the server first.
    The database it replaces is kept in the backups folder."""
    app = current_app._get_current_object()
    postgres = db.engine.dialect.name == "postgresql"
    try:
        live = db.engine.url.render_as_string(hide_password=True) if postgres else database_file(db.engine)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if not yes:
        click.confirm(f"Stop the server first. Replace {live} with {file}? (the current database is kept as a backup)",
                      abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours may hold the old pages
    try:
        if postgres:
            from .postgres_backups import restore_database as restore_postgres

            result = restore_postgres(file, db.engine, backup_folder(app), PROJECT_ROOT / "migrations")
        else:
            result = restore_database(file, live, backup_folder(app), PROJECT_ROOT / "migrations")
    except RestoreRefused as error:
        raise click.ClickException(f"Nothing was restored, the database is unchanged: {error}") from error
    except BackupError as error:
        raise click.ClickException(f"The restore failed: {error}") from error
    if result.replaced_backup:
        click.echo(f"The replaced database is kept as {result.replaced_backup}.")
    click.echo(f"Restored {file} into {live} (schema version {result.revision}).")
    if result.needs_upgrade:  # an older schema may not have the audit trail yet: nothing to record into
        click.echo(f"The backup is from an older version (schema {result.revision}, this code: {result.head}); "
                   "run `flask --app app db upgrade` before serving.")
    else:
        # Written into the restored database, so its trail says where it came from and what was kept.
        audit.record("backup_restored", "backup", file.name,
                     {"replaced_kept_as": result.replaced_backup.name if result.replaced_backup else None})
        db.session.commit()


@click.command("create-user")
@click.option("--email", required=True, help="Login e-mail address.")
@click.option("--name", required=True, help="Name shown to colleagues.")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@with_appcontext
def create_user_command(email, name, role, password_stdin):
    """Create an account (the first owner, or a staff member)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(name=name, email=email, password=password, role=role)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    audit.record("account_added", user, f"{user.name} <{user.email}>", {"role": user.role})
    db.session.commit()
    click.echo(f"Created {user.role} {user.name} <{user.email}>.")


@click.command("purge-trash")
@with_appcontext
def purge_trash_command():
    """Delete for good what has been in the trash for more than 30 days (run daily; the trash page does it too)."""
    counts = purge_expired()
    db.session.commit()
    click.echo(
        f"Deleted for good: {counts['customer']} customers, {counts['conversation']} conversations, "
        f"{counts['message']} messages, {counts['quickreply']} quick replies."
    )
