"""Command-line tools: `flask --app app <command>`."""
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import db
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
    click.echo(f"Obrolan is serving on http://{host}:{port} (Ctrl+C stops it).", err=True)
    serve(app, host=host, port=port, threads=int(app.config["THREADS"]), ident="Obrolan")


def register(app: Flask) -> None:
    for command in (create_user_command, serve_command):
        app.cli.add_command(command)
