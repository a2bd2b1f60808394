"""Extensions are made once here and bound to each app in create_app, so tests can build many apps."""
from contextlib import contextmanager

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    # Named constraints keep Alembic's batch mode on SQLite able to drop and recreate them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@contextmanager
def session_on(connection):
    """db.session is a session on `connection` inside the block (flushed at its end): a migration runs the app's
    own code through the migration's connection and transaction."""
    session = Session(bind=connection)
    db.session.registry.set(session)
    try:
        yield session
        session.flush()
    finally:
        db.session.registry.clear()
