"""How fast search answers in a big shop, against the naive LIKE scan and the cost of an empty page.

    .venv/bin/python bench/search.py                                  # 50,000 customers, 1,000,000 messages
    .venv/bin/python bench/search.py --customers 5000 --messages 100000 --repeat 3

The shop comes from crm/demo.py, generated in a child process the first time and cached in
bench/.cache (its build figures, index build time included, are kept next to it). This run works on a
temporary copy. It runs a fixed set of 50 searches (a very common word, rare words, two words, phrases,
prefixes, phone fragments and handles, exclusions; with and without filters; best match and newest
first) and times each one four ways:

    raw    the statement the app runs over the index (crm.search.query.hits_sql), alone on a sqlite3 connection
    page   GET /search?q=... through the WSGI app (Flask's test client), logged in as the owner
    floor  GET /search with no query: the same page and layout, nothing searched
    like   the naive way: body LIKE '%word%' for each word, newest first, LIMIT 20

then prints p50 and p95 of each, the index's build time and size, the rate at which triggers index
messages written by plain INSERTs, and the process's peak memory. The last line is machine-readable:
    summary: messages=N page_p50_ms=A page_p95_ms=B floor_p95_ms=C raw_p95_ms=D like_p95_ms=E \
page_to_floor=B/C like_to_page=E/B peak_rss_mb=M
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV = ROOT / ".venv"
if (VENV / "bin" / "python").exists() and Path(sys.prefix).resolve() != VENV.resolve():
    # `python bench/search.py` from any Python: run in the project's environment (make test builds it).
    os.execv(VENV / "bin" / "python", [str(VENV / "bin" / "python"), *sys.argv])

from bench.shops import DEMO_OWNER_EMAIL, DEMO_PASSWORD, cached_shop  # noqa: E402


def queries(conn: sqlite3.Connection) -> list[dict]:
    """25 searches, each in both orders: 50. Phone fragments and handles come from the generated shop."""
    phone = conn.execute("SELECT handle FROM channel_identities WHERE channel = 'whatsapp' ORDER BY id LIMIT 1 "
                         "OFFSET 1234").fetchone()[0]  # +628xxxxxxxxx
    national = "0" + phone[3:]
    handle = conn.execute("SELECT handle FROM channel_identities WHERE channel = 'instagram' AND handle LIKE '%.%' "
                          "ORDER BY id LIMIT 1 OFFSET 32").fetchone()[0]
    tags = dict(conn.execute("SELECT name, id FROM tags"))
    staff = conn.execute("SELECT id FROM users WHERE role = 'staff' ORDER BY id LIMIT 1").fetchone()[0]
    month_ago = (date.today() - timedelta(days=30)).isoformat()
    base = [
        {"q": "kak"},  # very common: in most messages
        {"q": "kak", "channel": "instagram"},
        {"q": "kak", "stage": "lost", "channel": "telegram", "side": "staff"},  # rare filter, common word
        {"q": "ready", "side": "customer"},
        {"q": "harga", "tag": tags.get("price", ""), "date_from": month_ago},
        {"q": "songket"},  # rare words
        {"q": "lurik", "stage": "won"},
        {"q": "creme"},
        {"q": "gamis hitam"},  # two words
        {"q": "ongkir bandung", "channel": "whatsapp"},
        {"q": "ukuran xl", "staff": staff},
        {"q": '"ready stok"'},  # phrases
        {"q": '"sudah transfer"', "side": "customer"},
        {"q": '"salah kirim" warna'},
        {"q": "gami"},  # prefixes
        {"q": "ukur", "tag": tags.get("product", "")},
        {"q": "transf"},
        {"q": "pengi", "date_from": month_ago},
        {"q": national[:4] + " " + national[4:8]},  # phone fragments, as people type them
        {"q": national[1:4] + "-" + national[4:8]},
        {"q": "+62" + phone[3:6] + " " + phone[6:10]},
        {"q": "@" + handle.split(".")[0]},  # handles
        {"q": handle},
        {"q": "ready -gamis -kemeja"},  # exclusions
        {"q": "", "tag": tags.get("complaint", ""), "channel": "instagram"},  # filters alone
    ]
    return [dict(spec, order=order) for order in ("best", "newest") for spec in base]


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def summary_of(values: list[float]) -> str:
    return f"p50 {statistics.median(values):8.2f} ms   p95 {percentile(values, 95):8.2f} ms   (n={len(values)})"


def like_sql(query: str) -> tuple[str, list[str]]:
    """The naive search: every word (or quoted phrase) as body LIKE '%...%', newest first."""
    pieces = [p.strip() for p in re.findall(r'"([^"]+)"|(\S+)', query) for p in p if p.strip()]
    words = [p for p in pieces if not p.startswith("-")] or [""]
    where = " AND ".join("body LIKE ?" for _ in words)
    return (f"SELECT id FROM messages WHERE {where} ORDER BY sent_at DESC LIMIT 20",
            [f"%{w.lstrip('@+')}%" for w in words])


def index_size_mb(conn: sqlite3.Connection) -> float:
    pages = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'messages_fts%' OR name LIKE 'customers_fts%' "
        "OR name LIKE 'identities_fts%'").fetchone()[0]
    return pages / 2**20


def log_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": DEMO_OWNER_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "login failed"


def trigger_rate(conn: sqlite3.Connection, count: int = 2000) -> float:
    """Microseconds per message that the triggers add to a plain INSERT (rolled back afterwards)."""
    conversation = conn.execute("SELECT max(id) FROM conversations").fetchone()[0]
    rows = [(conversation, f"2031-01-01 10:{i // 60 % 60:02d}:{i % 60:02d}.000000", f"pesan tes {i} kak gamis ready")
            for i in range(count)]

    def insert() -> float:
        conn.execute("BEGIN")
        started = time.perf_counter()
        conn.executemany("INSERT INTO messages (conversation_id, sent_at, side, author_name, body, attachments, "
                         "created_at) VALUES (?, ?, 'customer', '', ?, '', '2031-01-01 10:00:00.000000')", rows)
        elapsed = time.perf_counter() - started
        conn.execute("ROLLBACK")
        return elapsed

    with_triggers = insert()
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'")
    saved = triggers.fetchall()
    conn.execute("BEGIN")
    for name, _ in saved:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("COMMIT")
    without = insert()
    conn.execute("BEGIN")
    for _, sql in saved:
        conn.execute(sql)
    conn.execute("COMMIT")
    return (with_triggers - without) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each search for raw, page and floor")
    arguments = parser.parse_args()

    # Generating in a child process keeps its memory out of this process's peak.
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "bench" / "shops.py"), "--customers", str(arguments.customers),
                    "--messages", str(arguments.messages)], check=True, stdout=subprocess.DEVNULL)
    shop, facts = cached_shop(arguments.customers, arguments.messages)
    if time.perf_counter() - started > 5:
        print(f"generated {shop.name} in {facts['generate_seconds']} s")
    work = Path(tempfile.mkdtemp(prefix="obrolan-bench-search-"))
    try:
        run(arguments, shop, facts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(arguments, shop: Path, facts: dict, work: Path) -> None:
    from crm import create_app
    from crm.extensions import db
    from crm.search.query import Filters, hits_sql, parse_query, window_size

    path = work / "obrolan.sqlite"
    shutil.copy(shop, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    specs = queries(conn)
    size = index_size_mb(conn)
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]

    app = create_app({"INSTANCE_PATH": str(work), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    log_in(client)

    def filters_of(spec: dict):
        number = lambda key: int(spec[key]) if spec.get(key) not in (None, "") else None  # noqa: E731
        return Filters(channel=spec.get("channel"), tag_id=number("tag"), stage=spec.get("stage"),
                       staff_id=number("staff"), side=spec.get("side"),
                       date_from=date.fromisoformat(spec["date_from"]) if spec.get("date_from") else None)

    with app.app_context():
        window = window_size()
        statements = [hits_sql(parse_query(spec["q"]), filters_of(spec), None, window) for spec in specs]
    urls = ["/search?" + urlencode({k: v for k, v in spec.items() if v not in (None, "")}) for spec in specs]

    # Warm up: the first request compiles templates, the first queries read pages in.
    for url in urls:
        assert client.get(url).status_code == 200, url
    client.get("/search")

    # Interleaved, so that whatever else the machine does weighs on all four alike.
    raw, page, floor, like = [], [], [], []
    likes = [like_sql(spec["q"]) for spec in specs]
    for run in range(arguments.repeat):
        for (sql, params), url, (naive, words) in zip(statements, urls, likes, strict=True):
            started = time.perf_counter()
            conn.execute(sql, params).fetchall()
            raw.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            response = client.get(url)
            page.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            started = time.perf_counter()
            response = client.get("/search")
            floor.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            if run == 0:  # a scan of every message: once per search is enough to see it
                started = time.perf_counter()
                conn.execute(naive, words).fetchall()
                like.append((time.perf_counter() - started) * 1000)
    slowest = sorted(zip(page[: len(specs)], urls, strict=True), reverse=True)[:3]

    rate = trigger_rate(conn)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"shop: {messages:,} messages, {facts['customers']:,} customers, {facts['conversations']:,} conversations; "
          f"generated in {facts['generate_seconds']} s, database {facts['database_mb']} MB")
    print(f"index: built in {facts['index_build_seconds']} s (flask reindex, measured when the shop was generated), "
          f"{size:.1f} MB; triggers add {rate:.0f} us per message written by a plain INSERT")
    print(f"searches: {len(specs)} ({len(specs) // 2} queries x best/newest), window {window} messages, "
          f"{arguments.repeat} timed runs each")
    for name, values in (("raw", raw), ("page", page), ("floor", floor), ("like", like)):
        print(f"{name:6} {summary_of(values)}")
    print("slowest pages (first run): " + "; ".join(f"{ms:.1f} ms {url}" for ms, url in slowest))
    page_p50, page_p95 = statistics.median(page), percentile(page, 95)
    floor_p95, raw_p95, like_p95 = percentile(floor, 95), percentile(raw, 95), percentile(like, 95)
    print(f"summary: messages={messages} page_p50_ms={page_p50:.1f} page_p95_ms={page_p95:.1f} "
          f"floor_p95_ms={floor_p95:.1f} raw_p95_ms={raw_p95:.1f} like_p95_ms={like_p95:.1f} "
          f"page_to_floor={page_p95 / floor_p95:.2f} like_to_page={like_p95 / page_p95:.1f} peak_rss_mb={peak:.0f}")
    with app.app_context():
        db.engine.dispose()
    conn.close()


if __name__ == "__main__":
    main()
