"""`flask --app app backup [PATH]` and `flask --app app restore FILE`."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import PROJECT_ROOT, audit
from ..backups import (
    BackupError,
    RestoreRefused,
    backup_database,
    backup_folder,
    database_file,
    keep_count,
    make_backup,
    restore_database,
)
from ..extensions import db


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path):
    """Back up the database while the app runs (into instance/backups/, keeping the newest BACKUP_KEEP),
    or to PATH (a folder, or a new file name)."""
    app = current_app._get_current_object()
    try:
        if path is None:
            written = make_backup(db.engine, backup_folder(app), keep_count(app))
        else:
            target = path / f"obrolan-backup-{_stamp()}.sqlite" if path.is_dir() else path
            written = backup_database(database_file(db.engine), target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    audit.record("backup", "backup", str(written))
    db.session.commit()
    click.echo(f"Backup written to {written} ({written.stat().st_size:,} bytes).")


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
    try:
        live = database_file(db.engine)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if not yes:
        click.confirm(f"Stop the server first. Replace {live} with {file}? (the current database is kept as a backup)",
                      abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours may hold the old pages
    try:
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
