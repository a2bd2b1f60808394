"""How fast search answers in a big shop, against the naive LIKE scan and the cost of an empty page.

    .venv/bin/python bench/search.py                                  # 50,000 customers, 1,000,000 messages
    .venv/bin/python bench/search.py --customers 5000 --messages 100000 --repeat 3
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://user:pw@host/obrolan_bench   # PostgreSQL

The shop comes from crm/demo.py, generated in a child process the first time and cached in
bench/.cache (its build figures, index build time included, are kept next to it). This run works on a
temporary copy. With --database-url (PostgreSQL) the same shop is copied into that database with
`flask copy-to` the first time (it must be empty; a database that already holds this shop is reused), and
everything below runs there. It runs a fixed set of 50 searches (a very common word, rare words, two words, phrases,
prefixes, phone fragments and handles, exclusions; with and without filters; best match and newest
first) and times each one four ways:

    raw    the statement the app runs over the index (crm.search.query.hits_sql), alone on a driver connection
    page   GET /search?q=... through the WSGI app (Flask's test client), logged in as the owner
    floor  GET /search with no query: the same page and layout, nothing searched
    like   the naive way: body LIKE '%word%' (ILIKE on PostgreSQL) for each word, newest first, LIMIT 20

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
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
# bench/ itself off the path: its queue.py would stand in for the standard library's (psycopg imports it).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
VENV = ROOT / ".venv"
if (VENV / "bin" / "python").exists() and Path(sys.prefix).resolve() != VENV.resolve():
    # `python bench/search.py` from any Python: run in the project's environment (make test builds it).
    os.execv(VENV / "bin" / "python", [str(VENV / "bin" / "python"), *sys.argv])

from bench.shops import DEMO_OWNER_EMAIL, DEMO_PASSWORD, cached_shop_built_apart  # noqa: E402


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


def like_sql(query: str, postgres: bool = False) -> tuple[str, list[str]]:
    """The naive search: every word (or quoted phrase) as body LIKE '%...%', newest first."""
    pieces = [p.strip() for p in re.findall(r'"([^"]+)"|(\S+)', query) for p in p if p.strip()]
    words = [p for p in pieces if not p.startswith("-")] or [""]
    where = " AND ".join("body ILIKE %s" if postgres else "body LIKE ?" for _ in words)
    return (f"SELECT id FROM messages WHERE {where} ORDER BY sent_at DESC LIMIT 20",
            [f"%{w.lstrip('@+')}%" for w in words])


def index_size_mb(conn) -> float:
    if not isinstance(conn, sqlite3.Connection):
        return conn.execute("SELECT pg_total_relation_size('messages_search') + pg_total_relation_size("
                            "'customers_search') + pg_relation_size('identities_search_handle')").fetchone()[0] / 2**20
    pages = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'messages_fts%' OR name LIKE 'customers_fts%' "
        "OR name LIKE 'identities_fts%'").fetchone()[0]
    return pages / 2**20


def log_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": DEMO_OWNER_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "login failed"


def trigger_rate(conn, count: int = 2000) -> float:
    """Microseconds per message that the triggers add to a plain INSERT (rolled back afterwards)."""
    conversation = conn.execute("SELECT max(id) FROM conversations").fetchone()[0]
    rows = [(conversation, f"2031-01-01 10:{i // 60 % 60:02d}:{i % 60:02d}.000000", f"pesan tes {i} kak gamis ready")
            for i in range(count)]
    if not isinstance(conn, sqlite3.Connection):
        return _postgres_trigger_rate(conn, rows)

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


def _postgres_trigger_rate(conn, rows) -> float:
    """Written as the app writes them on PostgreSQL: SQLAlchemy sends a batch as one multi-row INSERT, and the
    triggers run once per statement."""
    values = ", ".join(["(%s, %s, 'customer', '', %s, '', '2031-01-01 10:00:00')"] * len(rows))
    flat = [value for row in rows for value in row]

    def insert(without_triggers: bool) -> float:
        with conn.transaction(force_rollback=True):
            if without_triggers:
                conn.execute("ALTER TABLE messages DISABLE TRIGGER USER")
            started = time.perf_counter()
            conn.execute("INSERT INTO messages (conversation_id, sent_at, side, author_name, body, attachments, "
                         f"created_at) VALUES {values}", flat)
            return time.perf_counter() - started

    return (insert(False) - insert(True)) / len(rows) * 1e6


def _shop_facts(connection) -> tuple:
    """Enough to tell one generated shop from another of the same size (a generator or schema change)."""
    return tuple(connection.exec_driver_sql(sql).scalar() for sql in (
        "SELECT version_num FROM alembic_version", "SELECT count(*) FROM messages", "SELECT count(*) FROM customers",
        "SELECT body FROM messages ORDER BY id DESC LIMIT 1", "SELECT sum(length(body)) FROM messages",
        "SELECT handle FROM channel_identities ORDER BY id LIMIT 1 OFFSET 1234"))


def fill_postgres(url: str, shop: Path, facts: dict) -> str:
    """The shop in the PostgreSQL database at `url`: copied there by copy-to unless it is there already."""
    import sqlalchemy

    from crm import create_app
    from crm.admin.copy_to import CopyError, copy_shop
    from crm.extensions import db

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as connection:
            tables = set(sqlalchemy.inspect(connection).get_table_names())
            held = _shop_facts(connection) if {"messages", "customers", "alembic_version"} <= tables else None
    finally:
        engine.dispose()
    with tempfile.TemporaryDirectory(prefix="obrolan-bench-copy-") as work:
        app = create_app({"INSTANCE_PATH": work, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{shop}"})
        with app.app_context():
            if held == _shop_facts(db.session.connection()):
                db.engine.dispose()
                return "the shop was already there (copied by an earlier run)"
            try:
                report = copy_shop(db.engine, url, progress=lambda line: print(line, file=sys.stderr))
            except CopyError as error:
                sys.exit(f"--database-url: {error}")
            finally:
                db.engine.dispose()
    return f"copied in by copy-to in {report.seconds:.1f} s, search index built in {report.index_seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each search for raw, page and floor")
    parser.add_argument("--database-url", help="run on this PostgreSQL database (postgresql+psycopg://...) instead "
                        "of a copy of the SQLite shop; filled from the shop the first time")
    arguments = parser.parse_args()
    shop, facts = cached_shop_built_apart(arguments.customers, arguments.messages)
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
    url, conn, copied = f"sqlite:///{path}", sqlite3.connect(path, isolation_level=None), None
    conn.execute("PRAGMA journal_mode = WAL")
    specs = queries(conn)  # from the SQLite shop: the PostgreSQL copy holds the same rows
    if arguments.database_url:
        import psycopg
        from sqlalchemy.engine import make_url

        url = arguments.database_url
        copied = fill_postgres(url, shop, facts)
        conn.close()
        conn = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                               autocommit=True, prepare_threshold=None)
    size = index_size_mb(conn)
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    postgres = not isinstance(conn, sqlite3.Connection)

    app = create_app({"INSTANCE_PATH": str(work), "SQLALCHEMY_DATABASE_URI": url,
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
    likes = [like_sql(spec["q"], postgres) for spec in specs]
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

    database = (f"PostgreSQL {conn.info.server_version // 10000}.{conn.info.server_version % 10000}" if postgres
                else f"SQLite {sqlite3.sqlite_version}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, {database}")
    print(f"shop: {messages:,} messages, {facts['customers']:,} customers, {facts['conversations']:,} conversations; "
          f"generated in {facts['generate_seconds']} s, database {facts['database_mb']} MB")
    if copied:
        print(f"PostgreSQL: {copied}")
    built = "on PostgreSQL: see above" if postgres else (
        f"in {facts['index_build_seconds']} s (flask reindex, measured when the shop was generated)")
    print(f"index: built {built}, {size:.1f} MB; triggers add {rate:.0f} us per message written by a plain INSERT")
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
