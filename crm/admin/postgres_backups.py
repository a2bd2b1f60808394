"""Backups of a PostgreSQL database: PostgreSQL's own pg_dump and pg_restore, found on PATH.

A backup is `pg_dump --format=custom` of the whole database (one consistent snapshot; staff keep working),
named like SQLite's backups but ending in .dump, written next to them and pruned with them. A restore checks
the file with `pg_restore --list` and its schema version, keeps the current database as a
...-before-restore.dump first, then replaces the database's objects in one transaction
(`pg_restore --clean --single-transaction`): a failure leaves the database as it was.
pg_dump must be at least the server's version; its own error says so when it is not.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import Engine

from .backups import BackupError, RestoreRefused, RestoreResult, _l

SUFFIX = ".dump"
TIMEOUT_SECONDS = 3600


def missing_tools() -> list[str]:
    return [name for name in ("pg_dump", "pg_restore") if shutil.which(name) is None]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(_l("%(tool)s was not found on this computer: install PostgreSQL's client programs "
                             "(Debian and Ubuntu: apt install postgresql-client; the same version as the server "
                             "or newer) so that %(tool)s is on PATH.", tool=name))
    return found


def _connection(engine: Engine) -> tuple[str, dict]:
    """libpq's URI for the engine's database (no password in it: that goes in the environment, so that
    it never shows in a process list)."""
    url = engine.url
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _run(command: list[str], env: dict, **options) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, env=env, capture_output=True, timeout=TIMEOUT_SECONDS, check=False,  # noqa: S603
                              **options)
    except subprocess.TimeoutExpired as error:
        raise BackupError(_l("%(tool)s took more than an hour and was stopped.", tool=Path(command[0]).name)) \
            from error


def _error(result: subprocess.CompletedProcess) -> str:
    text = (result.stderr or b"").decode(errors="replace").strip()
    return text.splitlines()[-1] if text else f"exit code {result.returncode}"


def dump_database(engine: Engine, dest: Path) -> Path:
    """pg_dump the database into `dest`, which appears only once it is complete and readable."""
    dest = Path(dest)
    if dest.exists():
        raise BackupError(_l("%(path)s exists already; choose another name.", path=str(dest)))
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    uri, env = _connection(engine)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=dest.parent, prefix=".obrolan-", suffix=".partial")
    os.close(fd)
    partial = Path(partial_name)
    try:
        result = _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                       f"--dbname={uri}"], env)
        if result.returncode != 0:
            raise BackupError(_l("The backup failed: %(error)s", error=_error(result)))
        listed = _run([pg_restore, "--list", str(partial)], env)
        if listed.returncode != 0:
            raise BackupError(_l("The backup cannot be read back: %(error)s", error=_error(listed)))
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def schema_revision(backup: Path, env: dict | None = None) -> str | None:
    """The alembic_version in a dump, or None when the file is not a pg_dump archive of an Obrolan database."""
    result = _run([_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(backup)],
                  env or dict(os.environ))
    if result.returncode != 0:
        return None
    data = result.stdout.decode(errors="replace")
    found = re.search(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*?)\n\\\.$", data, re.M | re.S)
    rows = found.group(1).split("\n") if found else []
    return rows[0] if len(rows) == 1 else None


def restore_database(backup: Path, engine: Engine, folder: Path, migrations_dir: Path,
                     now: datetime | None = None) -> RestoreResult:
    """Replace the database's contents with a pg_dump file, after checking it. Run with the server stopped."""
    from .backups import _new_name, schema_revisions

    backup = Path(backup)
    if not backup.is_file():
        raise RestoreRefused(_l("%(path)s is not a file.", path=str(backup)))
    known, head = schema_revisions(migrations_dir)
    pg_restore = _tool("pg_restore")
    uri, env = _connection(engine)
    if _run([pg_restore, "--list", str(backup)], env).returncode != 0:
        raise RestoreRefused(_l("The file is damaged or not a PostgreSQL backup (pg_restore cannot read it)."))
    revision = schema_revision(backup, env)
    if revision not in known:
        raise RestoreRefused(_l("The file's schema version (%(found)s) is not one this version of Obrolan knows "
                                "(%(known)s); it may come from a newer version.", found=revision or "-",
                                known=", ".join(known)))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        replaced = dump_database(engine, _new_name(folder, now or datetime.now(timezone.utc), "before-restore",
                                                   suffix=SUFFIX))
    except BackupError as error:
        raise RestoreRefused(_l("The current database could not be kept as a backup first: %(error)s",
                                error=str(error))) from error
    result = _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                   "--exit-on-error", f"--dbname={uri}", str(backup)], env)
    if result.returncode != 0:
        raise BackupError(_l("Writing into the database failed (%(error)s); nothing was changed, and the current "
                             "database is also kept as %(kept)s.", error=_error(result), kept=str(replaced)))
    return RestoreResult(revision=revision, head=head, replaced_backup=replaced)
