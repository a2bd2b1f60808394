"""The follow-up queue (the home page), follow-ups, pipeline stage and sales; and tags (admin and by hand)."""
from flask import Blueprint

bp = Blueprint("followups", __name__)
tags_bp = Blueprint("tags", __name__)

from . import display, tag_views, views  # noqa: E402,F401  (routes and template helpers attach to the blueprints)
