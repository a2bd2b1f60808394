"""`flask --app app copy-to URI`: move a shop into an empty PostgreSQL database in one command.

The source is read from one consistent snapshot (a SQLite database is first copied with its online backup
API, so staff can keep logging chats meanwhile; what they log after that moment is not copied). The target
is migrated if it has no tables, must hold no shop yet, and is written in one transaction: every table with
its ids, the sequences set past the highest id, then the search index built once from the copied rows.
Afterwards every table is counted on both sides; a difference is an error.
"""
from __future__ import annotations

import json
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlalchemy
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import Engine, make_url

from ..extensions import db
from ..models import UTCDateTime

# A database holding any of these rows is somebody's shop: copy-to never writes over it.
SHOP_TABLES = ("users", "customers", "conversations", "messages")


class CopyError(Exception):
    """Nothing was copied, or the copy does not match its source; the message says why."""


@dataclass
class CopyReport:
    counts: dict[str, int] = field(default_factory=dict)  # rows per table, equal on both sides
    index: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    index_seconds: float = 0.0


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def copy_shop(source: Engine, target_url: str, progress=lambda line: None) -> CopyReport:
    started = time.perf_counter()
    if make_url(target_url).get_backend_name() != "postgresql":
        raise CopyError(f"copy-to writes into PostgreSQL (postgresql+psycopg://user:password@host/database); "
                        f"not {shown_url(target_url)}")
    head = _head_revision()
    with _snapshot(source) as snapshot:
        found = _revision(snapshot)
        if found != head:
            raise CopyError(f"The database to copy is at schema version {found}, this code at {head}: "
                            "run `flask --app app db upgrade` first.")
        target = sqlalchemy.create_engine(target_url, poolclass=sqlalchemy.NullPool)
        try:
            _prepare_target(target, target_url, head, progress)
            report = _copy_rows(snapshot, target, progress)
            _check_counts(snapshot, target, report)
        finally:
            target.dispose()
    report.seconds = time.perf_counter() - started
    return report


def _head_revision() -> str:
    from .. import PROJECT_ROOT
    from .backups import schema_revisions

    return schema_revisions(PROJECT_ROOT / "migrations")[1]


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        try:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except sqlalchemy.exc.DBAPIError:
            return None


@contextmanager
def _snapshot(source: Engine):
    """The source as one consistent moment: for SQLite a copy made with the backup API, thrown away after."""
    if source.dialect.name != "sqlite":
        yield source
        return
    from .backups import copy_database, database_file

    with tempfile.TemporaryDirectory(prefix="obrolan-copy-") as folder:
        path = Path(folder) / "snapshot.sqlite"
        copy_database(database_file(source), path)
        engine = sqlalchemy.create_engine(f"sqlite:///{path}", poolclass=sqlalchemy.NullPool)
        try:
            yield engine
        finally:
            engine.dispose()


def _prepare_target(target: Engine, target_url: str, head: str, progress) -> None:
    try:
        tables = set(sqlalchemy.inspect(target).get_table_names())
    except sqlalchemy.exc.OperationalError as error:
        raise CopyError(f"Cannot connect to {shown_url(target_url)}: {error.orig}") from error
    if not tables:
        progress("The target database is empty: creating the schema (db upgrade).")
        _migrate(target_url)
        return
    if _revision(target) != head:
        raise CopyError(f"{shown_url(target_url)} already has tables, at schema version {_revision(target)}: "
                        "give an empty database (or one made by `db upgrade` with this code).")
    with target.connect() as connection:
        for table in SHOP_TABLES:
            if connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar():
                raise CopyError(f"{shown_url(target_url)} already holds a shop ({table} has rows); "
                                "nothing was copied. Give an empty database.")


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from .. import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": current_app.instance_path})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _copy_rows(source: Engine, target: Engine, progress) -> CopyReport:
    from ..search import postgres

    report = CopyReport()
    tables = db.metadata.sorted_tables  # parents before children
    with source.connect() as reader, target.begin() as writer:
        raw = writer.connection.driver_connection
        for statement in postgres.drop_statements():
            writer.exec_driver_sql(statement)
        for table in reversed(tables):  # the rows a migration seeds (starter tags)
            writer.execute(table.delete())
        for table in tables:
            report.counts[table.name] = _copy_table(reader, raw, table)
            progress(f"{table.name}: {report.counts[table.name]:,} rows")
        for table in tables:
            if "id" in table.c and list(table.primary_key.columns) == [table.c.id]:
                writer.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table.name}), 1), "
                    f"(SELECT max(id) IS NOT NULL FROM {table.name}))")
        for table in tables:  # the planner needs the new rows' statistics before the first search
            writer.exec_driver_sql(f'ANALYZE "{table.name}"')
        progress("Building the search index.")
        started = time.perf_counter()
        postgres.install(writer)
        report.index_seconds = time.perf_counter() - started
    return report


def _copy_table(reader, raw, table) -> int:
    columns = list(table.columns)
    convert = []
    for column in columns:
        if isinstance(column.type, UTCDateTime):
            convert.append(lambda value: value and value.replace(tzinfo=None))
        elif isinstance(column.type, sqlalchemy.JSON):
            convert.append(lambda value: None if value is None else json.dumps(value))
        else:
            convert.append(None)
    names = ", ".join(f'"{column.name}"' for column in columns)
    count = 0
    rows = reader.execution_options(yield_per=5000).execute(sqlalchemy.select(*columns).order_by(*table.primary_key))
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([value if change is None else change(value)
                            for change, value in zip(convert, row, strict=True)])
            count += 1
    return count


def _check_counts(source: Engine, target: Engine, report: CopyReport) -> None:
    with source.connect() as reader, target.connect() as writer:
        for table in db.metadata.sorted_tables:
            found = writer.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(table)).scalar()
            expected = reader.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(table)).scalar()
            if found != expected or found != report.counts[table.name]:
                raise CopyError(f"{table.name}: {expected:,} rows in the source, {found:,} in the copy.")
        live_messages = reader.exec_driver_sql("SELECT count(*) FROM messages WHERE deleted_at IS NULL").scalar()
        live_customers = reader.exec_driver_sql(
            "SELECT count(*) FROM customers WHERE deleted_at IS NULL AND merged_into_id IS NULL").scalar()
        report.index = {
            "messages": writer.exec_driver_sql("SELECT count(*) FROM messages_search").scalar(),
            "customers": writer.exec_driver_sql("SELECT count(*) FROM customers_search").scalar(),
        }
        if report.index != {"messages": live_messages, "customers": live_customers}:
            raise CopyError(f"The search index holds {report.index}, expected {live_messages:,} messages and "
                            f"{live_customers:,} customers.")


@click.command("copy-to")
@click.argument("uri")
@with_appcontext
def copy_to_command(uri):
    """Copy this shop into an empty PostgreSQL database URI (postgresql+psycopg://user:password@host/database):
    every table with its ids, then the search index; checked by counting. The app may keep running."""
    try:
        report = copy_shop(db.engine, uri, progress=lambda line: click.echo(line, err=True))
    except CopyError as error:
        raise click.ClickException(str(error)) from error
    width = max(map(len, report.counts))
    for table, count in report.counts.items():
        click.echo(f"  {table:<{width}}  {count:>12,}")
    click.echo(f"Copied {sum(report.counts.values()):,} rows in {report.seconds:.1f} s into {shown_url(uri)}, "
               f"every table counted the same on both sides; search index: {report.index['messages']:,} messages, "
               f"{report.index['customers']:,} customers.")
    click.echo(f"To run on it: set OBROLAN_SQLALCHEMY_DATABASE_URI={shown_url(uri)} (with its password) "
               "and restart the server.")
