"""`flask --app app retag`."""
import click
from flask.cli import with_appcontext

from ..extensions import db
from .tagging import retag_all


@click.command("retag")
@with_appcontext
def retag_command():
    """Run the tag rules over every conversation again (after changing keywords); hand-removed tags stay removed."""
    count = retag_all()
    db.session.commit()
    click.echo(f"Re-tagged {count} conversations.")
