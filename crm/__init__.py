"""Obrolan: a conversation CRM for small shops that sell through social channels."""
import mimetypes
import os
import secrets
from pathlib import Path

from flask import Flask, request
from flask_login import current_user

from . import translations_build
from .extensions import babel, csrf, db, login_manager, migrate
from .form_messages import use_catalogue_for_form_errors
from .importers import Limits
from .importers._common import MiB
from .text_input import TextRequest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Phones install the app from its manifest only when it comes with this type.
mimetypes.add_type("application/manifest+json", ".webmanifest")

DEFAULTS = {
    "SHOP_NAME": "Obrolan",
    "SHOP_TIMEZONE": "Asia/Jakarta",
    "HOST": "127.0.0.1",
    "PORT": 5000,
    "THREADS": 8,
    "PER_PAGE": 25,
    "LANGUAGES": ["en", "id"],
    "BABEL_DEFAULT_LOCALE": "en",
    # A new message more than this long after the last one on the same channel starts a new conversation.
    "CONVERSATION_GAP_HOURS": 24,
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    # What one import may hold (crm.importers.Limits): a file past a limit is refused with a message saying which.
    "IMPORT_MAX_UNZIPPED_MB": Limits().max_upload_bytes // MiB,
    "IMPORT_MAX_ZIP_FILES": Limits().max_zip_members,
    "IMPORT_MAX_MESSAGES": Limits().max_messages,
    "IMPORT_MAX_MESSAGE_CHARS": Limits().max_message_chars,
    "IMPORT_MAX_JSON_MB": Limits().max_json_bytes // MiB,
    # Dates a file leaves open (3/1/26 is 3 January or 1 March): day first, as Indonesia writes them.
    "IMPORT_DAY_FIRST": True,
    # The Import page waits this long for an import to end before showing its progress instead.
    "IMPORT_WAIT_SECONDS": 2,
    # "process": each web import runs in a process of its own; "thread": in a thread of the server.
    "IMPORT_WORKER": "process",
    # Werkzeug's 500 kB default for one form field would refuse a long pasted chat.
    "MAX_FORM_MEMORY_SIZE": 8 * 1024 * 1024,
    # Failed logins from one address (any accounts), and for one account from one address.
    "LOGIN_LIMIT_PER_ADDRESS": "20 per 10 minutes",
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 10 minutes",
    # Wrong current passwords on "change your password", per account.
    "PASSWORD_CHECK_LIMIT": "5 per 10 minutes",
    # A login (remember-me or not) ends on the server after this many days, and at logout.
    "LOGIN_DAYS": 30,
    # Set to the number of reverse proxies in front (e.g. 1 for nginx doing HTTPS); 0 trusts no headers.
    "TRUSTED_PROXIES": 0,
    # Where the (nearest) proxy connects from: its X-Forwarded-* are believed from these addresses only.
    "TRUSTED_PROXY_ADDRESSES": ["127.0.0.1", "::1"],
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "WTF_CSRF_TIME_LIMIT": None,
}

# Endpoints a visitor may reach without logging in; everything else needs a login (tested over app.url_map).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.setup", "static", "favicon"})


def create_app(config=None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("OBROLAN_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(instance_path or PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.request_class = TextRequest
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("OBROLAN")
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", "sqlite:///" + os.path.join(app.instance_path, "obrolan.sqlite")
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)

    translations_build.register(app)
    _init_extensions(app)
    use_catalogue_for_form_errors()
    _register_blueprints(app)
    _register_request_guards(app)

    from . import cli, errors, formatting, kept, security, shop_settings

    kept.install(app)
    security.register(app)
    cli.register(app)
    errors.register(app)
    formatting.register(app)
    shop_settings.register(app)
    return app


def _instance_secret_key(instance_path: str) -> str:
    """Made once on first start and kept in instance/, so sessions survive restarts and no key is in the code."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from .auth.services import select_locale
    from .auth.sessions import load_user
    from .sqlite import configure_sqlite

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # psycopg prepares a statement run five times, and PostgreSQL may then plan it once for any value:
        # a search's plan depends on its words (a common one walks the newest messages, a rare one the index).
        options = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
        options["connect_args"] = {"prepare_threshold": None, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    from .search.index import include_in_autogenerate

    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     include_name=include_in_autogenerate)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["SHOP_TIMEZONE"])
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def _register_blueprints(app: Flask) -> None:
    from .admin import views as admin
    from .auth import views as auth
    from .conversations import views as conversations
    from .customers import views as customers
    from .needs import views as needs
    from .orders import views as orders
    from .replies import views as replies
    from .reports import views as reports
    from .search import views as search
    from .today import views as today

    for area in (auth, admin, customers, conversations, today, needs, orders, replies, reports, search):
        app.register_blueprint(area.bp)
    app.add_url_rule("/", "home", today.queue_page)
    # Browsers and phones ask for /favicon.ico whatever the page says.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("icons/favicon.ico"))


def _register_request_guards(app: Flask) -> None:
    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
            return None
        return login_manager.unauthorized()
