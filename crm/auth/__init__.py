"""Login, logout, first-run setup, your own password and language; `owner_required` for the owner's pages."""
from functools import wraps

from flask import abort
from flask_login import current_user


def owner_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    wrapped.owner_only = True
    return wrapped
