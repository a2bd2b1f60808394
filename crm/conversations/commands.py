"""`flask --app app import-chat PATH`: exported chats from a file, a zip or a folder, in one transaction."""
import json
import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..admin import audit
from ..extensions import db
from ..identities import CHANNELS
from .importing import import_path


def _count(number: int, noun: str) -> str:
    """"1 file", "2 files": the command speaks English (a shop's terminal, its scripts and their logs)."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


@click.command("import-chat")
@click.argument("path", type=click.Path(exists=True, path_type=str))
@click.option("--format", "format_", default="auto", show_default=True,
              type=click.Choice(["auto", "whatsapp", "telegram", "messenger", "instagram", "line", "plain"]))
@click.option("--channel", type=click.Choice(CHANNELS), help="Channel of the chats (default: from the format).")
@click.option("--me", multiple=True, help="A name the shop uses in these chats (repeatable).")
@click.option("--customer", "customer_name", help="The customer's name, when the chat does not tell.")
@click.option("--dry-run", is_flag=True, help="Parse and count, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the figures.")
@with_appcontext
def import_chat_command(path, format_, channel, me, customer_name, dry_run, as_json):
    """Import exported chats from a file, a zip or a folder (recursively), in one transaction."""

    progress = None
    if sys.stderr.isatty() and not as_json:
        files = [p for p in Path(path).rglob("*") if p.is_file()] if Path(path).is_dir() else [path]
        progress = click.progressbar(length=len(files), label="Importing chats", file=sys.stderr, show_pos=True)
    summary = import_path(
        path, format=format_, channel=channel, me=me, customer_name=customer_name,
        on_file=(lambda: progress.update(1)) if progress else None,
    )
    audit.record("import", "import", os.path.basename(os.path.normpath(path)), audit.import_details(summary))
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    if progress:
        progress.render_finish()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        click.echo(
            f"{'Dry run: ' if dry_run else ''}{_count(summary.files, 'file')}, "
            f"{_count(summary.conversations, 'conversation')}, "
            f"{_count(summary.messages_imported, 'message')} imported, "
            f"{_count(summary.duplicates_skipped, 'duplicate')} skipped, "
            f"{_count(summary.customers_created, 'customer')} created, {summary.customers_matched} matched."
        )
        if summary.future_dated:
            click.echo(f"{_count(summary.future_dated, 'message')} {'is' if summary.future_dated == 1 else 'are'} "
                       "dated in the future: check the export's date format "
                       "(day and month) and the phone's clock.", err=True)
        for error in summary.errors:
            line = f" line {error['line']}" if error.get("line") else ""
            click.echo(f"  {error['file']}{line}: {error['message']}", err=True)
    if summary.errors and not summary.messages_imported and not summary.duplicates_skipped:
        sys.exit(1)
