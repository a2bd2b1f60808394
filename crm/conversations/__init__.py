"""Conversations: logging a chat message by message, and reading a thread."""
from flask import Blueprint

bp = Blueprint("conversations", __name__, url_prefix="/conversations")

from . import views  # noqa: E402,F401  (routes attach to bp)
