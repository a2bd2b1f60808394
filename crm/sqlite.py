"""Everything SQLite-specific about the connection lives here, so the same app runs on PostgreSQL."""
from sqlalchemy import bindparam, event, text
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 15_000


def configure_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets staff read while someone writes; NORMAL sync is crash-safe in WAL mode and much faster.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()


# Any number: the key of the one application-wide lock on PostgreSQL (pg_advisory_xact_lock).
WRITE_LOCK_KEY = 7_206_551


def hold_customers(session, customer_ids=()) -> None:
    """Keep what the next checks read true until this transaction commits: another request that would merge,
    trash or log into the same customers waits, and then sees what this one wrote.

    SQLite has one writer at a time and no row locks: a write statement that changes nothing takes the
    database's write lock now rather than at the first real write, so the checks that follow run under it.
    (Python's sqlite3 opens the transaction only before a write, so no older snapshot is held: nothing read
    before can be stale once the lock is taken, and nothing waits on a snapshot that cannot be upgraded.)
    PostgreSQL gets the same one-at-a-time order from a transaction-level advisory lock, plus the rows.

    Everything the session read before is forgotten, so the checks read the rows again."""
    session.flush()
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(text("UPDATE customers SET id = id WHERE 0"))
    else:
        if dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        if customer_ids:
            session.execute(
                text("SELECT id FROM customers WHERE id IN :ids ORDER BY id FOR UPDATE")
                .bindparams(bindparam("ids", expanding=True)), {"ids": sorted(set(customer_ids))})
    session.expire_all()
