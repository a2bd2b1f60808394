"""Backups on PostgreSQL: pg_dump and pg_restore from PATH, or the Backups page saying what to do instead."""
import threading
import time

import pytest

from crm import create_app
from crm.admin.backups import backup_folder, list_backups, start_daily_backups
from crm.extensions import db
from crm.models import AuditEvent, Customer

pytestmark = pytest.mark.postgres_only("pg_dump and pg_restore")


@pytest.fixture
def folder(app):
    return backup_folder(app)


@pytest.fixture
def no_postgres_programs(monkeypatch, tmp_path):
    """A computer without PostgreSQL's client programs: PATH holds nothing but an empty folder."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def _names() -> set[str]:
    return set(db.session.execute(db.select(Customer.display_name)).scalars())


def test_owner_backs_up_now_and_downloads_a_pg_dump_file(owner_client, folder):
    page = owner_client.get("/admin/backups").get_data(as_text=True)
    assert "Back up now" in page and "pg_dump file (.dump)" in page and "every day" in page
    assert owner_client.post("/admin/backups").status_code == 302
    [backup] = list_backups(folder)
    assert backup.name.endswith(".dump") and not backup.before_restore
    assert backup.name in owner_client.get("/admin/backups").get_data(as_text=True)
    download = owner_client.get(f"/admin/backups/{backup.name}")
    assert download.status_code == 200 and download.data.startswith(b"PGDMP")
    assert download.headers["Content-Type"] == "application/octet-stream"


def test_backup_and_restore_commands_bring_the_shop_back_and_keep_what_they_replace(
        app, runner, folder, make_customer, tmp_path):
    make_customer("Rina Kusuma", whatsapp="0812-3456-7890")
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    [backup] = list_backups(folder)
    make_customer("Dewi Sesudah Backup")
    own = runner.invoke(args=["backup", str(tmp_path)])
    assert own.exit_code == 0 and ".dump" in own.output

    refused = runner.invoke(args=["restore", str(backup.path)], input="n\n")
    assert refused.exit_code == 1 and "Dewi Sesudah Backup" in _names()
    result = runner.invoke(args=["restore", str(backup.path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "before-restore.dump" in result.output
    db.session.remove()
    assert _names() == {"Rina Kusuma"}
    kept = [b for b in list_backups(folder) if b.before_restore]
    assert len(kept) == 1
    events = db.session.execute(db.select(AuditEvent.action)).scalars().all()
    assert "backup_restored" in events

    # The kept database brings back what the restore replaced.
    assert runner.invoke(args=["restore", str(kept[0].path), "--yes"]).exit_code == 0
    db.session.remove()
    assert _names() == {"Rina Kusuma", "Dewi Sesudah Backup"}


def test_restore_refuses_what_is_not_a_backup_of_this_code_and_changes_nothing(app, runner, folder, make_customer,
                                                                              tmp_path):
    make_customer("Rina Kusuma")
    garbage = tmp_path / "obrolan.dump"
    garbage.write_bytes(b"PGDMP but not really" * 10)
    result = runner.invoke(args=["restore", str(garbage), "--yes"])
    assert result.exit_code == 1 and "Nothing was restored" in result.output
    assert "not a PostgreSQL backup" in result.output

    head = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar_one()
    db.session.execute(db.text("UPDATE alembic_version SET version_num = '9999'"))
    db.session.commit()
    assert runner.invoke(args=["backup"]).exit_code == 0
    [future] = list_backups(folder)
    db.session.execute(db.text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    db.session.commit()
    result = runner.invoke(args=["restore", str(future.path), "--yes"])
    assert result.exit_code == 1 and "schema version (9999)" in result.output
    assert _names() == {"Rina Kusuma"}
    assert not [b for b in list_backups(folder) if b.before_restore]


def test_without_pg_dump_the_page_says_what_to_do_and_promises_nothing(owner_client, folder, app, runner,
                                                                       no_postgres_programs):
    page = owner_client.get("/admin/backups").get_data(as_text=True)
    assert "pg_dump, pg_restore not found" in page and "apt install postgresql-client" in page
    assert "Back up now" not in page and "every day" not in page and "flask --app app restore" not in page
    response = owner_client.post("/admin/backups", follow_redirects=True).get_data(as_text=True)
    assert "No backup was made: pg_dump was not found on this computer" in response
    assert list_backups(folder) == []
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 1 and "pg_dump was not found" in result.output


def test_the_daily_backup_runs_on_postgresql_too(app, database_url, tmp_path):
    serving = create_app({"INSTANCE_PATH": str(tmp_path / "serving"), "BACKUP_CHECK_SECONDS": 0.05,
                          "SQLALCHEMY_DATABASE_URI": database_url})
    stop = threading.Event()
    thread = start_daily_backups(serving, stop=stop)
    try:
        deadline = time.monotonic() + 30
        while not list_backups(backup_folder(serving)) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(30)
    [backup] = list_backups(backup_folder(serving))
    assert backup.name.endswith(".dump")
    with serving.app_context():
        db.engine.dispose()


def test_no_daily_thread_without_pg_dump(app, database_url, tmp_path, no_postgres_programs):
    serving = create_app({"INSTANCE_PATH": str(tmp_path / "serving"), "SQLALCHEMY_DATABASE_URI": database_url})
    assert start_daily_backups(serving) is None
    with serving.app_context():
        db.engine.dispose()
