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
import uuid
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
        # The server's log goes to a file: a pipe nobody reads would stall it once full, and a 500's traceback
        # is what a failing test must show.
        self.log = self.instance / f"server-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(self.port)],
            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("wb"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.log.read_text(errors="replace")) from None
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

    def upload(self, path: str, name: str, content: bytes, fields: dict) -> tuple[int, str]:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
                 for key, value in {**fields, "csrf_token": self.token}.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="export"; filename="{name}"\r\n\r\n'
                     .encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        request = urllib.request.Request(self.server.url + path, data=b"".join(parts),
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, email: str):
        self.get("/login")
        status, _ = self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 200  # redirects are followed to the start page
        return self


def _tracebacks(server: Server) -> str:
    log = server.log.read_text(errors="replace")
    return log[log.find("Traceback"):][-3000:] if "Traceback" in log else log[-1000:]


def _log_chat(browser: Browser, name: str) -> bool:
    status, page = browser.post("/conversations/log", {
        "new_customer_name": name, "channel": "whatsapp",
        "messages-0-side": "customer", "messages-0-body": f"Halo, saya {name}. Harga gamis L berapa?",
        "messages-1-side": "staff", "messages-1-body": "185rb kak",
    })
    if status == 200 and "messages logged for" in page:
        return True
    _log_chat.last_failure = (status, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))[:300])
    return False


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
    stderr = server.log.read_text(errors="replace")

    print(f"\nconcurrency: {len(acknowledged)} writes acknowledged, {len(reads)} pages read, {len(errors)} errors")
    assert not errors, (errors[:5], _tracebacks(server))
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


# --- a big import while staff work ---------------------------------------------------------------------------


def _export(lines: int) -> bytes:
    """An Android export in the Indonesian locale, `lines` messages over weeks of March and April 2026."""
    rows = []
    for i in range(lines):
        day, minute = 1 + i // 1500, i % 1440
        month, day = (3, day) if day <= 31 else (4, day - 31)
        rows.append(f"{day:02d}/{month:02d}/26 {minute // 60:02d}.{minute % 60:02d} - "
                    f"{'Rina' if i % 3 else 'Toko Batik Sari'}: pesan {i} gamis motif parang ukuran L, ongkir?\n")
    return "".join(rows).encode()


def _query(database_url: str, sql: str, *parameters):
    """One row (None if there is none), read by a connection of its own (as another process would see the database)."""
    engine = sqlalchemy.create_engine(database_url, poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as connection:
            row = connection.exec_driver_sql(sql, parameters).fetchone()
            return tuple(row) if row is not None else None
    finally:
        engine.dispose()


def _job(database_url: str) -> tuple:
    return _query(database_url,
                  "SELECT id, status, messages_saved, summary, worker FROM import_jobs ORDER BY id DESC LIMIT 1")


VISIBLE_MESSAGES = ("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                    "JOIN customers cu ON cu.id = c.customer_id "
                    "WHERE c.deleted_at IS NULL AND cu.deleted_at IS NULL AND m.body LIKE 'pesan %%'")


def _visible_messages(database_url: str) -> int:
    return _query(database_url, VISIBLE_MESSAGES)[0]


def _visible_while_running(database_url: str) -> tuple:
    """The newest job's status, its saved count and the import's visible messages, read in one statement: one
    snapshot, so an import that ends between two reads is not taken for one that showed itself early."""
    return _query(database_url, f"SELECT status, messages_saved, ({VISIBLE_MESSAGES}) FROM import_jobs "
                                "ORDER BY id DESC LIMIT 1")  # no row before the command line has made its job


def test_staff_keep_logging_chats_while_a_big_export_imports(server, database_url):
    uploader = Browser(server).login(server.emails["owner"])
    uploader.get("/conversations/import")
    status, page = uploader.upload("/conversations/import", "WhatsApp Chat - Rina.txt", _export(40_000),
                                   {"format": "auto", "channel": ""})
    assert status == 200, page[:500]
    acknowledged, errors, seen_hidden = [], [], []
    stop = threading.Event()

    def writer(number):
        browser = Browser(server).login(server.emails["staff"])
        count = 0
        while not stop.is_set():
            name = f"Selama impor {number}-{count}"
            try:
                if _log_chat(browser, name):
                    acknowledged.append(name)
                else:
                    errors.append(f"{name}: {_log_chat.last_failure}")
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                errors.append(f"{name}: {error!r}")
            count += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status, saved, visible = _visible_while_running(database_url)
        if status not in ("queued", "running"):
            break
        if saved and visible:
            seen_hidden.append((saved, visible))  # part of the import showed before it ended
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    job = _job(database_url)
    worker = job[4]
    assert int(worker.split(":")[1]) != server.process.pid, "the import ran in a process of its own"
    print(f"\nimport: {job[1]}, {len(acknowledged)} chats logged meanwhile, {len(errors)} errors")
    summary = json.loads(job[3]) if isinstance(job[3], str) else job[3]  # PostgreSQL's driver reads JSON itself
    assert job[1] == "done" and summary["messages_imported"] == 40000
    assert not errors, (errors[:5], _tracebacks(server))
    assert len(acknowledged) >= 8
    assert not seen_hidden, "nothing of the import is visible before it is all saved"
    assert set(acknowledged) <= _names_in(database_url)
    assert _visible_messages(database_url) == 40_000


def test_a_server_killed_during_an_import_shows_none_of_it_after_a_restart(server, database_url, tmp_path):
    uploader = Browser(server).login(server.emails["owner"])
    uploader.get("/conversations/import")
    uploader.upload("/conversations/import", "WhatsApp Chat - Rina.txt", _export(80_000),
                    {"format": "auto", "channel": ""})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (_job(database_url)[2] or 0) >= 4000:
        time.sleep(0.05)
    job_id, status, saved, _, worker = _job(database_url)
    # A power cut: the server and the process running the import stop at once.
    os.kill(int(worker.split(":")[1]), signal.SIGKILL)
    server.stop(signal.SIGKILL)
    assert status == "running" and saved >= 4000, "killed in the middle of writing"

    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    written = _query(database_url, "SELECT count(*) FROM messages")[0]
    assert written >= 4000 and _visible_messages(database_url) == 0, "written, never shown"

    restarted = Server(database_url, tmp_path).start()
    try:
        browser = Browser(restarted).login(server.emails["owner"])
        status, page = browser.get(f"/conversations/import/{job_id}")
        assert status == 200 and "The import was interrupted" in page and "Try again" in page
        assert "Rina" not in browser.get("/customers/")[1]
        assert _log_chat(browser, "Sesudah crash impor")
    finally:
        restarted.stop()
    assert _query(database_url, "SELECT count(*) FROM messages WHERE body LIKE 'pesan %%'")[0] == 0
    assert _query(database_url, "SELECT count(*) FROM customers WHERE import_job_id IS NOT NULL")[0] == 0


def _command_line_import(database_url: str, instance: Path, export: Path) -> subprocess.Popen:
    """`flask import-chat` in a process of its own, as a shop's PC runs it beside the server."""
    env = {**os.environ, "OBROLAN_SQLALCHEMY_DATABASE_URI": database_url, "OBROLAN_INSTANCE_PATH": str(instance)}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "import-chat", str(export), "--me", "Toko Batik Sari",
         "--json"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_staff_keep_logging_chats_while_the_command_line_imports(server, database_url, tmp_path):
    export = tmp_path / "WhatsApp Chat - Rina.txt"
    export.write_bytes(_export(40_000))
    importing = _command_line_import(database_url, tmp_path, export)
    acknowledged, errors, seen_hidden = [], [], []

    def writer(number):
        browser = Browser(server).login(server.emails["staff"])
        count = 0
        while importing.poll() is None:
            name = f"Selama impor CLI {number}-{count}"
            try:
                if _log_chat(browser, name):
                    acknowledged.append(name)
                else:
                    errors.append(f"{name}: {_log_chat.last_failure}")
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                errors.append(f"{name}: {error!r}")
            count += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    while importing.poll() is None:
        status, saved, visible = _visible_while_running(database_url) or (None, None, None)
        if status == "running" and saved and visible:
            seen_hidden.append((saved, visible))
        time.sleep(0.2)
    for thread in threads:
        thread.join(timeout=120)
    out, err = importing.communicate(timeout=60)
    assert importing.returncode == 0, err.decode()[-2000:]
    assert json.loads(out.decode().strip().splitlines()[-1])["messages_imported"] == 40_000
    print(f"\ncommand-line import: {len(acknowledged)} chats logged meanwhile, {len(errors)} errors")
    assert not errors, (errors[:5], _tracebacks(server))
    assert len(acknowledged) >= 8
    assert not seen_hidden, "nothing of the import is visible before it is all saved"
    assert set(acknowledged) <= _names_in(database_url)
    assert _visible_messages(database_url) == 40_000


def test_a_command_line_import_killed_midway_shows_none_of_it(server, database_url, tmp_path):
    export = tmp_path / "WhatsApp Chat - Rina.txt"
    export.write_bytes(_export(80_000))
    importing = _command_line_import(database_url, tmp_path, export)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and importing.poll() is None and not (
            _query(database_url, "SELECT count(*) FROM import_jobs")[0] and (_job(database_url)[2] or 0) >= 4000):
        time.sleep(0.05)
    importing.send_signal(signal.SIGKILL)
    importing.wait(timeout=20)
    job_id, status, saved, _, _ = _job(database_url)
    assert status == "running" and saved >= 4000, "killed in the middle of writing"
    assert _visible_messages(database_url) == 0, "written, never shown"

    browser = Browser(server).login(server.emails["owner"])
    status, page = browser.get(f"/conversations/import/{job_id}")
    assert status == 200 and "The import was interrupted" in page
    assert "Rina" not in browser.get("/customers/")[1]
    assert _query(database_url, "SELECT count(*) FROM messages WHERE body LIKE 'pesan %%'")[0] == 0
    assert _query(database_url, "SELECT count(*) FROM customers WHERE import_job_id IS NOT NULL")[0] == 0
