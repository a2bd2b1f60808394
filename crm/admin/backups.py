"""Backups of the SQLite database: made with SQLite's online backup API while the app runs, checked before a
restore, the last N kept in instance/backups/<database>/. On PostgreSQL the same backups are made by pg_dump
(crm.admin.postgres_backups) and listed, kept and pruned here alike.

A plain file copy of a WAL database can miss what is still in the -wal file or catch a page half-written;
the backup API reads one consistent snapshot through SQLite itself, and writers carry on meanwhile.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from flask import Flask, has_request_context
from flask_babel import gettext
from sqlalchemy.engine import Engine, make_url

from ..sqlite import DatabaseInUse, nobody_serving

BACKUP_KEEP = 14
BACKUP_EVERY = timedelta(hours=24)
CHECK_EVERY_SECONDS = 3600
BUSY_TIMEOUT_SECONDS = 15

# obrolan-20260514-083000Z.sqlite, obrolan-20260514-083000Z-2.sqlite, obrolan-20260514-083000Z-before-restore.sqlite;
# .dump for PostgreSQL's
_NAME = re.compile(
    r"^obrolan-(?P<stamp>\d{8}-\d{6})Z(?:-(?P<n>\d{1,4}))?(?:-(?P<label>before-restore))?\.(?:sqlite|dump)$")
_STAMP = "%Y%m%d-%H%M%S"
# One backup at a time in this process: "back up now" and the daily thread could otherwise pick the same name.
_lock = threading.Lock()


class _Text:
    """A message that is translated when shown on a page, and plain English in a command or the daily thread
    (outside a request there is no reader's language to pick)."""

    def __init__(self, text: str, values: dict):
        self.text, self.values = text, values

    def __str__(self) -> str:
        if has_request_context():
            return gettext(self.text, **self.values)
        return self.text % self.values if self.values else self.text


def _l(text: str, **values) -> _Text:
    return _Text(text, values)


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message is for the owner."""


class RestoreRefused(BackupError):
    """The file was not restored (damaged, not ours, unknown schema): the live database is untouched."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    created_at: datetime  # aware UTC, from the name
    size: int
    before_restore: bool

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class RestoreResult:
    revision: str
    head: str
    replaced_backup: Path | None

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head


def backup_folder(app: Flask) -> Path:
    """This database's own folder, <BACKUP_DIR>/<database file name without .sqlite>/: two shops served from one
    checkout never list, download, prune or count each other's backups."""
    root = Path(app.config.get("BACKUP_DIR") or Path(app.instance_path) / "backups")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    stem = Path(url.database or url.host or "database").stem
    return root / (re.sub(r"[^\w.\-]", "_", stem).strip("._") or "database")


def _shop_of(path: Path) -> tuple | None:
    """What tells one shop's database from another's: its first account, made at setup and never changed."""
    try:
        connection = _connect(path, read_only=True)
        try:
            return connection.execute("SELECT id, email, created_at FROM users ORDER BY id LIMIT 1").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None


def adopt_shared_backups(live: Path, folder: Path) -> list[Path]:
    """Backups made before each database had its own folder lie in the folder above, mixed: move those of this
    database (the same first account) into its folder; others stay for their own database to take."""
    shared = list_backups(folder.parent)
    shop = _shop_of(live) if shared else None
    if shop is None:
        return []
    moved = []
    for backup in shared:
        if _shop_of(backup.path) == shop:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / backup.name
            if not target.exists():
                os.replace(backup.path, target)
                moved.append(target)
    return moved


def keep_count(app: Flask) -> int:
    return max(1, int(app.config.get("BACKUP_KEEP", BACKUP_KEEP)))


def database_file(engine: Engine) -> Path:
    """The live SQLite file behind the engine; other databases have their own tools (pg_dump)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        raise BackupError(_l("Backups here work for a SQLite database file only; use the database's own tools."))
    return Path(engine.url.database)


def backups_work(engine: Engine) -> bool:
    """Whether this app can back its database up: a SQLite file, or PostgreSQL with pg_dump and pg_restore."""
    if engine.dialect.name == "postgresql":
        from .postgres_backups import missing_tools

        return not missing_tools()
    try:
        database_file(engine)
    except BackupError:
        return False
    return True


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return Path(path).resolve().as_uri() + (f"?{query}" if query else "")


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(_uri(path, mode="ro"), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    return sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS)


def integrity_problems(path: Path) -> list[str]:
    """Empty when PRAGMA integrity_check says "ok"; otherwise what it (or opening the file) reported."""
    try:
        connection = _connect(path, read_only=True)
        try:
            rows = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return [] if rows == ["ok"] else rows


def copy_database(source: Path, dest: Path, source_read_only: bool = True) -> None:
    """Write a consistent copy of `source` to `dest` (a new or existing file) with the backup API.

    pages=-1 copies everything in one step, under one read snapshot: a stepwise copy would start over
    each time a writer commits, and could never finish while staff keep logging chats."""
    source_connection = _connect(source, read_only=source_read_only)
    try:
        dest_connection = _connect(dest)
        try:
            source_connection.backup(dest_connection, pages=-1)
            # The copy inherits WAL mode; a backup should be one self-contained file.
            dest_connection.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest_connection.close()
    finally:
        source_connection.close()


def _new_name(folder: Path, now: datetime, label: str | None = None, suffix: str = ".sqlite") -> Path:
    stamp = now.astimezone(timezone.utc).strftime(_STAMP)
    labelled = f"-{label}" if label else ""
    for n in range(1, 10_000):
        name = f"obrolan-{stamp}Z{'' if n == 1 else f'-{n}'}{labelled}{suffix}"
        if not (folder / name).exists():
            return folder / name
    raise BackupError(_l("Too many backups with the same time in their name."))


def backup_database(source: Path, dest: Path, verify: bool = True) -> Path:
    """Copy the live database to `dest`; the file appears under its name only once it is complete (and checked)."""
    dest = Path(dest)
    if dest.exists():
        raise BackupError(_l("%(path)s exists already; choose another name.", path=str(dest)))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=dest.parent, prefix=".obrolan-", suffix=".partial")
    os.close(fd)
    partial = Path(partial_name)
    try:
        try:
            copy_database(source, partial)
        except sqlite3.Error as error:
            raise BackupError(_l("The backup failed: %(error)s", error=str(error))) from error
        if verify and (problems := integrity_problems(partial)):
            raise BackupError(_l("The copy failed its integrity check: %(problems)s", problems="; ".join(problems[:5])))
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def list_backups(folder: Path) -> list[BackupFile]:
    """The backups in the folder, newest first; other files there are not ours and are left alone."""
    found = []
    if not Path(folder).is_dir():
        return found
    for entry in os.scandir(folder):
        match = _NAME.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        created_at = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=timezone.utc)
        found.append((created_at, int(match["n"] or 1), BackupFile(
            Path(entry.path), created_at, entry.stat().st_size, bool(match["label"]))))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [backup for _created, _n, backup in found]


def find_backup(folder: Path, name: str) -> Path | None:
    """The backup called `name` in the folder, or None: a name is only ever looked up among the listed files,
    so '../obrolan.sqlite' or an absolute path can never reach a file outside it."""
    for backup in list_backups(folder):
        if backup.name == name:
            return backup.path
    return None


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; returns what was deleted. A copy kept before a restore is
    outside the rotation: it may be the only copy of what the restore replaced, so only the owner deletes it."""
    removed = []
    for backup in [b for b in list_backups(folder) if not b.before_restore][max(1, keep):]:
        backup.path.unlink(missing_ok=True)
        removed.append(backup.path)
    return removed


def make_backup(engine: Engine, folder: Path, keep: int, now: datetime | None = None) -> Path:
    """A timestamped backup in the backups folder, then only the newest `keep` are kept."""
    if engine.dialect.name == "postgresql":
        from .postgres_backups import SUFFIX as suffix
        from .postgres_backups import dump_database

        write, source = partial(dump_database, engine), None
    else:
        source = database_file(engine)
        write, suffix = partial(backup_database, source), ".sqlite"
    with _lock:
        if source is not None:  # older SQLite backups lay in one folder for every database
            adopt_shared_backups(source, folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = write(_new_name(folder, now or datetime.now(timezone.utc), suffix=suffix))
        try:
            prune_backups(folder, keep)
        except OSError:  # the new backup is good all the same; the old ones go next time
            logging.getLogger(__name__).warning("Old backups in %s could not be deleted", folder, exc_info=True)
    return path


def backup_if_due(engine: Engine, folder: Path, keep: int, every: timedelta = BACKUP_EVERY,
                  now: datetime | None = None) -> Path | None:
    now = now or datetime.now(timezone.utc)
    if engine.dialect.name != "postgresql":
        with _lock:
            adopt_shared_backups(database_file(engine), folder)
    newest = next((b for b in list_backups(folder) if not b.before_restore), None)
    if newest and now - newest.created_at < every:
        return None
    return make_backup(engine, folder, keep, now=now)


def start_daily_backups(app: Flask, stop: threading.Event | None = None) -> threading.Thread | None:
    """For the serving process only (the `serve` command starts it): checks hourly, backs up when the newest
    backup is a day old. CLI commands and tests never start it, so `flask db upgrade` makes no thread."""
    from ..extensions import db

    if app.testing or not app.config.get("BACKUP_DAILY", True):
        return None
    with app.app_context():
        if not backups_work(db.engine):
            return None
    stop = stop or threading.Event()
    every = timedelta(hours=float(app.config.get("BACKUP_EVERY_HOURS", 24)))
    check_seconds = float(app.config.get("BACKUP_CHECK_SECONDS", CHECK_EVERY_SECONDS))

    def run() -> None:
        while True:
            try:
                with app.app_context():
                    path = backup_if_due(db.engine, backup_folder(app), keep_count(app), every=every)
                    if path:
                        from .audit import record

                        record("backup", "backup", path.name, user=None)
                        db.session.commit()
                if path:
                    app.logger.info("Daily backup written to %s", path)
            except Exception:  # a failed backup must not end the loop: tomorrow's may work
                app.logger.exception("The daily backup failed")
            if stop.wait(check_seconds):
                return

    thread = threading.Thread(target=run, name="obrolan-daily-backup", daemon=True)
    thread.start()
    return thread


def schema_revisions(migrations_dir: Path) -> tuple[list[str], str]:
    """Every revision this code's migrations know, and the head; a restored file must be at one of them."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    # Walking down from the head gives exactly the revisions that are the head or older than it.
    return [revision.revision for revision in script.walk_revisions("base", "heads")], head


def check_restorable(path: Path, known_revisions: list[str]) -> str:
    """Raise BackupError unless the file is an intact Obrolan database at a schema version this code knows;
    returns that version."""
    if problems := integrity_problems(path):
        raise RestoreRefused(_l("The file is damaged or not a database (integrity check: %(problems)s).",
                             problems="; ".join(problems[:5])))
    connection = _connect(path, read_only=True)
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as error:
        raise RestoreRefused(_l("The file is not an Obrolan database (it has no schema version).")) from error
    finally:
        connection.close()
    if len(rows) != 1 or rows[0][0] not in known_revisions:
        found = ", ".join(str(row[0]) for row in rows) or "-"
        raise RestoreRefused(_l("The file's schema version (%(found)s) is not one this version of Obrolan knows "
                             "(%(known)s); it may come from a newer version.", found=found,
                             known=", ".join(known_revisions)))
    return rows[0][0]


def restore_database(backup: Path, live: Path, folder: Path, migrations_dir: Path,
                     now: datetime | None = None) -> RestoreResult:
    """Replace the live database with `backup`, after checking it; refused while a server has it open.

    The candidate is first copied to a scratch file and checked there, so what is checked is exactly what
    is written; the live file is then overwritten through the backup API, so its WAL and shared-memory
    files stay consistent with it. The replaced database is kept in the backups folder first."""
    backup, live = Path(backup), Path(live)
    if not backup.is_file():
        raise RestoreRefused(_l("%(path)s is not a file.", path=str(backup)))
    try:
        with nobody_serving(live):
            return _restore_unserved(backup, live, folder, migrations_dir, now)
    except DatabaseInUse as error:
        raise RestoreRefused(_l("A server is running on this database: stop it first (Ctrl+C where it runs), "
                                "then restore.")) from error


def _restore_unserved(backup: Path, live: Path, folder: Path, migrations_dir: Path,
                      now: datetime | None) -> RestoreResult:
    known, head = schema_revisions(migrations_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, scratch_name = tempfile.mkstemp(dir=folder, prefix=".restore-", suffix=".partial")
    os.close(fd)
    scratch = Path(scratch_name)
    try:
        try:
            copy_database(backup, scratch)
        except sqlite3.DatabaseError as error:
            raise RestoreRefused(_l("The file is damaged or not a database (%(error)s).", error=str(error))) from error
        revision = check_restorable(scratch, known)
        with _lock:
            replaced = None
            if live.exists() and live.stat().st_size > 0:
                # No integrity check here: a damaged live database is a reason to restore, and is kept all the same.
                try:
                    replaced = backup_database(
                        live, _new_name(folder, now or datetime.now(timezone.utc), "before-restore"), verify=False)
                except BackupError as error:
                    raise RestoreRefused(_l("The current database could not be kept as a backup first: %(error)s",
                                            error=str(error))) from error
            try:
                _write_into_live(scratch, live)
            except sqlite3.Error as error:
                raise BackupError(_l("Writing into the database failed (%(error)s); the replaced one is kept as "
                                     "%(kept)s.", error=str(error), kept=str(replaced))) from error
    finally:
        scratch.unlink(missing_ok=True)
    if problems := integrity_problems(live):
        raise BackupError(_l("After the restore the database fails its integrity check (%(problems)s); "
                             "the replaced one is kept as %(kept)s.", problems="; ".join(problems[:5]),
                             kept=str(replaced)))
    return RestoreResult(revision=revision, head=head, replaced_backup=replaced)


def _write_into_live(source: Path, live: Path) -> None:
    source_connection = _connect(source, read_only=True)
    try:
        live_connection = _connect(live)
        try:
            live_connection.execute("PRAGMA journal_mode=WAL")
            source_connection.backup(live_connection, pages=-1)
            live_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            live_connection.close()
    finally:
        source_connection.close()
