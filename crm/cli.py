"""Command-line tools: `flask --app app <command>`."""
import os
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import db
from .identities import CHANNELS
from .models import ROLES
from .users import AccountError, create_user, no_user_exists, setup_token


@click.command("create-user")
@click.option("--email", required=True, help="Login e-mail address.")
@click.option("--name", required=True, help="Name shown to colleagues.")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@with_appcontext
def create_user_command(email, name, role, password_stdin):
    """Create an account (the first owner, or a staff member)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(name=name, email=email, password=password, role=role)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    from .audit import record

    record("account_added", user, f"{user.name} <{user.email}>", {"role": user.role})
    db.session.commit()
    click.echo(f"Created {user.role} {user.name} <{user.email}>.")


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: HOST setting, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: PORT setting, 5000).")
@with_appcontext
def serve_command(host, port):
    """Serve Obrolan with waitress, the production WSGI server (use --host 0.0.0.0 for the office network)."""
    from waitress import serve

    app = current_app._get_current_object()
    host = host or app.config["HOST"]
    port = port or int(app.config["PORT"])
    if no_user_exists():
        setup_token()  # printed now, so it is on the console before anyone opens the setup page
    from .backups import start_daily_backups

    start_daily_backups(app)  # only the serving process backs up daily; other commands never start it
    click.echo(f"Obrolan is serving on http://{host}:{port} (Ctrl+C stops it).", err=True)
    serve(app, host=host, port=port, threads=int(app.config["THREADS"]), ident="Obrolan")


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
    import json

    from .conversations.importing import import_path

    progress = None
    if sys.stderr.isatty() and not as_json:
        from pathlib import Path

        files = [p for p in Path(path).rglob("*") if p.is_file()] if Path(path).is_dir() else [path]
        progress = click.progressbar(length=len(files), label="Importing chats", file=sys.stderr, show_pos=True)
    summary = import_path(
        path, format=format_, channel=channel, me=me, customer_name=customer_name,
        on_file=(lambda: progress.update(1)) if progress else None,
    )
    from .audit import import_details, record

    record("import", "import", os.path.basename(os.path.normpath(path)), import_details(summary))
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
            f"{'Dry run: ' if dry_run else ''}{summary.files} files, {summary.conversations} conversations, "
            f"{summary.messages_imported} messages imported, {summary.duplicates_skipped} duplicates skipped, "
            f"{summary.customers_created} customers created, {summary.customers_matched} matched."
        )
        for error in summary.errors:
            line = f" line {error['line']}" if error.get("line") else ""
            click.echo(f"  {error['file']}{line}: {error['message']}", err=True)
    if summary.errors and not summary.messages_imported and not summary.duplicates_skipped:
        sys.exit(1)


@click.command("retag")
@with_appcontext
def retag_command():
    """Run the tag rules over every conversation again (after changing keywords); hand-removed tags stay removed."""
    from .tagging import retag_all

    count = retag_all()
    db.session.commit()
    click.echo(f"Re-tagged {count} conversations.")


@click.command("purge-trash")
@with_appcontext
def purge_trash_command():
    """Delete for good what has been in the trash for more than 30 days (run daily; the trash page does it too)."""
    from .trash import purge_expired

    counts = purge_expired()
    db.session.commit()
    click.echo(
        f"Deleted for good: {counts['customer']} customers, {counts['conversation']} conversations, "
        f"{counts['message']} messages."
    )


def register(app: Flask) -> None:
    from .admin.commands import backup_command, restore_command

    for command in (create_user_command, serve_command, import_chat_command, retag_command, backup_command,
                    restore_command, purge_trash_command):
        app.cli.add_command(command)
