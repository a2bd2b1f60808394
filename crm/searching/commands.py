import secrets
import sys
import time

import click
from flask.cli import with_appcontext

from .. import PROJECT_ROOT
from ..extensions import db
from ..search import rebuild_index
from . import bp


@bp.cli.command("reindex")
@with_appcontext
def reindex_command():
    """Build the search index and its triggers again from the tables (after a restore or a batch migration)."""
    started = time.perf_counter()
    if not rebuild_index():
        raise click.ClickException("The search index is SQLite's FTS5; this database searches with LIKE.")
    db.session.commit()
    counts = {table: db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar_one()
              for table in ("messages_fts", "customers_fts", "identities_fts")}
    click.echo(f"Search index rebuilt in {time.perf_counter() - started:.1f} s: {counts['messages_fts']:,} messages, "
               f"{counts['customers_fts']:,} customers, {counts['identities_fts']:,} handles.")


@bp.cli.command("demo-data")
@click.option("--customers", default=2_000, show_default=True, help="How many customers to add.")
@click.option("--messages", default=40_000, show_default=True, help="About how many messages to add.")
@click.option("--seed", default=None, type=int, help="Random seed (the same seed gives the same shop).")
@with_appcontext
def demo_data_command(customers, messages, seed):
    """Fill the database with a generated shop (mixed Indonesian/English chats) to try or measure Obrolan."""
    if db.engine.dialect.name != "sqlite":
        raise click.ClickException("demo-data writes with SQLite's bulk INSERTs; use a SQLite database.")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from bench.datagen import DEMO_OWNER_EMAIL, SEED, generate

    # No fixed password in a database people may go on using: a new one each run, shown once.
    password = secrets.token_urlsafe(12)

    db.session.remove()
    connection = db.engine.raw_connection()
    try:
        raw = connection.driver_connection
        raw.isolation_level = None  # generate() runs its own transaction
        counts = generate(raw, customers, messages, seed=SEED if seed is None else seed,
                          progress=lambda line: click.echo(line, err=True), password=password)
    finally:
        connection.close()
    click.echo(f"Added {counts.customers:,} customers, {counts.conversations:,} conversations and "
               f"{counts.messages:,} messages in {counts.seconds:.0f} s. "
               f"Log in as {DEMO_OWNER_EMAIL} (or a staff member @demo.obrolan.id) with the password {password}")
