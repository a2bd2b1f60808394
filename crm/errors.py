"""One error page for every HTTP error; never a stack trace."""
from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code >= 500:
            db.session.rollback()
        if error.response is not None:  # an abort() that carries its own response, e.g. a redirect
            return error.response
        if request.headers.get("HX-Request"):
            return render_template("errors/_message.html", error=error), error.code
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s", request.path)
        return http_error(InternalServerError())
