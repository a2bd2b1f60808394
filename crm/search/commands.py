"""`flask --app app reindex`."""
import time

import click
from flask.cli import with_appcontext

from ..extensions import db
from .index import index_counts, rebuild_index


@click.command("reindex")
@with_appcontext
def reindex_command():
    """Build the search index and its triggers again from the tables (after a restore or a batch migration)."""
    started = time.perf_counter()
    if not rebuild_index():
        raise click.ClickException("Search has an index on SQLite and PostgreSQL; this database searches with LIKE.")
    db.session.commit()
    counts = index_counts()
    handles = f", {counts['handles']:,} handles" if "handles" in counts else ""
    click.echo(f"Search index rebuilt in {time.perf_counter() - started:.1f} s: {counts['messages']:,} messages, "
               f"{counts['customers']:,} customers{handles}.")
