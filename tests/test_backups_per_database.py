"""Each database's backups go to, and are listed from, its own folder: a second shop served from the same checkout
neither sees the first one's backups nor skips its own daily backup because of them. Backups made before, in the
shared folder, move to the folder of the database they are a backup of."""
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crm import create_app
from crm.admin.backups import backup_database, backup_folder, backup_if_due, list_backups, make_backup
from crm.auth.services import create_user
from crm.extensions import db

pytestmark = pytest.mark.sqlite_only(
    "SQLite's backup files, a folder per database file; PostgreSQL's dumps: tests/test_backups_postgres.py")

PASSWORD = "correct horse battery"  # as tests/conftest.py


@pytest.fixture
def second_shop(app, migrated_database, database_path):
    """Another shop's database in the same instance folder, as `OBROLAN_SQLALCHEMY_DATABASE_URI=...` would serve."""
    path = database_path.parent / "toko-kedua.sqlite"
    shutil.copy(migrated_database, path)
    other = create_app({"TESTING": True, "INSTANCE_PATH": app.instance_path,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with other.app_context():
        create_user(name="Pemilik Kedua", email="owner@kedua.id", password=PASSWORD, role="owner")
        db.session.commit()
        db.session.remove()
    yield other
    with other.app_context():
        db.engine.dispose()


def _in(shop, work):
    with shop.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def test_each_database_backs_up_into_its_own_folder(app, owner, second_shop):
    first_folder = backup_folder(app)
    second_folder = _in(second_shop, lambda: backup_folder(second_shop))
    assert first_folder.name == "obrolan" and second_folder.name == "toko-kedua"
    assert first_folder.parent == second_folder.parent
    mine = make_backup(db.engine, first_folder, 14)
    now = datetime.now(timezone.utc)
    # The first shop's backup is fresh: the second shop's daily backup is still due, into its own folder.
    theirs = _in(second_shop, lambda: backup_if_due(db.engine, backup_folder(second_shop), 14, now=now))
    assert theirs is not None and theirs.parent == second_folder
    assert [b.path for b in list_backups(first_folder)] == [mine]
    assert [b.path for b in list_backups(second_folder)] == [theirs]
    assert backup_if_due(db.engine, first_folder, 14, now=now + timedelta(hours=1)) is None


def test_the_backups_page_lists_and_downloads_only_this_databases_backups(app, owner, owner_client, second_shop):
    theirs = _in(second_shop, lambda: make_backup(db.engine, backup_folder(second_shop), 14))
    page = owner_client.get("/admin/backups").get_data(as_text=True)
    assert theirs.name not in page and "No backups yet" in page
    assert owner_client.get(f"/admin/backups/{theirs.name}").status_code == 404
    second_shop.test_client_class = app.test_client_class  # sends the CSRF token like a browser
    client = second_shop.test_client()
    assert client.login("owner@kedua.id").status_code == 302
    assert theirs.name in client.get("/admin/backups").get_data(as_text=True)


def test_backups_from_the_shared_folder_go_to_the_database_they_belong_to(app, owner, owner_client, second_shop):
    shared = backup_folder(app).parent
    shared.mkdir(parents=True, exist_ok=True)
    old_mine = backup_database(database_file_of(app), shared / "obrolan-20260101-010000Z.sqlite")
    old_theirs = _in(second_shop, lambda: backup_database(database_file_of(second_shop),
                                                          shared / "obrolan-20260102-010000Z.sqlite"))
    page = owner_client.get("/admin/backups").get_data(as_text=True)
    assert old_mine.name in page and old_theirs.name not in page
    assert [b.name for b in list_backups(backup_folder(app))] == [old_mine.name]
    assert old_theirs.exists(), "the other shop's backup waits where it was"
    assert owner_client.get(f"/admin/backups/{old_mine.name}").status_code == 200
    _in(second_shop, lambda: make_backup(db.engine, backup_folder(second_shop), 14))
    moved = _in(second_shop, lambda: [b.name for b in list_backups(backup_folder(second_shop))])
    assert old_theirs.name in moved and not old_theirs.exists()


def database_file_of(shop) -> Path:
    with shop.app_context():
        return Path(db.engine.url.database)
