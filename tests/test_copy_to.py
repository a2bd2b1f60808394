"""`flask copy-to URI`: a SQLite shop moved into an empty PostgreSQL database, and searched the same there."""
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy
from flask_migrate import upgrade

from crm import create_app, demo
from crm.admin.trash import move_to_trash
from crm.customers.services import create_customer, merge_customers
from crm.extensions import db
from crm.models import AuditEvent, ChannelCost, Customer, Message
from crm.search.query import Filters, search

pytestmark = pytest.mark.postgres_only("copies into PostgreSQL")

QUERIES = ["kak", "gamis hitam", '"ready stok"', "gami", "ready -gamis", "transf", "ukuran xl", "creme",
           "ongkir bandung", '"sudah transfer"', "harga", "0812", "@sari", "reseller", "pengi", "xl", "-kak"]


@pytest.fixture
def sqlite_shop(tmp_path):
    """A generated shop in SQLite, with what the generator leaves out: a merge, the trash, costs, JSON."""
    path = tmp_path / "shop.sqlite"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    demo.generate(connection, customers=60, messages=1500, seed=11)
    connection.close()
    with app.app_context():
        first, second = db.session.execute(db.select(Customer).order_by(Customer.id).limit(2)).scalars()
        merge_customers(first, second)
        move_to_trash(db.session.execute(db.select(Message).order_by(Message.id.desc()).limit(1)).scalar_one())
        create_customer("Renée Crème", notes="suka kue brûlée, reseller Bandung")
        db.session.add(ChannelCost(channel="instagram", month=datetime(2026, 5, 1).date(), ads=150_000,
                                   staff_hours=2.5, hourly_cost=20_000))
        db.session.add(AuditEvent(action="test", details={"kata": "ü ✓", "n": [1, 2]}))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _rows(url: str, table: str) -> list[tuple]:
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as connection:
            model = db.metadata.tables[table]
            return [tuple(row) for row in connection.execute(sqlalchemy.select(model).order_by(*model.primary_key))]
    finally:
        engine.dispose()


def _search_everything(app) -> dict:
    with app.app_context():
        found = {}
        for query in QUERIES:
            for order in ("best", "newest"):
                for filters in (None, Filters(side="customer"), Filters(channel="instagram", stage="won")):
                    results = search(query, filters, order=order, customers=8)
                    found[query, order, filters] = (
                        results.message_count, results.thread_count,
                        [(t.conversation_id, [(h.message_id, str(h.snippet)) for h in t.hits])
                         for t in results.threads],
                        [(c.customer.id, str(c.notes)) for c in results.customers])
        return found


def test_a_shop_is_copied_whole_with_its_ids_and_searches_the_same(sqlite_shop, empty_postgres_url, tmp_path):
    source_url = sqlite_shop.config["SQLALCHEMY_DATABASE_URI"]
    result = sqlite_shop.test_cli_runner().invoke(args=["copy-to", empty_postgres_url])
    assert result.exit_code == 0, result.output
    assert "every table counted the same on both sides" in result.output

    for table in db.metadata.tables:
        assert _rows(empty_postgres_url, table) == _rows(source_url, table), table

    target = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "pg"),
                         "SQLALCHEMY_DATABASE_URI": empty_postgres_url})
    with target.app_context():
        # The sequences go on after the copied ids, and the triggers keep the index.
        highest = db.session.execute(db.select(db.func.max(Customer.id))).scalar()
        added = create_customer("Pelanggan Baru Sesudah Pindah")
        db.session.commit()
        assert added.id == highest + 1
        assert [c.customer.display_name for c in search("sesudah pindah").customers] == [
            "Pelanggan Baru Sesudah Pindah"]
        db.session.delete(added)
        db.session.commit()
        db.engine.dispose()
    assert _search_everything(target) == _search_everything(sqlite_shop)


def test_a_database_that_holds_a_shop_is_never_written_over(sqlite_shop, empty_postgres_url):
    runner = sqlite_shop.test_cli_runner()
    assert runner.invoke(args=["copy-to", empty_postgres_url]).exit_code == 0
    before = _rows(empty_postgres_url, "customers")
    with sqlite_shop.app_context():
        create_customer("Hanya di SQLite")
        db.session.commit()
    again = runner.invoke(args=["copy-to", empty_postgres_url])
    assert again.exit_code == 1
    assert "already holds a shop (users has rows)" in again.output and "nothing was copied" in again.output
    assert _rows(empty_postgres_url, "customers") == before


def test_copy_to_refuses_what_is_not_postgresql_and_says_how_to_reach_it(sqlite_shop, tmp_path):
    runner = sqlite_shop.test_cli_runner()
    other = runner.invoke(args=["copy-to", f"sqlite:///{tmp_path / 'other.sqlite'}"])
    assert other.exit_code == 1 and "copy-to writes into PostgreSQL" in other.output
    unreachable = runner.invoke(args=["copy-to", "postgresql+psycopg://nobody:secret@/none?host=/nonexistent"])
    assert unreachable.exit_code == 1 and "Cannot connect to" in unreachable.output
    assert "secret" not in unreachable.output


def test_an_old_schema_is_upgraded_first(sqlite_shop, empty_postgres_url):
    with sqlite_shop.app_context():
        db.session.execute(db.text("UPDATE alembic_version SET version_num = '0004'"))
        db.session.commit()
    result = sqlite_shop.test_cli_runner().invoke(args=["copy-to", empty_postgres_url])
    assert result.exit_code == 1 and "run `flask --app app db upgrade` first" in result.output


def test_times_stay_the_same_moment(sqlite_shop, empty_postgres_url, tmp_path):
    with sqlite_shop.app_context():
        message = db.session.execute(db.select(Message).order_by(Message.id).limit(1)).scalar_one()
        moment = datetime(2026, 3, 1, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=7)))
        message.sent_at, message_id = moment, message.id
        db.session.commit()
    assert sqlite_shop.test_cli_runner().invoke(args=["copy-to", empty_postgres_url]).exit_code == 0
    target = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "pg"),
                         "SQLALCHEMY_DATABASE_URI": empty_postgres_url})
    with target.app_context():
        assert db.session.get(Message, message_id).sent_at == moment
        db.engine.dispose()
