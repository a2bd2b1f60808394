"""How fast the everyday pages answer in a big shop, served by waitress as `flask serve` serves them.

    .venv/bin/python bench/pages.py                                        # 50,000 customers, 1,000,000 messages
    .venv/bin/python bench/pages.py --customers 5000 --messages 100000

The shop comes from crm/demo.py (cached in bench/.cache by bench/shops.py, with what the app keeps from its rows
filled by the app's own code). This run works on a temporary copy and adds, with plain INSERTs as bench/queue.py
does, what makes today busy: a few thousand conversations of the last ten days (half of them waiting on us) and
open follow-ups around today; and one long thread of messages/20 messages (50,000 for a million) over the last
three weeks, as a big import would bring. What the app keeps from those rows is then brought up to date by the
app's own code (crm.kept), as it is after an import.

Then it starts `flask --app app serve` (waitress, 8 threads, daily backups off) on the copy, logs in over HTTP
and times, one request at a time and interleaved so the machine's other work weighs on all alike:

    floor      GET /login, logged out: the cheapest page, the yardstick of this run on this machine
    today      GET /
    customers  GET /customers/, and two filtered lists (a need tag and a channel; waiting on us, by score)
    customer   GET /customers/<id> of the customer with the most conversations
    thread     GET /conversations/<id> of the longest conversation
    report     GET /reports/ (this month) and GET /reports/?period=last_90

giving p50 and p95 per page and the server's CPU per request; then 8 clients for a while on a mix of those
real pages, and 8 clients on the floor page for as long: requests per second of each. The server's peak RSS
comes from /proc. Each `_to_floor` figure is that page's p95 over the floor's p95 (for the customer list the
worst of its three, for the report the 90-day one); `mixed_to_floor` is the mix's requests/s over the floor's.
The last line is exactly:

    summary: messages=N today_to_floor=A customers_to_floor=B customer_to_floor=C thread_to_floor=D \
report_to_floor=E mixed_to_floor=F peak_rss_mb=M
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV = ROOT / ".venv"
if (VENV / "bin" / "python").exists() and Path(sys.prefix).resolve() != VENV.resolve():
    os.execv(VENV / "bin" / "python", [str(VENV / "bin" / "python"), *sys.argv])

from bench.queue import busy_today  # noqa: E402
from bench.shops import DEMO_OWNER_EMAIL, DEMO_PASSWORD, cached_shop_built_apart  # noqa: E402

SEED = 13


def _ts(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def long_thread(path: Path, messages: int) -> dict:
    """One conversation of `messages` messages over the last three weeks, for a customer with a handle."""
    rng = random.Random(SEED)
    now = datetime.now(timezone.utc)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    customer_id = conn.execute(
        "SELECT c.id FROM customers c WHERE c.deleted_at IS NULL AND c.merged_into_id IS NULL "
        "ORDER BY c.id LIMIT 1 OFFSET 777").fetchone()[0]
    staff_id = conn.execute("SELECT id FROM users ORDER BY id LIMIT 1 OFFSET 1").fetchone()[0]
    conversation_id = conn.execute("SELECT max(id) FROM conversations").fetchone()[0] + 1
    message_id = conn.execute("SELECT max(id) FROM messages").fetchone()[0] + 1
    lines = ("kak ready L?", "harga brp kak?", "ok kak makasih", "ongkir ke Medan brp?", "mau order 3 ya")
    answers = ("ready kak", "185rb kak", "siap kak", "25rb via JNE", "baik kak, totalnya 555rb")
    start = now - timedelta(days=21)
    step = timedelta(days=21) / messages
    rows, side = [], "customer"
    for i in range(messages):
        moment = start + step * i
        body = rng.choice(lines if side == "customer" else answers)
        rows.append((message_id + i, conversation_id, _ts(moment), side, "", body, "", None, _ts(moment)))
        side = side if rng.random() < 0.3 else ("staff" if side == "customer" else "customer")
    conn.execute("INSERT INTO conversations (id, customer_id, channel, logged_by_id, first_message_at, "
                 "last_message_at, last_side, created_at) VALUES (?, ?, 'whatsapp', ?, ?, ?, ?, ?)",
                 (conversation_id, customer_id, staff_id, rows[0][2], rows[-1][2], rows[-1][3], rows[0][2]))
    conn.executemany("INSERT INTO messages (id, conversation_id, sent_at, side, author_name, body, attachments, "
                     "fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return {"long_thread_messages": messages, "long_thread_id": conversation_id}


def keep_new_rows(path: Path, first_conversation_id: int) -> float:
    """What the app keeps from the conversations added here (and their customers), by the app's own code."""
    from crm import create_app
    from crm.extensions import db
    from crm.kept import refresh_conversations, refresh_customers
    from crm.models import Conversation, FollowUp

    started = time.perf_counter()
    app = create_app({"INSTANCE_PATH": str(path.parent), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        added = db.session.execute(
            db.select(Conversation.id).where(Conversation.id >= first_conversation_id)).scalars().all()
        customers = refresh_conversations(added)
        customers.update(db.session.execute(
            db.select(FollowUp.customer_id).where(FollowUp.done_at.is_(None))).scalars())
        refresh_customers(customers)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive HTTP connection, with the session cookie once logged in."""

    def __init__(self, port: int, cookie: str = ""):
        self.port, self.cookie = port, cookie
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, url: str, body: str | None = None) -> tuple[int, dict, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, url, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, url: str) -> float:
        started = time.perf_counter()
        status, _headers, _body = self.request("GET", url)
        elapsed = (time.perf_counter() - started) * 1000
        assert status == 200, f"{url}: {status}"
        return elapsed


def log_in(port: int) -> str:
    client = Client(port)
    status, headers, body = client.request("GET", "/login")
    token = re.search(rb'name="csrf-token" content="([^"]+)"', body).group(1).decode()
    cookie = headers["Set-Cookie"].split(";")[0]
    client.cookie = cookie
    status, headers, _ = client.request("POST", "/login", urlencode(
        {"email": DEMO_OWNER_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token}))
    assert status == 302, f"login failed: {status}"
    return headers["Set-Cookie"].split(";")[0]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def throughput(port: int, cookie: str, urls: list[str], clients: int, seconds: float) -> float:
    """Requests per second of `clients` clients going round `urls` (each starting at another one)."""
    done = [0] * clients
    stop = time.perf_counter() + seconds
    failures: list[str] = []

    def run(index: int) -> None:
        client = Client(port, cookie)
        position = index
        try:
            while time.perf_counter() < stop:
                client.get(urls[position % len(urls)])
                done[index] += 1
                position += 1
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(f"{type(error).__name__}: {error}")

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    return sum(done) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument("--seconds", type=float, default=20, help="length of each 8-client run")
    parser.add_argument("--clients", type=int, default=8)
    arguments = parser.parse_args()
    shop, facts = cached_shop_built_apart(arguments.customers, arguments.messages)
    work = Path(tempfile.mkdtemp(prefix="obrolan-bench-pages-"))
    try:
        run(arguments, shop, facts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(arguments, shop: Path, facts: dict, work: Path) -> None:
    path = work / "obrolan.sqlite"
    shutil.copy(shop, path)
    conn = sqlite3.connect(path)
    first_added = conn.execute("SELECT max(id) FROM conversations").fetchone()[0] + 1
    conn.close()
    added = busy_today(path, 5_000 if arguments.customers >= 20_000 else 1_000,
                       5_000 if arguments.customers >= 20_000 else 1_000)
    added |= long_thread(path, max(1_000, arguments.messages // 20))
    kept_seconds = keep_new_rows(path, first_added)

    conn = sqlite3.connect(path)
    busiest = conn.execute(
        "SELECT c.customer_id FROM conversations c JOIN customers cu ON cu.id = c.customer_id "
        "WHERE c.deleted_at IS NULL AND cu.deleted_at IS NULL AND cu.merged_into_id IS NULL "
        "GROUP BY c.customer_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    busiest_conversations = conn.execute("SELECT count(*) FROM conversations WHERE customer_id = ?",
                                         (busiest,)).fetchone()[0]
    conn.close()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"shop: {facts['messages']:,} messages, {facts['customers']:,} customers, "
          f"{facts['conversations']:,} conversations; added {added}; kept columns of the added rows in "
          f"{kept_seconds:.1f} s; busiest customer {busiest} has {busiest_conversations} conversations")

    port = free_port()
    env = dict(os.environ, OBROLAN_SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", OBROLAN_INSTANCE_PATH=str(work),
               OBROLAN_BACKUP_DAILY="false", OBROLAN_RATELIMIT_ENABLED="false", FLASK_APP="app")
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(server.stderr.read().decode()) from None
                time.sleep(0.1)
        measure(arguments, port, server.pid, facts, added, busiest)
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(arguments, port: int, pid: int, facts: dict, added: dict, busiest: int) -> None:
    cookie = log_in(port)
    pages = {
        "floor": ["/login"],
        "today": ["/"],
        "customers": ["/customers/", "/customers/?tag=price&channel=instagram",
                      "/customers/?waiting=y&sort=score"],
        "customer": [f"/customers/{busiest}"],
        "thread": [f"/conversations/{added['long_thread_id']}"],
        "report": ["/reports/", "/reports/?period=last_90"],
    }
    urls = [url for group in pages.values() for url in group]
    logged_in, logged_out = Client(port, cookie), Client(port)

    def client_for(url: str) -> Client:
        return logged_out if url == "/login" else logged_in

    for url in urls:  # warm: templates compiled, SQLite pages cached
        for _ in range(3):
            client_for(url).get(url)
    timings: dict[str, list[float]] = {url: [] for url in urls}
    for _ in range(arguments.requests):
        for url in urls:
            timings[url].append(client_for(url).get(url))
    cpu: dict[str, float] = {}
    for url in urls:
        before = cpu_seconds(pid)
        for _ in range(10):
            client_for(url).get(url)
        cpu[url] = (cpu_seconds(pid) - before) / 10 * 1000

    p95 = {url: percentile(values, 0.95) for url, values in timings.items()}
    for url in urls:
        print(f"GET {url:44} p50 {statistics.median(timings[url]):7.1f} ms   p95 {p95[url]:7.1f} ms   "
              f"server CPU {cpu[url]:6.1f} ms/request")

    real = [url for url in urls if url != "/login"]
    mixed = throughput(port, cookie, real, arguments.clients, arguments.seconds)
    floor_rps = throughput(port, "", ["/login"], arguments.clients, arguments.seconds)
    print(f"{arguments.clients} clients, {arguments.seconds:.0f} s each: mix of the {len(real)} real pages "
          f"{mixed:.1f} requests/s, floor page {floor_rps:.1f} requests/s")
    rss = peak_rss_mb(pid)
    print(f"server peak RSS {rss:.0f} MB")

    floor = p95["/login"]

    def ratio(group: str, pick=max) -> float:
        return pick(p95[url] for url in pages[group]) / floor

    print(f"summary: messages={facts['messages'] + added['long_thread_messages']} "
          f"today_to_floor={ratio('today'):.2f} customers_to_floor={ratio('customers'):.2f} "
          f"customer_to_floor={ratio('customer'):.2f} thread_to_floor={ratio('thread'):.2f} "
          f"report_to_floor={p95['/reports/?period=last_90'] / floor:.2f} mixed_to_floor={mixed / floor_rps:.2f} "
          f"peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
