"""Owner-only data pages: backups (list, back up now, download) and exports (customers CSV, conversations JSONL)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401  (routes attach to bp)
