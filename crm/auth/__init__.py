"""Login, logout, first-run setup, and the owner's management of staff accounts."""
from functools import wraps

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("auth", __name__)


def owner_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    wrapped.owner_only = True
    return wrapped


from . import language, views  # noqa: E402,F401  (routes attach to bp)
