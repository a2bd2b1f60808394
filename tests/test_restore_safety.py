"""A restore cannot lose what a running server acknowledges, `backup` exits 0 whenever the backup is good, and the
copy kept before a restore stays out of the rotation."""
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_concurrency import PROJECT, Browser, Server, _log_chat

from crm.admin.backups import backup_folder, backup_if_due, list_backups, make_backup
from crm.extensions import db

# PostgreSQL's restore is pg_restore's (tests/test_backups_postgres.py).
pytestmark = pytest.mark.sqlite_only("SQLite's restore: its lock file, backup API and database files")


def _names(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT display_name FROM customers")}


def test_restore_is_refused_while_a_server_has_the_database_open(app, runner, database_path, tmp_path, owner,
                                                                 make_customer):
    make_customer("Rina")
    backup = make_backup(db.engine, backup_folder(app), 14)
    owner_email = owner.email
    db.session.remove()
    db.engine.dispose()
    server = Server(f"sqlite:///{database_path}", tmp_path, BACKUP_DAILY=False).start()
    try:
        browser = Browser(server).login(owner_email)
        assert _log_chat(browser, "Budi")
        result = runner.invoke(args=["restore", str(backup), "--yes"])
        assert result.exit_code != 0
        assert "Nothing was restored" in result.output and "server is running" in result.output
        assert _log_chat(browser, "Citra"), "the server carries on"
    finally:
        server.stop()
    assert _names(database_path) == {"Rina", "Budi", "Citra"}, "every acknowledged chat is there"
    assert not [b for b in list_backups(backup_folder(app)) if b.before_restore]

    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert _names(database_path) == {"Rina"}


def test_a_server_does_not_start_in_the_middle_of_a_restore(app, database_path, tmp_path):
    from crm.sqlite import nobody_serving

    db.session.remove()
    db.engine.dispose()
    with nobody_serving(database_path):
        started = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", "0"], cwd=PROJECT, timeout=60,
            capture_output=True, text=True,
            env={"PATH": "/usr/bin:/bin", "OBROLAN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}",
                 "OBROLAN_INSTANCE_PATH": str(tmp_path), "OBROLAN_BACKUP_DAILY": "false"})
    assert started.returncode != 0 and "A restore into" in started.stderr


def test_backup_exits_0_when_the_backup_is_good_even_if_the_trail_cannot_take_it(app, runner, database_path,
                                                                                make_customer):
    make_customer("Rina")
    db.session.remove()
    db.engine.dispose()
    # As after restoring a backup from an older version, before `db upgrade`: no audit trail table yet.
    with sqlite3.connect(database_path) as connection:
        connection.execute("DROP TABLE audit_events")
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    [backup] = list_backups(backup_folder(app))
    assert _names(backup.path) == {"Rina"}
    assert "Backup written to" in result.output and "the backup is good" in result.output


def test_the_copy_kept_before_a_restore_stays_out_of_the_rotation(app, runner, make_customer):
    folder = backup_folder(app)
    now = datetime.now(timezone.utc)
    make_customer("Rina")
    yesterdays = make_backup(db.engine, folder, 3, now=now - timedelta(hours=25))
    make_customer("Budi")
    db.session.remove()
    assert runner.invoke(args=["restore", str(yesterdays), "--yes"]).exit_code == 0
    [kept] = [b for b in list_backups(folder) if b.before_restore]
    assert _names(kept.path) == {"Rina", "Budi"}

    # The copy made before the restore is not a backup of the database as it is now: the daily one is due.
    assert backup_if_due(db.engine, folder, 3, now=now + timedelta(hours=1)) is not None
    for day in range(1, 21):
        make_backup(db.engine, folder, 3, now=now + timedelta(days=day))
    backups = list_backups(folder)
    assert kept.path in [b.path for b in backups], "the copy kept before the restore is still there"
    assert len([b for b in backups if not b.before_restore]) == 3
