"""Backups: consistent while chats are being logged, pruned to the newest N, checked before a restore, downloadable
by the owner only and only from the backups folder."""
import os
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crm import PROJECT_ROOT, create_app
from crm.admin.backups import (
    BackupError,
    RestoreRefused,
    backup_folder,
    backup_if_due,
    find_backup,
    integrity_problems,
    list_backups,
    make_backup,
    prune_backups,
    restore_database,
    start_daily_backups,
)
from crm.conversations.services import NewMessage, log_chat
from crm.extensions import db
from crm.models import Customer, Message

MIGRATIONS = PROJECT_ROOT / "migrations"
# PostgreSQL's backups go through pg_dump and pg_restore: tests/test_backups_postgres.py.
pytestmark = pytest.mark.sqlite_only("SQLite's backup API and database files")


def _bodies(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {row[0] for row in connection.execute("SELECT body FROM messages")}
    finally:
        connection.close()


def _customer_names(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {row[0] for row in connection.execute("SELECT display_name FROM customers")}
    finally:
        connection.close()


@pytest.fixture
def folder(app):
    return backup_folder(app)


@pytest.fixture
def live(app):
    return Path(db.engine.url.database)


def _backup(folder, when=None, keep=14):
    return make_backup(db.engine, folder, keep, now=when)


def test_backup_taken_while_chats_are_logged_restores_every_chat_acknowledged_before_it(app, make_customer, folder,
                                                                                          tmp_path):
    # Some bulk first, so the copy takes long enough for the writer to keep committing during it.
    shop = make_customer("Toko Grosir", whatsapp="0811-1111-1111")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    log_chat(shop, "whatsapp", [NewMessage(start + timedelta(seconds=i), "customer", f"stok lama {i} " + "x" * 300)
                                for i in range(3000)], logged_by_id=None)
    db.session.commit()
    customer_id = make_customer("Rina", whatsapp="0812-3456-7890").id

    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer():
        # Its own app context, hence its own session and connection, like a second staff member's request.
        try:
            with app.app_context():
                customer = db.session.get(Customer, customer_id)
                i = 0
                while not stop.is_set():
                    body = f"pesan {i}"
                    log_chat(customer, "whatsapp", [NewMessage(start + timedelta(minutes=i), "customer", body)],
                             logged_by_id=None)
                    db.session.commit()
                    with lock:
                        acknowledged.append(body)
                    i += 1
                db.session.remove()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(acknowledged) < 40 and thread.is_alive():
            time.sleep(0.005)
        with lock:
            before = list(acknowledged)
        backup = _backup(folder)
        with lock:
            after_backup = len(acknowledged)
        deadline = time.monotonic() + 5
        while len(acknowledged) < after_backup + 40 and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors

    restored = tmp_path / "restored" / "obrolan.sqlite"
    restored.parent.mkdir()
    result = restore_database(backup, restored, tmp_path / "restored" / "backups", MIGRATIONS)
    assert result.replaced_backup is None  # there was nothing to replace
    assert integrity_problems(restored) == []
    connection = sqlite3.connect(restored)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    found = {body for body in _bodies(restored) if body.startswith("pesan ")}
    missing = set(before) - found
    print(f"\nbackup during writes: {len(before)} chats acknowledged before the backup started, "
          f"{len(set(before) & found)} of them found after restore ({len(missing)} missing); "
          f"{after_backup - len(before)} acknowledged while the backup ran, {len(found)} chats in the backup, "
          f"{len(acknowledged)} written in all")
    assert len(before) >= 40
    assert not missing
    # The writer kept going after the backup: the copy is a snapshot, not the final state.
    assert len(acknowledged) > after_backup


def test_a_backup_is_one_self_contained_checked_file(app, folder, make_customer):
    make_customer("Rina", whatsapp="0812-3456-7890")
    path = _backup(folder)
    assert path.parent == folder and path.name.startswith("obrolan-") and path.suffix == ".sqlite"
    assert not Path(f"{path}-wal").exists()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()
    assert _customer_names(path) == {"Rina"}
    assert [entry.name for entry in folder.iterdir()] == [path.name]  # no half-written leftovers


def test_only_the_newest_n_backups_are_kept(app, folder):
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("not a backup")
    start = datetime(2026, 5, 1, 1, 0, tzinfo=timezone.utc)
    made = [_backup(folder, when=start + timedelta(days=day), keep=3) for day in range(6)]
    assert [b.path for b in list_backups(folder)] == made[:2:-1]
    assert all(not path.exists() for path in made[:3])
    assert (folder / "notes.txt").exists()
    assert prune_backups(folder, 1) == made[4:2:-1]
    assert [b.path for b in list_backups(folder)] == [made[5]]


def test_two_backups_in_the_same_second_get_two_names(app, folder):
    when = datetime(2026, 5, 1, 1, 0, tzinfo=timezone.utc)
    first, second = _backup(folder, when), _backup(folder, when)
    assert first != second and first.exists() and second.exists()
    assert [b.path for b in list_backups(folder)] == [second, first]


def test_a_daily_backup_is_made_only_when_the_newest_is_a_day_old(app, folder):
    now = datetime(2026, 5, 2, 12, 0, tzinfo=timezone.utc)
    first = backup_if_due(db.engine, folder, 14, now=now)
    assert first is not None
    assert backup_if_due(db.engine, folder, 14, now=now + timedelta(hours=23)) is None
    assert backup_if_due(db.engine, folder, 14, now=now + timedelta(hours=24, minutes=1)) is not None
    assert len(list_backups(folder)) == 2


def test_the_daily_thread_runs_in_a_serving_app_and_never_under_tests_or_other_commands(app, database_path, tmp_path):
    assert start_daily_backups(app) is None  # TESTING
    serving = create_app({"INSTANCE_PATH": str(tmp_path / "serving"), "BACKUP_CHECK_SECONDS": 0.05,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}"})
    assert not [t for t in threading.enumerate() if t.name == "obrolan-daily-backup"]  # create_app starts none
    result = serving.test_cli_runner().invoke(args=["retag"])
    assert result.exit_code == 0, result.output
    assert not [t for t in threading.enumerate() if t.name == "obrolan-daily-backup"]  # nor does a command
    stop = threading.Event()
    thread = start_daily_backups(serving, stop=stop)
    try:
        deadline = time.monotonic() + 10
        while not list_backups(backup_folder(serving)) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # several more hourly checks, in miniature
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert len(list_backups(backup_folder(serving))) == 1  # one a day, however often it checks
    with serving.app_context():
        assert [(e.user_id, e.summary) for e in _events("backup")] == [
            (None, list_backups(backup_folder(serving))[0].name)]
        db.engine.dispose()


def _restore(backup, live, folder):
    db.session.remove()
    db.engine.dispose()
    return restore_database(backup, live, folder, MIGRATIONS)


def test_restore_brings_back_the_backup_and_keeps_the_replaced_database(app, folder, live, make_customer):
    make_customer("Rina", whatsapp="0812-3456-7890")
    backup = _backup(folder)
    make_customer("Budi", whatsapp="0813-1111-2222")
    result = _restore(backup, live, folder)
    assert _customer_names(live) == {"Rina"}
    assert result.replaced_backup is not None and result.replaced_backup.parent == folder
    assert _customer_names(result.replaced_backup) == {"Rina", "Budi"}
    kept = [b for b in list_backups(folder) if b.before_restore]
    assert [b.path for b in kept] == [result.replaced_backup]
    assert integrity_problems(live) == []
    # The running app's connections see the restored data, through the same WAL file.
    assert [c.display_name for c in db.session.execute(db.select(Customer)).scalars()] == ["Rina"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no scratch files left


def test_restore_refuses_garbage_and_leaves_the_database_alone(app, folder, live, make_customer, tmp_path):
    make_customer("Rina", whatsapp="0812-3456-7890")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(os.urandom(64 * 1024))
    with pytest.raises(RestoreRefused, match="damaged or not a database"):
        _restore(garbage, live, folder)
    assert _customer_names(live) == {"Rina"}
    assert list_backups(folder) == []  # nothing replaced, so nothing kept


def test_restore_refuses_a_backup_with_damaged_pages(app, folder, live, make_customer):
    for i in range(30):
        make_customer(f"Pelanggan {i}", notes="catatan " * 200)
    backup = _backup(folder)
    with open(backup, "r+b") as file:  # overwrite a stretch of table pages in the middle
        file.seek(4096 * 3)
        file.write(b"\xde\xad\xbe\xef" * 4096)
    make_customer("Budi")
    with pytest.raises(RestoreRefused, match="damaged"):
        _restore(backup, live, folder)
    assert "Budi" in _customer_names(live)
    assert not [b for b in list_backups(folder) if b.before_restore]


@pytest.mark.parametrize("version", ["9999", "ffffffffffff", None])
def test_restore_refuses_a_schema_version_this_code_does_not_know(app, folder, live, make_customer, version):
    make_customer("Rina")
    backup = _backup(folder)
    connection = sqlite3.connect(backup)
    if version is None:
        connection.execute("DROP TABLE alembic_version")
    else:
        connection.execute("UPDATE alembic_version SET version_num = ?", (version,))
    connection.commit()
    connection.close()
    make_customer("Budi")
    with pytest.raises(RestoreRefused, match="schema version"):
        _restore(backup, live, folder)
    assert _customer_names(live) == {"Rina", "Budi"}


def test_restore_accepts_an_older_known_version_and_says_to_upgrade(app, folder, live, make_customer):
    make_customer("Rina")
    backup = _backup(folder)
    connection = sqlite3.connect(backup)
    connection.execute("UPDATE alembic_version SET version_num = '0001'")
    connection.commit()
    connection.close()
    result = _restore(backup, live, folder)
    assert result.revision == "0001" and result.needs_upgrade


def test_backup_and_restore_commands(app, runner, folder, live, make_customer, tmp_path):
    make_customer("Rina")
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    [backup] = list_backups(folder)
    assert str(backup.path) in result.output

    result = runner.invoke(args=["backup", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("obrolan-backup-*.sqlite"))) == 1
    target = tmp_path / "usb" / "toko.sqlite"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    assert _customer_names(target) == {"Rina"}
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "exists already" in result.output

    make_customer("Budi")
    db.session.remove()
    result = runner.invoke(args=["restore", str(backup.path)], input="n\n")
    assert result.exit_code != 0 and _customer_names(live) == {"Rina", "Budi"}
    result = runner.invoke(args=["restore", str(backup.path), "--yes"])
    assert result.exit_code == 0, result.output
    assert _customer_names(live) == {"Rina"}
    assert "kept as" in result.output

    garbage = tmp_path / "rusak.sqlite"
    garbage.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))
    result = runner.invoke(args=["restore", str(garbage), "--yes"])
    assert result.exit_code != 0 and "Nothing was restored" in result.output


def test_backups_refuse_a_database_that_is_not_a_sqlite_file(app):
    from sqlalchemy import create_engine

    with pytest.raises(BackupError):
        make_backup(create_engine("sqlite://"), Path("/nonexistent"), 3)


# The owner's page --------------------------------------------------------------------------------------


def test_owner_sees_backups_and_can_back_up_now(owner_client, folder):
    page = owner_client.get("/admin/backups")
    assert page.status_code == 200 and "No backups yet" in page.get_data(as_text=True)
    response = owner_client.post("/admin/backups")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/backups"
    [backup] = list_backups(folder)
    page = owner_client.get("/admin/backups").get_data(as_text=True)
    assert backup.name in page and f"/admin/backups/{backup.name}" in page


def test_owner_downloads_a_backup(owner_client, folder):
    path = _backup(folder)
    response = owner_client.get(f"/admin/backups/{path.name}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert path.name in response.headers["Content-Disposition"]
    assert response.data == path.read_bytes()
    response.close()


@pytest.mark.parametrize("name", [
    "..%2Fobrolan.sqlite", "..%2F..%2Fobrolan.sqlite", "obrolan.sqlite", "..", "%2E%2E%2Fsecret_key",
    "..%2Fobrolan-20260101-000000Z.sqlite", "%2Ftmp%2Fobrolan-20260101-000000Z.sqlite", "secret_key",
    "obrolan-20260101-000000Z.sqlite", "..%5Cobrolan-20260101-000000Z.sqlite", "..%5Csecret_key",
])
def test_download_refuses_anything_outside_the_backups_folder(owner_client, folder, app, name):
    _backup(folder)
    # A file with a backup's name next to the folder, which "../" would reach.
    outside = Path(app.instance_path) / "obrolan-20260101-000000Z.sqlite"
    outside.write_bytes(b"not for download")
    response = owner_client.get(f"/admin/backups/{name}")
    assert response.status_code == 404, name
    assert b"not for download" not in response.data


def test_find_backup_looks_only_among_listed_backups(app, folder):
    path = _backup(folder)
    assert find_backup(folder, path.name) == path
    for name in ("../obrolan.sqlite", str(path), f"./{path.name}", f"sub/../{path.name}", ""):
        assert find_backup(folder, name) is None


def test_staff_get_403_on_backups(staff_client, folder):
    path = _backup(folder)
    assert staff_client.get("/admin/backups").status_code == 403
    assert staff_client.post("/admin/backups").status_code == 403
    assert staff_client.get(f"/admin/backups/{path.name}").status_code == 403
    assert len(list_backups(folder)) == 1


def test_staff_do_not_see_the_backups_link(staff_client, owner_client):
    assert "/admin/backups" not in staff_client.get("/customers/").get_data(as_text=True)
    assert "/admin/backups" in owner_client.get("/customers/").get_data(as_text=True)


def test_message_counts_survive_a_round_trip(app, folder, live, make_customer, chat):
    rina = make_customer("Rina", whatsapp="0812-3456-7890")
    chat(rina, [("customer", "Kak, batik tulis ukuran XL ada?"), ("staff", "Ada kak, 185rb")])
    backup = _backup(folder)
    _restore(backup, live, folder)
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 2


def _events(action):
    from crm.models import AuditEvent

    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)).scalars())


def test_backups_and_restores_are_in_the_audit_trail(app, owner, owner_client, runner, folder, live, make_customer):
    owner_client.post("/admin/backups")
    [event] = _events("backup")
    assert event.user_id == owner.id and event.summary == list_backups(folder)[0].name
    assert runner.invoke(args=["backup"]).exit_code == 0
    assert [e.user_id for e in _events("backup")] == [owner.id, None]  # the command line has no user
    backup = list_backups(folder)[0]
    db.session.remove()
    result = runner.invoke(args=["restore", str(backup.path), "--yes"])
    assert result.exit_code == 0, result.output
    [restored] = _events("backup_restored")
    assert restored.summary == backup.name and restored.details["replaced_kept_as"].endswith("-before-restore.sqlite")
