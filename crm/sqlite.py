"""Everything SQLite-specific lives here, so the same app runs on PostgreSQL: the connection's pragmas, the
write lock that guarded checks run under (hold_customers), and the lock by which a restore knows that a
server has the database open."""
import os
from contextlib import contextmanager
from pathlib import Path

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


class DatabaseInUse(RuntimeError):
    """A restore found a server on the database, or a server found a restore running."""


def _lock_file(database: Path) -> Path:
    return Path(f"{Path(database).resolve()}.lock")


def _try_lock(file, exclusive: bool) -> bool:
    if os.name == "nt":  # Windows has no shared locks: every holder locks the first byte
        import msvcrt

        file.seek(0)
        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(file.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def hold_while_serving(database: Path):
    """Taken by `serve` for as long as it runs (the OS lets go when the process ends, even killed): a restore
    checks it, so it cannot overwrite the database under a server that keeps acknowledging chats. Several
    servers may hold it at once (on Windows only the first does). Returns the open lock file; keep it."""
    file = open(_lock_file(database), "a+b")  # held open for the life of the process
    if not _try_lock(file, exclusive=False) and os.name != "nt":
        file.close()
        raise DatabaseInUse(f"A restore into {database} is running; start the server when it has finished.")
    return file


@contextmanager
def nobody_serving(database: Path):
    """Held by a restore while it writes: refuses if any server has the database open, and keeps one from
    starting meanwhile."""
    with open(_lock_file(database), "a+b") as file:
        if not _try_lock(file, exclusive=True):
            raise DatabaseInUse(f"A server is running on {database}. Stop it first (Ctrl+C in its window), "
                                "then restore.")
        yield
