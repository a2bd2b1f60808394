"""The language a user reads Obrolan in: saved on their account; before they choose, the browser's."""
from flask import current_app, redirect, request
from flask_login import current_user

from ..extensions import db
from . import bp
from .views import _safe_next


@bp.post("/account/language")
def set_language():
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        current_user.locale = language
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
