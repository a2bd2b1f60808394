"""The app's ground: configuration, the instance folder, SQLite settings, and migrations."""
import os
import stat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from crm import create_app
from crm.extensions import db
from crm.search.index import is_index_table


def test_migrations_build_exactly_the_models_schema(app):
    def only_model_objects(obj, name, type_, reflected, compare_to):
        # The search index's tables (FTS5's virtual tables, PostgreSQL's) and indexes are made by SQL in
        # migrations, not by models.
        return not (type_ in ("table", "index") and reflected and compare_to is None and is_index_table(name))

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": only_model_objects, "compare_type": True}
        )
        assert compare_metadata(context, db.metadata) == []


def test_migrations_go_down_and_up_again_on_an_empty_database(tmp_path):
    path = tmp_path / "empty.sqlite"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        tables = set(db.inspect(db.engine).get_table_names())
        assert {"users", "customers", "channel_identities", "conversations", "messages"} <= tables
        downgrade(revision="base")
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()


def test_db_upgrade_command_from_the_cli(tmp_path):
    path = tmp_path / "cli.sqlite"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert path.exists()


@pytest.mark.sqlite_only("SQLite's own pragmas")
def test_sqlite_is_set_for_several_staff_at_once(app):
    with db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000


def test_secret_key_is_made_once_and_kept_in_the_instance_folder(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app(config).config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert len(first) >= 32 and key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert create_app(config).config["SECRET_KEY"] == first
    assert create_app({"INSTANCE_PATH": str(tmp_path / "other"), "SQLALCHEMY_DATABASE_URI": "sqlite://"}).config[
        "SECRET_KEY"] != first


def test_database_and_settings_come_from_obrolan_environment_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("OBROLAN_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("OBROLAN_SHOP_TIMEZONE", "Asia/Makassar")
    monkeypatch.setenv("OBROLAN_PORT", "8080")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")
    assert app.config["SHOP_TIMEZONE"] == "Asia/Makassar" and app.config["PORT"] == 8080


def test_instance_config_file_is_read(tmp_path):
    (tmp_path / "config.py").write_text('SHOP_NAME = "Toko Batik Sari"\n')
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SHOP_NAME"] == "Toko Batik Sari"


def test_database_defaults_to_a_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("OBROLAN_SQLALCHEMY_DATABASE_URI", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + os.path.join(str(tmp_path), "obrolan.sqlite")


def test_serve_command_is_there(app):
    result = app.test_cli_runner().invoke(args=["serve", "--help"])
    assert result.exit_code == 0 and "waitress" in result.output


def test_every_page_has_an_icon_and_favicon_ico_is_served_without_login(client, owner_client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = owner_client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico"' in page
    for link in ("/static/icons/obrolan.svg", "/static/icons/obrolan-180.png"):
        assert link in page and client.get(link).status_code == 200


def test_the_app_can_be_installed_on_a_phone_home_screen(client, owner_client):
    page = owner_client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#0f766e">' in page
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon
