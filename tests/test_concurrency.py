"""Real server processes on one SQLite file: many staff at once, and a server killed mid-write.

No mocks: `flask serve` (waitress) in a subprocess, HTTP clients in threads, the database checked afterwards.
"""
import http.client
import http.cookiejar
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

from crm.extensions import db

PROJECT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
WRITERS, READERS, SECONDS = 8, 8, 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, database_path: Path, instance: Path):
        self.database_path, self.instance = database_path, instance
        self.port = _free_port()
        self.process = None

    def start(self):
        env = {**os.environ, "OBROLAN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.database_path}",
               "OBROLAN_INSTANCE_PATH": str(self.instance), "OBROLAN_THREADS": "16"}
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


def _log_chat(browser: Browser, name: str) -> bool:
    status, page = browser.post("/conversations/log", {
        "new_customer_name": name, "channel": "whatsapp",
        "messages-0-side": "customer", "messages-0-body": f"Halo, saya {name}. Harga gamis L berapa?",
        "messages-1-side": "staff", "messages-1-body": "185rb kak",
    })
    return status == 200 and "messages logged for" in page


@pytest.fixture
def server(database_path, tmp_path, owner, staff):
    emails = {"owner": owner.email, "staff": staff.email}
    db.session.remove()
    db.engine.dispose()
    running = Server(database_path, tmp_path).start()
    running.emails = emails
    yield running
    running.stop()


def _names_in(database_path: Path) -> set[str]:
    with sqlite3.connect(database_path) as connection:
        return {row[0] for row in connection.execute("SELECT display_name FROM customers")}


def test_eight_writers_and_eight_readers_at_once(server, database_path):
    acknowledged, errors, reads = [], [], []
    stop_at = time.monotonic() + SECONDS

    def writer(number):
        browser = Browser(server).login(server.emails["staff" if number % 2 else "owner"])
        count = 0
        while time.monotonic() < stop_at:
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
        browser = Browser(server).login(server.emails["owner"])
        pages = ["/customers/", "/customers/?q=Pelanggan", "/conversations/log", "/customers/?q=0812"]
        count = 0
        while time.monotonic() < stop_at:
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
        thread.join(timeout=SECONDS + 120)
    server.stop()
    stderr = server.process.stderr.read().decode()

    print(f"\nconcurrency: {len(acknowledged)} writes acknowledged, {len(reads)} pages read, {len(errors)} errors")
    assert not errors, errors[:5]
    assert "database is locked" not in stderr
    assert len(acknowledged) >= WRITERS, "every writer got through at least once"
    found = _names_in(database_path)
    assert set(acknowledged) <= found, f"{len(set(acknowledged) - found)} acknowledged writes are missing"


def test_a_killed_server_loses_no_acknowledged_write(server, database_path, tmp_path):
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

    with sqlite3.connect(database_path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    found = _names_in(database_path)
    print(f"\ncrash: {attempted} writes attempted, {len(acknowledged)} acknowledged, "
          f"{len(set(acknowledged) & found)} found after the kill")
    assert len(acknowledged) >= 25
    assert set(acknowledged) <= found

    restarted = Server(database_path, tmp_path).start()
    try:
        browser = Browser(restarted).login(server.emails["staff"])
        assert _log_chat(browser, "Sesudah crash")
    finally:
        restarted.stop()
    assert "Sesudah crash" in _names_in(database_path)


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


def _job(database_path: Path) -> tuple:
    with sqlite3.connect(database_path, timeout=30) as connection:
        return connection.execute(
            "SELECT id, status, messages_saved, summary FROM import_jobs ORDER BY id DESC LIMIT 1").fetchone()


def _visible_messages(database_path: Path) -> int:
    with sqlite3.connect(database_path, timeout=30) as connection:
        return connection.execute(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "JOIN customers cu ON cu.id = c.customer_id "
            "WHERE c.deleted_at IS NULL AND cu.deleted_at IS NULL AND m.body LIKE 'pesan %'").fetchone()[0]


def test_staff_keep_logging_chats_while_a_big_export_imports(server, database_path):
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
                (acknowledged if _log_chat(browser, name) else errors).append(name)
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                errors.append(f"{name}: {error!r}")
            count += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = _job(database_path)
        if job[1] not in ("queued", "running"):
            break
        if job[2] and _visible_messages(database_path):
            seen_hidden.append(job[2])  # part of the import showed before it ended
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    job = _job(database_path)
    with sqlite3.connect(database_path) as connection:
        worker = connection.execute("SELECT worker FROM import_jobs WHERE id = ?", (job[0],)).fetchone()[0]
    assert int(worker.split(":")[1]) != server.process.pid, "the import ran in a process of its own"
    print(f"\nimport: {job[1]}, {len(acknowledged)} chats logged meanwhile, {len(errors)} errors")
    assert job[1] == "done" and '"messages_imported": 40000' in job[3]
    assert not errors, errors[:5]
    assert len(acknowledged) >= 8
    assert not seen_hidden, "nothing of the import is visible before it is all saved"
    assert set(acknowledged) <= _names_in(database_path)
    assert _visible_messages(database_path) == 40_000


def test_a_server_killed_during_an_import_shows_none_of_it_after_a_restart(server, database_path, tmp_path):
    uploader = Browser(server).login(server.emails["owner"])
    uploader.get("/conversations/import")
    uploader.upload("/conversations/import", "WhatsApp Chat - Rina.txt", _export(80_000),
                    {"format": "auto", "channel": ""})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (_job(database_path)[2] or 0) >= 4000:
        time.sleep(0.05)
    job_id, status, saved, _ = _job(database_path)
    # A power cut: the server and the process running the import stop at once.
    with sqlite3.connect(database_path) as connection:
        worker = connection.execute("SELECT worker FROM import_jobs WHERE id = ?", (job_id,)).fetchone()[0]
    os.kill(int(worker.split(":")[1]), signal.SIGKILL)
    server.stop(signal.SIGKILL)
    assert status == "running" and saved >= 4000, "killed in the middle of writing"

    with sqlite3.connect(database_path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        written = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert written >= 4000 and _visible_messages(database_path) == 0, "written, never shown"

    restarted = Server(database_path, tmp_path).start()
    try:
        browser = Browser(restarted).login(server.emails["owner"])
        status, page = browser.get(f"/conversations/import/{job_id}")
        assert status == 200 and "The import was interrupted" in page and "Try again" in page
        assert "Rina" not in browser.get("/customers/")[1]
        assert _log_chat(browser, "Sesudah crash impor")
    finally:
        restarted.stop()
    with sqlite3.connect(database_path) as connection:
        assert connection.execute("SELECT count(*) FROM messages WHERE body LIKE 'pesan %'").fetchone()[0] == 0
        assert connection.execute("SELECT count(*) FROM customers WHERE import_job_id IS NOT NULL").fetchone()[0] == 0
