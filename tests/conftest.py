"""The app on a real database per test, built by the real migrations, and helpers that read as stories.

The database is a SQLite file per test, or with OBROLAN_TEST_DATABASE_URL=postgresql+psycopg://... (what
`make test-postgres` sets, on a throwaway cluster from tests/throwaway_postgres.py) a PostgreSQL database per
test, copied from a template database that the migrations built once. Tests that are about SQLite itself are
marked `sqlite_only("why")` and left out of the PostgreSQL run; `postgres_only("why")` the other way round.

Every test runs on a clock it sets: OBROLAN_TEST_NOW (an ISO time with its offset) or a fixed mid-month moment,
so the suite behaves the same on the 1st of a month, on 31 December in Jakarta and on any other day.
`make test-dates` runs the suite at the awkward moments.
"""
import os
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from flask.testing import FlaskClient

from crm import create_app
from crm.auth.services import create_user
from crm.conversations.services import NewMessage, log_chat
from crm.customers.services import IdentityInput, create_customer
from crm.extensions import db

PASSWORD = "correct horse battery"
TEST_DATABASE_URL = os.environ.get("OBROLAN_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
TEST_NOW = datetime.fromisoformat(os.environ.get("OBROLAN_TEST_NOW") or "2026-06-17T10:00:00+07:00")


@pytest.fixture(scope="session", autouse=True)
def session_clock():
    """Session-wide fixtures (the migrated template database, the browser) run on the test clock too."""
    with time_machine.travel(TEST_NOW, tick=True):
        yield


@pytest.fixture
def test_now() -> datetime:
    return TEST_NOW


@pytest.fixture(autouse=True)
def clock(session_clock):
    """The test's clock, shared by every thread (the live server's too): it starts at TEST_NOW and runs on, so
    timeouts still work; `clock.shift(timedelta(days=3))` or `clock.move_to(...)` jump it."""
    with time_machine.travel(TEST_NOW, tick=True) as traveller:
        yield traveller


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skipped test is a failure: a missing fixture or tool must show up red, not quietly go unrun."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped, which this suite counts as a failure: {reason}"


def pytest_collection_modifyitems(config, items):
    """Deselect (not skip: a skip is a failure here) the tests that are about the other database."""
    other = "sqlite_only" if ON_POSTGRES else "postgres_only"
    kept, left_out = [], []
    for item in items:
        for name in ("sqlite_only", "postgres_only"):
            marker = item.get_closest_marker(name)
            if marker and not (marker.args or marker.kwargs.get("reason")):
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{name} needs a reason saying why")
        (left_out if item.get_closest_marker(other) else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


class Client(FlaskClient):
    """A test client that sends the CSRF token like a browser would; `csrf=False` leaves it out."""

    def open(self, *args, csrf=True, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if method == "POST" and csrf:
            data = kwargs.setdefault("data", {})
            if isinstance(data, dict) and "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
        # Each request gets its own app context, hence its own database session, as in production;
        # the test's session then forgets what it cached so it sees what the request wrote.
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        page = self.get("/login", follow_redirects=True).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD, remember: bool = False):
        return self.post("/login", data={"email": email, "password": password, "remember": "y" if remember else ""})


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """One database built by `flask db upgrade` from the migrations; each test gets a copy of it (a SQLite
    file, or on PostgreSQL the name of a template database)."""
    if ON_POSTGRES:
        yield from _postgres_template()
        return
    path = tmp_path_factory.mktemp("template") / "obrolan.sqlite"
    _migrate(f"sqlite:///{path}", path.parent)
    yield path


def _migrate(url: str, instance) -> None:
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _postgres_admin():
    import sqlalchemy

    return sqlalchemy.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool)


def postgres_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def _postgres_template():
    import tempfile

    name = f"obrolan_template_{os.getpid()}"
    admin = _postgres_admin()
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    with tempfile.TemporaryDirectory() as instance:
        _migrate(postgres_url(name), instance)
    yield name
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


_databases_made = iter(range(1, 10**9))


@pytest.fixture
def database_url(tmp_path, migrated_database):
    """The test's own database, migrated and empty: a SQLite file in tmp_path or a PostgreSQL database."""
    if not ON_POSTGRES:
        path = tmp_path / "obrolan.sqlite"
        shutil.copy(migrated_database, path)
        yield f"sqlite:///{path}"
        return
    name = f"obrolan_test_{os.getpid()}_{next(_databases_made)}"
    admin = _postgres_admin()
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {migrated_database}")
    yield postgres_url(name)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def empty_postgres_url():
    """A new PostgreSQL database with nothing in it (not even the schema), dropped after the test."""
    assert ON_POSTGRES, "a test that needs an empty PostgreSQL database needs @pytest.mark.postgres_only"
    name = f"obrolan_empty_{os.getpid()}_{next(_databases_made)}"
    admin = _postgres_admin()
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    yield postgres_url(name)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def database_path(database_url):
    """The SQLite file itself, for the tests about SQLite (marked sqlite_only)."""
    assert database_url.startswith("sqlite:///"), "a test that reads the SQLite file needs @pytest.mark.sqlite_only"
    return Path(database_url.removeprefix("sqlite:///"))


@pytest.fixture
def app(database_url, tmp_path):
    # An upload's import runs in a thread, on the test's clock (a worker process would have its own), and the page
    # waits for it (up to 30 s), so tests see its summary. tests/test_concurrency.py runs imports in processes.
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": database_url,
                      "IMPORT_WAIT_SECONDS": 30, "IMPORT_WORKER": "thread"})
    app.test_client_class = Client
    with app.app_context():
        yield app
        from crm.conversations.import_jobs import wait_for_worker

        wait_for_worker()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    def make(name="Sari", email=None, role="staff", password=PASSWORD):
        user = create_user(name=name, email=email or f"{name.lower().replace(' ', '.')}@tokosari.id",
                           password=password, role=role)
        db.session.commit()
        return user

    return make


@pytest.fixture
def owner(make_user):
    return make_user("Ani Owner", email="owner@tokosari.id", role="owner")


@pytest.fixture
def staff(make_user, owner):
    return make_user("Budi Staff", email="staff@tokosari.id", role="staff")


@pytest.fixture
def owner_client(app, owner):
    client = app.test_client()
    assert client.login(owner.email).status_code == 302
    return client


@pytest.fixture
def staff_client(app, staff):
    client = app.test_client()
    assert client.login(staff.email).status_code == 302
    return client


@pytest.fixture
def make_customer(app):
    def make(name="Rina", notes="", **handles):
        customer = create_customer(
            name, notes=notes, identities=[IdentityInput(channel, handle) for channel, handle in handles.items()]
        )
        db.session.commit()
        return customer

    return make


@pytest.fixture
def chat(app):
    """chat(customer, [("customer", "Harga?"), ("staff", "185rb kak")], channel="whatsapp", start=...)"""

    def log(customer, lines, channel="whatsapp", start=None, logged_by=None, step=timedelta(minutes=1)):
        start = start or datetime.now(timezone.utc) - step * len(lines)
        messages = [NewMessage(start + step * i, side, body) for i, (side, body) in enumerate(lines)]
        result = log_chat(customer, channel, messages, logged_by_id=logged_by.id if logged_by else None)
        db.session.commit()
        return result.conversation

    return log


@pytest.fixture
def import_upload(app):
    """import_upload(client, text_or_bytes, "WhatsApp Chat with Rina.txt", shop="Toko Sari"): an upload on the
    Import page as a user does it, answering "who is the shop?" with `shop` when the page asks; the last page."""
    import io

    def upload(client, content, name, shop=None, **fields):
        data = content.encode() if isinstance(content, str) else content
        response = client.post("/conversations/import", content_type="multipart/form-data", follow_redirects=True,
                               data={"export": (io.BytesIO(data), name), "format": "auto", "channel": "", **fields})
        page = response.get_data(as_text=True)
        asked = re.search(r'action="(/conversations/import/\d+/again)" class="shop-picker"', page)
        if shop is None or asked is None:
            return response
        choice = {"what": "shop"}
        for index, author in re.findall(r'name="author-(\d+)" value="([^"]*)"', page):
            choice |= {f"author-{index}": author, f"side-{index}": "staff" if author == shop else "customer"}
        return client.post(asked.group(1), data=choice, follow_redirects=True)

    return upload
