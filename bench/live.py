"""A real `flask serve` (waitress) on a database file, and staff members talking to it over HTTP: for benchmarks
that measure what users feel while something heavy runs (bench/import.py).

    with LiveServer(database, instance) as server:
        staff = Staff(server).login(EMAIL, PASSWORD)
        status, page, seconds = staff.log_chat("Rina")
        print(server.peak_rss_mb())
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, database: Path, instance: Path, threads: int = 8, **settings):
        self.database, self.instance = database, instance
        self.port = _free_port()
        self.env = {**os.environ, "OBROLAN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                    "OBROLAN_INSTANCE_PATH": str(instance), "OBROLAN_THREADS": str(threads),
                    "OBROLAN_BACKUP_DAILY": "false",
                    **{f"OBROLAN_{key}": str(value) for key, value in settings.items()}}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> LiveServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory so far (Linux: VmHWM)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


class Staff:
    """One staff member's browser: cookies and the CSRF token."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = None

    def _open(self, request, timeout=120) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def get(self, path: str) -> tuple[int, str]:
        status, page = self._open(self.server.url + path)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if match:
            self.token = match.group(1)
        return status, page

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        return self._open(urllib.request.Request(self.server.url + path, data=body))

    def login(self, email: str, password: str) -> Staff:
        self.get("/login")
        status, _ = self.post("/login", {"email": email, "password": password})
        if status != 200:
            raise RuntimeError(f"login failed: {status}")
        self.get("/")
        return self

    def log_chat(self, name: str) -> tuple[bool, float, str]:
        """Log a two-message chat with a new customer, as Log chat does: (acknowledged, seconds, why not)."""
        started = time.perf_counter()
        try:
            status, page = self.post("/conversations/log", {
                "new_customer_name": name, "channel": "whatsapp",
                "messages-0-side": "customer", "messages-0-body": f"Halo, saya {name}. Harga gamis L berapa?",
                "messages-1-side": "staff", "messages-1-body": "185rb kak",
            })
        except OSError as error:
            return False, time.perf_counter() - started, repr(error)
        seconds = time.perf_counter() - started
        ok = status == 200 and "messages logged for" in page
        return ok, seconds, "" if ok else f"HTTP {status}"

    def upload(self, path: str, name: str, content: bytes, fields: dict | None = None) -> tuple[int, str]:
        boundary = uuid.uuid4().hex
        parts = []
        for key, value in {**(fields or {}), "csrf_token": self.token}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="export"; filename="{name}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        request = urllib.request.Request(self.server.url + path, data=b"".join(parts), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        return self._open(request, timeout=600)
