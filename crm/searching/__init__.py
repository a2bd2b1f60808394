"""Search: the results page, the top bar's as-you-type suggestions, and the `reindex` and `demo-data` commands.

The search itself is crm/search.py; this package only reads the request and renders.
"""
from flask import Blueprint

# cli_group=None: the commands are `flask --app app reindex` and `flask --app app demo-data`.
bp = Blueprint("search", __name__, url_prefix="/search", cli_group=None)

from . import commands, views  # noqa: E402,F401  (routes and commands attach to bp)
