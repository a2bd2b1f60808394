"""`flask --app app import-chat PATH`: exported chats from a file, a zip or a folder, all or nothing.

It runs as an import job (crm.conversations.import_jobs) in this process: in short batches, hidden until the
end, so staff keep logging chats while it runs; it waits for an import already running. A dry run writes
nothing at all."""
import json
import os
import sys

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..identities import CHANNELS
from . import import_jobs
from .display import date_order
from .importing import ImportRun, ImportSummary, import_path

WAIT_FOR_OTHERS = 3600  # seconds: an import started on the Import page finishes first


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
@click.option("--day-first/--month-first", "day_first", default=None,
              help="How to read dates like 3/1/26 (default: from the file, else day first).")
@click.option("--dry-run", is_flag=True, help="Parse and count, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the figures.")
@with_appcontext
def import_chat_command(path, format_, channel, me, customer_name, day_first, dry_run, as_json):
    """Import exported chats from a file, a zip or a folder (recursively), all or nothing."""
    show_progress = sys.stderr.isatty() and not as_json

    def report(run: ImportRun) -> None:
        if show_progress:
            click.echo(f"\r{run.lines_read:,} lines read, {run.summary.messages_imported:,} messages "
                       f"{'to import' if run.dry else 'saved'}", nl=False, err=True)

    options = {"format": format_, "channel": channel, "me": list(me), "customer_name": customer_name,
               "day_first": day_first}
    if dry_run:
        run = ImportRun(dry_run=True, on_progress=report)
        summary = import_path(path, format=format_, channel=channel, me=me, customer_name=customer_name,
                              day_first=day_first, run=run)
        db.session.rollback()
    else:
        import_jobs.recover_dead_jobs()
        job = import_jobs.create_job(source_name=os.path.basename(os.path.normpath(path)),
                                     path=os.path.abspath(path), options=options, runner="cli")
        db.session.commit()
        job = import_jobs.run_job(job.id, wait=WAIT_FOR_OTHERS, report=report)
        if job.status == "queued":
            import_jobs.discard(job, "interrupted")
            raise click.ClickException("another import is still running: try again when it has finished")
        summary = ImportSummary.from_dict(job.summary)
        if job.status == "failed":
            click.echo(f"Import failed, nothing was saved: {job.error}", err=True)
    if show_progress:
        click.echo("", err=True)
    for chat in summary.undecided:
        for error in summary.errors:
            if error["file"] == chat["file"] and error["line"] is None:
                error["message"] += " (--me NAME)"
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        _print(summary, dry_run)
    if summary.errors and not summary.messages_imported and not summary.duplicates_skipped:
        sys.exit(1)


def _print(summary: ImportSummary, dry_run: bool) -> None:
    click.echo(
        f"{'Dry run: ' if dry_run else ''}{_count(summary.files, 'file')}, "
        f"{_count(summary.conversations, 'conversation')}, "
        f"{_count(summary.messages_imported, 'message')} {'to import' if dry_run else 'imported'}, "
        f"{_count(summary.duplicates_skipped, 'duplicate')} skipped, "
        f"{_count(summary.customers_created, 'customer')} created, {summary.customers_matched} matched, "
        f"{_count(summary.group_chats_skipped, 'group chat')} skipped."
    )
    for order in summary.date_orders:
        shown = date_order(order)
        hint = " (nothing in the file tells; --day-first or --month-first to choose)" if shown["ambiguous"] else ""
        click.echo(f"  {order['file']}: dates read {shown['used']}, {shown['span']}{hint}")
    if summary.future_dated:
        click.echo(f"{_count(summary.future_dated, 'message')} {'is' if summary.future_dated == 1 else 'are'} "
                   "dated in the future: check the export's date format "
                   "(day and month) and the phone's clock.", err=True)
    for note in summary.notes:
        lines = f" (lines {', '.join(map(str, note['lines']))})" if note["lines"] else ""
        click.echo(f"  {note['file']}: {_count(note['count'], 'message')} "
                   f"{_NOTE_WORDS.get(note['kind'], note['kind'])}{lines}", err=True)
    for warning in summary.warnings:
        line = f" line {warning['line']}" if warning.get("line") else ""
        click.echo(f"  {warning['file']}{line}: {warning['message']}", err=True)
    if summary.unreadable_lines > len(summary.warnings):
        click.echo(f"  and {_count(summary.unreadable_lines - len(summary.warnings), 'more unreadable line')}",
                   err=True)
    for error in summary.errors:
        line = f" line {error['line']}" if error.get("line") else ""
        click.echo(f"  {error['file']}{line}: {error['message']}", err=True)


_NOTE_WORDS = {
    "future": "dated in the future",
    "undated": "without a readable time, saved at the time of the message before",
    "untimed": "without times, saved at the time of the import",
    "cut": "longer than the limit, cut",
}


@click.command("run-import", hidden=True)
@click.argument("job_id", type=int)
@with_appcontext
def run_import_command(job_id):
    """Run one queued import job (the server starts this for each upload)."""
    job = import_jobs.run_job(job_id, wait=WAIT_FOR_OTHERS)
    if job is None or job.status == "queued":
        sys.exit(1)
