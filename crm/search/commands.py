"""`flask --app app reindex`."""
import time

import click
from flask.cli import with_appcontext

from ..extensions import db
from .index import rebuild_index


@click.command("reindex")
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
