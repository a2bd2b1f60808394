"""How fast the follow-up queue (the home page) answers in a big shop.

    .venv/bin/python bench/queue.py                           # 50,000 customers, 1,000,000 messages
    .venv/bin/python bench/queue.py --customers 5000 --messages 100000 --requests 20

The shop comes from crm/demo.py (bulk INSERTs into a migrated SQLite file, cached in bench/.cache):
customers on several channels, conversations over two years with the recent months busier, need tags with
their reason message, follow-ups around today (some done), sales, deleted and merged customers. This run
works on a temporary copy, then adds what makes the queue busy today, also with plain INSERTs: a few
thousand conversations in the last days (half waiting on us, many with intent tags) and a few thousand
open follow-ups overdue, due today and later.

Then, logged in as the owner through the WSGI app (Flask's test client, the same request path waitress
drives), it times GET / and its filtered variants, and prints p50/p95 in ms per URL and peak RSS.
The last line is machine-readable:
    summary: customers=N p50_ms=X p95_ms=Y peak_rss_mb=M
"""
from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shops import DEMO_OWNER_EMAIL, DEMO_PASSWORD, cached_shop  # noqa: E402

SEED = 4


def _ts(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def busy_today(path: Path, conversations: int, follow_ups: int) -> dict:
    """Recent chats and open follow-ups, so every section of the queue has far more rows than it shows."""
    rng = random.Random(SEED)
    now = datetime.now(timezone.utc)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    customer_ids = [row[0] for row in conn.execute(
        "SELECT id FROM customers WHERE deleted_at IS NULL AND merged_into_id IS NULL")]
    staff_ids = [row[0] for row in conn.execute("SELECT id FROM users")]
    tags = dict(conn.execute("SELECT name, id FROM tags"))
    conversation_id = conn.execute("SELECT max(id) FROM conversations").fetchone()[0] + 1
    message_id = conn.execute("SELECT max(id) FROM messages").fetchone()[0] + 1
    lines = {"price": "Harganya brp kak?", "order": "mau order 2, transfer ke BCA ya", "product": "gamis L ready?",
             "shipping": "ongkir ke Medan brp?", "reseller": "bisa jadi reseller?", "complaint": "barangnya rusak kak"}
    conversation_rows, message_rows, tag_rows = [], [], []
    for _ in range(conversations):
        customer_id = rng.choice(customer_ids)
        start = now - timedelta(hours=rng.uniform(0.5, 24 * 10))
        intents = rng.sample(list(lines), rng.randint(0, 3))
        bodies = [("customer", lines[i]) for i in intents] or [("customer", "halo kak")]
        if rng.random() < 0.5:
            bodies.append(("staff", "siap kak, dicek dulu ya"))
        moment = start
        for side, body in bodies:
            message_rows.append((message_id, conversation_id, _ts(moment), side, "", body, "", None, _ts(moment)))
            if side == "customer" and body in lines.values():
                tag = next(name for name, line in lines.items() if line == body)
                tag_rows.append((conversation_id, tags[tag], "auto", message_id, body.split()[0], tag, _ts(moment)))
            message_id += 1
            moment += timedelta(minutes=rng.randint(1, 30))
        moment -= timedelta(minutes=1)
        conversation_rows.append((conversation_id, customer_id, rng.choice(("whatsapp", "instagram", "tiktok")),
                                  rng.choice(staff_ids), _ts(start), _ts(moment), bodies[-1][0], _ts(start)))
        conversation_id += 1
    conn.executemany("INSERT INTO conversations (id, customer_id, channel, logged_by_id, first_message_at, "
                     "last_message_at, last_side, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", conversation_rows)
    conn.executemany("INSERT INTO messages (id, conversation_id, sent_at, side, author_name, body, attachments, "
                     "fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", message_rows)
    conn.executemany("INSERT OR IGNORE INTO conversation_tags (conversation_id, tag_id, source, reason_message_id, "
                     "reason_word, reason_keyword, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", tag_rows)
    follow_up_rows = []
    for _ in range(follow_ups):
        due = now + timedelta(days=rng.randint(-20, 20), hours=rng.uniform(-12, 12))
        follow_up_rows.append((rng.choice(customer_ids), _ts(due), rng.random() < 0.3, "tanya lagi",
                               rng.choice(staff_ids), staff_ids[0], _ts(now)))
    conn.executemany("INSERT INTO follow_ups (customer_id, due_at, has_time, note, assigned_to_id, created_by_id, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", follow_up_rows)
    conn.execute("COMMIT")
    conn.close()  # no ANALYZE: a shop's database has no planner statistics either
    return {"recent_conversations": len(conversation_rows), "open_follow_ups_added": len(follow_up_rows)}


def log_in(client, email: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, f"login failed: {response.status_code}"


def time_url(client, url: str, requests: int) -> list[float]:
    for _ in range(2):  # warm: templates compiled, SQLite pages cached
        assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--recent", type=int, default=5_000, help="conversations added in the last 10 days")
    parser.add_argument("--follow-ups", type=int, default=5_000, help="open follow-ups added around today")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per URL")
    arguments = parser.parse_args()

    shop, facts = cached_shop(arguments.customers, arguments.messages)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "obrolan.sqlite"
        shutil.copy(shop, path)
        added = busy_today(path, arguments.recent, arguments.follow_ups)
        print(f"shop: {facts} + {added}")

        from crm import create_app
        from crm.extensions import db
        from crm.today.queue import follow_up_queue

        app = create_app({"INSTANCE_PATH": tmp, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                          "RATELIMIT_ENABLED": False})
        with app.app_context():
            queue = follow_up_queue()
            print("sections (shown/total): " + ", ".join(
                f"{name} {len(s.rows)}/{s.total}" for name, s in queue.sections.items()) + f"; numbers {queue.numbers}")
            db.session.remove()

        client = app.test_client()
        log_in(client, DEMO_OWNER_EMAIL, DEMO_PASSWORD)
        urls = ["/", "/?staff=me", "/?channel=instagram", "/?tag=price", "/?staff=me&channel=whatsapp&tag=order",
                "/queue/waiting", "/queue/overdue?page=3"]
        home = []
        for url in urls:
            timings = time_url(client, url, arguments.requests)
            if url == "/":
                home = timings
            print(f"GET {url:42} p50 {statistics.median(timings):7.1f} ms   p95 {percentile(timings, 0.95):7.1f} ms")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak_mb:.0f} MB")
        print(f"summary: customers={facts['customers']} p50_ms={statistics.median(home):.1f} "
              f"p95_ms={percentile(home, 0.95):.1f} peak_rss_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
