"""The channel report (issue #7): for owners and staff; the monthly cost per channel is the owner's to enter."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import display, views  # noqa: E402,F401  (routes and template filters attach to bp)
