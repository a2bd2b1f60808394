"""Everything SQLite-specific lives here, so the same app runs on PostgreSQL: the connection's pragmas, and the
lock by which a restore knows that a server has the database open."""
import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
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
