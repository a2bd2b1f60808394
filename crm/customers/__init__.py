"""Customers: the list, the customer page with the whole history, edit, merge, and channel identities."""
from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/customers")

from . import views  # noqa: E402,F401  (routes attach to bp)
