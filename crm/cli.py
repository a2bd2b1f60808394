"""`flask --app app serve`, and the registry of every command (`flask --app app --help` lists them)."""
import gc

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .admin.backups import BackupError, database_file, start_daily_backups
from .auth.services import no_user_exists, setup_token
from .extensions import db
from .sqlite import DatabaseInUse, hold_while_serving
from .text_input import clean_command_line


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
    try:
        live = database_file(db.engine)
    except BackupError:
        live = None  # PostgreSQL: restoring is its own tools' business
    if live is not None:
        try:
            # Held until the process ends, so `restore` knows a server has the database open.
            app.extensions["obrolan_serving_lock"] = hold_while_serving(live)
        except DatabaseInUse as error:
            raise click.ClickException(str(error)) from error
    if no_user_exists():
        setup_token()  # printed now, so it is on the console before anyone opens the setup page
    start_daily_backups(app)  # only the serving process backs up daily; other commands never start it
    from .conversations.import_jobs import start_worker

    start_worker(app)  # imports queued before a restart go on; one that a crash cut short is cleaned up
    click.echo(f"Obrolan is serving on http://{host}:{port} (Ctrl+C stops it).", err=True)
    # What was built to start (modules, the ORM's mappers, the translations) lives as long as the process: frozen
    # out of the garbage collector, its full collections stop walking it, which paused a heavy page 40-60 ms.
    gc.freeze()
    # waitress drops every X-Forwarded-* header by default; behind a proxy the app sorts them out itself
    # (crm.security.ForwardedByTrustedProxies), believing only the proxy's own address.
    keep_proxy_headers = {"clear_untrusted_proxy_headers": False} if app.config.get("TRUSTED_PROXIES") else {}
    serve(app, host=host, port=port, threads=int(app.config["THREADS"]), ident="Obrolan", **keep_proxy_headers)


def register(app: Flask) -> None:
    """Every command, each kept in the area it belongs to."""
    from .admin.commands import backup_command, create_user_command, purge_trash_command, restore_command
    from .admin.copy_to import copy_to_command
    from .conversations.commands import import_chat_command, run_import_command
    from .demo import demo_data_command
    from .needs.commands import retag_command
    from .search.commands import reindex_command

    for command in (serve_command, create_user_command, import_chat_command, run_import_command, retag_command,
                    backup_command, restore_command, purge_trash_command, demo_data_command, reindex_command,
                    copy_to_command):
        app.cli.add_command(command)
    clean_command_line(app.cli.commands.values())
