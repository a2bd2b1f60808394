from flask import render_template, request

from ..extensions import db
from ..models import Tag, User
from ..search import Filters, search, window_size
from . import bp
from .forms import SearchForm

SUGGESTIONS = 5


def _read_form() -> tuple[SearchForm, Filters]:
    form = SearchForm(request.args)
    form.set_choices(
        db.session.execute(db.select(Tag.id, Tag.title).order_by(Tag.title)).all(),
        db.session.execute(db.select(User.id, User.name).order_by(User.name)).all(),
    )
    form.validate()  # a malformed date shows its error and filters nothing; nothing else can fail
    number = lambda field: int(form.chosen(field)) if form.chosen(field) else None  # noqa: E731
    filters = Filters(
        channel=form.chosen(form.channel) or None,
        tag_id=number(form.tag),
        stage=form.chosen(form.stage) or None,
        staff_id=number(form.staff),
        side=form.chosen(form.side) or None,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
    )
    return form, filters


@bp.get("")
def index():
    """The results page; htmx asks for the results part only while the shop types or changes a filter."""
    form, filters = _read_form()
    results = search(
        form.q.data or "", filters, order=form.chosen(form.order) or "best",
        page=request.args.get("page", 1, type=int), before=request.args.get("before", type=int),
    )
    # Links keep the query and filters and change only the page, the window or the order.
    kept = {key: value for key, value in request.args.items() if value and key not in ("page", "before")}
    template = "search/_results.html" if request.headers.get("HX-Request") else "search/index.html"
    return render_template(template, form=form, results=results, kept=kept,
                           window=window_size())


@bp.get("/suggest")
def suggest():
    """What the top bar's search box shows as you type: a few customers and conversations."""
    query = request.args.get("q", "").strip()
    results = search(query, order="best", customers=SUGGESTIONS) if len(query) >= 2 else None
    return render_template("search/_suggest.html", results=results, query=query, limit=SUGGESTIONS)
