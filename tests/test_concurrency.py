"""Real server processes on one database (SQLite, or PostgreSQL in its run): many staff at once, and a server
killed mid-write.

No mocks: `flask serve` (waitress) in a subprocess, HTTP clients in threads, the database checked afterwards.
"""
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy

from crm.extensions import db

PROJECT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
WRITERS, READERS, SECONDS = 8, 8, 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`flask serve` in a subprocess; `settings` become OBROLAN_ environment variables (values as JSON)."""

    def __init__(self, database_url: str, instance: Path, **settings):
        self.database_url, self.instance, self.settings = database_url, instance, settings
        self.port = _free_port()
        self.process = None

    def start(self):
        env = {**os.environ, "OBROLAN_SQLALCHEMY_DATABASE_URI": self.database_url,
               "OBROLAN_INSTANCE_PATH": str(self.instance), "OBROLAN_THREADS": "16",
               **{f"OBROLAN_{name}": json.dumps(value) for name, value in self.settings.items()}}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(self.port)],
            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class Browser:
    """One staff member's cookies and CSRF token."""

    def __init__(self, server: Server):
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = None

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.server.url + path, timeout=60) as response:
                page = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if match:
            self.token = match.group(1)
        return status, page

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        try:
            with self.opener.open(self.server.url + path, data=body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, email: str):
        self.get("/login")
        status, _ = self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 200  # redirects are followed to the start page
        return self


def _log_chat(browser: Browser, name: str) -> bool:
    status, page = browser.post("/conversations/log", {
        "new_customer_name": name, "channel": "whatsapp",
        "messages-0-side": "customer", "messages-0-body": f"Halo, saya {name}. Harga gamis L berapa?",
        "messages-1-side": "staff", "messages-1-body": "185rb kak",
    })
    return status == 200 and "messages logged for" in page


@pytest.fixture
def server(database_url, tmp_path, owner, staff):
    emails = {"owner": owner.email, "staff": staff.email}
    db.session.remove()
    db.engine.dispose()
    running = Server(database_url, tmp_path).start()
    running.emails = emails
    yield running
    running.stop()


def _names_in(database_url: str) -> set[str]:
    engine = sqlalchemy.create_engine(database_url, poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.exec_driver_sql("SELECT display_name FROM customers")}
    finally:
        engine.dispose()


def test_eight_writers_and_eight_readers_at_once(server, database_url):
    acknowledged, errors, reads = [], [], []
    # Sixteen logins (a password hash each) can take longer than the run on a busy machine: the clock starts
    # once everyone is logged in.
    everyone_in = threading.Barrier(WRITERS + READERS, timeout=120)
    stop_at = []

    def logged_in(email: str) -> Browser:
        browser = Browser(server).login(email)
        if everyone_in.wait() == 0:
            stop_at.append(time.monotonic() + SECONDS)
        everyone_in.wait()
        return browser

    def writer(number):
        browser = logged_in(server.emails["staff" if number % 2 else "owner"])
        count = 0
        while time.monotonic() < stop_at[0]:
            name = f"Pelanggan {number}-{count}"
            try:
                if _log_chat(browser, name):
                    acknowledged.append(name)
                else:
                    errors.append(f"write {name} not acknowledged")
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                errors.append(f"write {name}: {error!r}")
            count += 1

    def reader(number):
        browser = logged_in(server.emails["owner"])
        pages = ["/customers/", "/customers/?q=Pelanggan", "/conversations/log", "/customers/?q=0812"]
        count = 0
        while time.monotonic() < stop_at[0]:
            status, page = browser.get(pages[count % len(pages)])
            if status != 200 or "database is locked" in page:
                errors.append(f"read {pages[count % len(pages)]}: {status}")
            reads.append(status)
            count += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 180)
    server.stop()
    stderr = server.process.stderr.read().decode()

    print(f"\nconcurrency: {len(acknowledged)} writes acknowledged, {len(reads)} pages read, {len(errors)} errors")
    assert not errors, errors[:5]
    assert "database is locked" not in stderr
    assert len(acknowledged) >= WRITERS, "every writer got through at least once"
    found = _names_in(database_url)
    assert set(acknowledged) <= found, f"{len(set(acknowledged) - found)} acknowledged writes are missing"


def test_a_killed_server_loses_no_acknowledged_write(server, database_url, tmp_path):
    acknowledged = []
    attempted = 0
    stop = threading.Event()

    def write_stream():
        nonlocal attempted
        browser = Browser(server).login(server.emails["staff"])
        while not stop.is_set():
            attempted += 1
            name = f"Sebelum crash {attempted}"
            try:
                if _log_chat(browser, name):
                    acknowledged.append(name)
            except (urllib.error.URLError, http.client.HTTPException, OSError):
                return  # the server is gone: this write was never acknowledged

    writer = threading.Thread(target=write_stream)
    writer.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 25 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    stop.set()
    writer.join(timeout=60)

    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    found = _names_in(database_url)
    print(f"\ncrash: {attempted} writes attempted, {len(acknowledged)} acknowledged, "
          f"{len(set(acknowledged) & found)} found after the kill")
    assert len(acknowledged) >= 25
    assert set(acknowledged) <= found

    restarted = Server(database_url, tmp_path).start()
    try:
        browser = Browser(restarted).login(server.emails["staff"])
        assert _log_chat(browser, "Sesudah crash")
    finally:
        restarted.stop()
    assert "Sesudah crash" in _names_in(database_url)
