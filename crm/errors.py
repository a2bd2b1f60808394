"""One error page for every HTTP error; never a stack trace."""
from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

# Werkzeug's names and default descriptions are English; the page shows these in the reader's language.
ERROR_NAMES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed here"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
}


def _description(error: HTTPException) -> str:
    if error.description == type(error).description:  # Werkzeug's own text, not one the app gave
        return _("This cannot be done. Go back, reload the page and try again.")
    return error.description


def render_http_error(error: HTTPException):
    """The error page (or, for htmx, the message alone); a blueprint's own handler falls back to it."""
    if error.code and error.code >= 500:
        db.session.rollback()
    if error.response is not None:  # an abort() that carries its own response, e.g. a redirect
        return error.response
    context = {"error": error, "title": ERROR_NAMES.get(error.code, error.name), "description": _description(error)}
    if request.headers.get("HX-Request"):
        return render_template("errors/_message.html", **context), error.code
    return render_template("errors/error.html", **context), error.code


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_http_error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s", request.path)
        return render_http_error(InternalServerError())
