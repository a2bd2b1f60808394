"""`flask --app app serve`, and the registry of every command (`flask --app app --help` lists them)."""
import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .auth.services import no_user_exists, setup_token


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
    from .admin.backups import start_daily_backups

    start_daily_backups(app)  # only the serving process backs up daily; other commands never start it
    from .conversations.import_jobs import start_worker

    start_worker(app)  # imports queued before a restart go on; one that a crash cut short is cleaned up
    click.echo(f"Obrolan is serving on http://{host}:{port} (Ctrl+C stops it).", err=True)
    serve(app, host=host, port=port, threads=int(app.config["THREADS"]), ident="Obrolan")


def register(app: Flask) -> None:
    """Every command, each kept in the area it belongs to."""
    from .admin.commands import backup_command, create_user_command, purge_trash_command, restore_command
    from .conversations.commands import import_chat_command, run_import_command
    from .demo import demo_data_command
    from .needs.commands import retag_command
    from .search.commands import reindex_command

    for command in (serve_command, create_user_command, import_chat_command, run_import_command, retag_command,
                    backup_command, restore_command, purge_trash_command, demo_data_command, reindex_command):
        app.cli.add_command(command)
