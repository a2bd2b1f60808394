"""The owner's records: the trash (restore, empty) and the audit trail (read only: it has no POST route)."""
from flask import Blueprint

bp = Blueprint("records", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
