"""Generated shops for the benchmarks, built once per size by crm.demo and kept in bench/.cache/.

    from bench.shops import cached_shop
    path, facts = cached_shop(customers=50_000, messages=1_000_000)   # built once, then reused

    python -m bench.shops --customers 50000 --messages 1000000        # build (or find) one from the shell
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: crm is imported from the checkout

from crm import demo  # noqa: E402
from crm.demo import DEMO_OWNER_EMAIL, DEMO_PASSWORD  # noqa: E402,F401  (the benchmarks log in with these)

CACHE = ROOT / "bench" / ".cache"


def migrated_database(path: Path) -> None:
    """An empty database at `path`, built by the app's migrations (as `flask db upgrade` would)."""
    from flask_migrate import upgrade

    from crm import create_app
    from crm.extensions import db

    app = create_app({"INSTANCE_PATH": str(path.parent), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def keep_columns(path: Path, progress=print) -> None:
    """Fill what the app keeps from the rows (crm.kept: last activity, waits, scores, the report's days),
    with the app's own code, as `demo-data` does."""
    from crm import create_app
    from crm.extensions import db
    from crm.kept import rebuild_all

    app = create_app({"INSTANCE_PATH": str(path.parent), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        rebuild_all(progress=progress)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _schema_key() -> str:
    """Cached shops are rebuilt when a migration or this generator changes."""
    digest = hashlib.sha256(str(demo.VERSION).encode())
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    digest.update(Path(demo.__file__).read_bytes())
    # ... and when what is kept from the rows is computed differently.
    for kept in ("crm/kept.py", "crm/today/waits.py", "crm/today/scoring.py", "crm/reports/daily.py"):
        digest.update((ROOT / kept).read_bytes())
    from crm.search.index import create_statements

    digest.update("\n".join(create_statements()).encode())
    return digest.hexdigest()[:10]


def cached_shop_built_apart(customers: int, messages: int) -> tuple[Path, dict]:
    """cached_shop(), generated (when not cached yet) in a child process, so the generator's memory stays out of
    the caller's peak RSS figures."""
    import subprocess

    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "bench" / "shops.py"), "--customers", str(customers),
                    "--messages", str(messages)], check=True, stdout=subprocess.DEVNULL)
    shop, facts = cached_shop(customers, messages)
    if time.perf_counter() - started > 5:
        print(f"generated {shop.name} in {facts['generate_seconds']} s")
    return shop, facts


def cached_shop(customers: int, messages: int, progress=print) -> tuple[Path, dict]:
    """The path of a generated shop of this size, built on first use; and facts about how it was built."""
    import json

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"shop-{customers}c-{messages}m-{_schema_key()}.sqlite"
    facts_path = path.with_suffix(".json")
    if path.exists() and facts_path.exists():
        return path, json.loads(facts_path.read_text())
    for stale in CACHE.glob(f"shop-{customers}c-{messages}m-*"):
        stale.unlink()
    building = path.with_suffix(".building")
    for leftover in CACHE.glob(building.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    migrated_database(building)
    conn = sqlite3.connect(building, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    counts = demo.generate(conn, customers, messages, progress=progress)
    conn.close()
    kept_started = time.perf_counter()
    keep_columns(building, progress)
    kept_seconds = time.perf_counter() - kept_started
    conn = sqlite3.connect(building, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    facts = {
        "customers": counts.customers, "messages": counts.messages, "conversations": counts.conversations,
        "identities": counts.identities, "generate_seconds": round(time.perf_counter() - started, 1),
        "index_build_seconds": round(counts.index_seconds, 1), "kept_seconds": round(kept_seconds, 1),
        "database_mb": round(os.path.getsize(building) / 2**20, 1),
    }
    building.rename(path)
    facts_path.write_text(json.dumps(facts, indent=1))
    return path, facts


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    arguments = parser.parse_args()
    shop, built = cached_shop(arguments.customers, arguments.messages)
    print(shop, built)
