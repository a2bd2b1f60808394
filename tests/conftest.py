"""The app on a real SQLite file per test, built by the real migrations, and helpers that read as stories.

Every test runs on a clock it sets: OBROLAN_TEST_NOW (an ISO time with its offset) or a fixed mid-month moment,
so the suite behaves the same on the 1st of a month, on 31 December in Jakarta and on any other day.
`make test-dates` runs the suite at the awkward moments.
"""
import os
import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from flask.testing import FlaskClient

from crm import create_app
from crm.auth.services import create_user
from crm.conversations.services import NewMessage, log_chat
from crm.customers.services import IdentityInput, create_customer
from crm.extensions import db

PASSWORD = "correct horse battery"
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
    """One database built by `flask db upgrade` from the migrations; each test gets a copy of the file."""
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "obrolan.sqlite"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(path.parent), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def database_path(tmp_path, migrated_database):
    path = tmp_path / "obrolan.sqlite"
    shutil.copy(migrated_database, path)
    return path


@pytest.fixture
def app(database_path):
    # An upload's import runs in a thread, on the test's clock (a worker process would have its own), and the page
    # waits for it (up to 30 s), so tests see its summary. tests/test_concurrency.py runs imports in processes.
    app = create_app(
        {"TESTING": True, "INSTANCE_PATH": str(database_path.parent),
         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}", "IMPORT_WAIT_SECONDS": 30,
         "IMPORT_WORKER": "thread"}
    )
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
