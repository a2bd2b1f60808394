from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..formatting import page_labels, short_time_formatter
from ..models import Tag, User
from ..needs.tagging import tag_title
from .forms import SearchForm
from .query import Filters, search, window_size

bp = Blueprint("search", __name__, url_prefix="/search")

SUGGESTIONS = 5


def _read_form() -> tuple[SearchForm, Filters]:
    form = SearchForm(request.args)
    tags = db.session.execute(db.select(Tag.id, Tag.name, Tag.title)).all()
    form.set_choices(
        # A starter tag nobody renamed shows its Indonesian title to an Indonesian reader, as everywhere else.
        sorted(((tag.id, tag_title(tag)) for tag in tags), key=lambda choice: choice[1].casefold()),
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
    return render_template(template, form=form, results=results, kept=kept, window=window_size(), labels=_labels(),
                           short_time=short_time_formatter())


def _labels() -> dict:
    """Names translated and links built once for the page, not once per conversation and message shown:
    with forty of each, Flask-Babel's and Werkzeug's lookups cost as much as the search."""
    labels = page_labels()
    labels["logged_by"] = _("logged by %(name)s")
    # Both routes end in the id: /customers/<int:customer_id>, /conversations/<int:conversation_id>.
    labels["customer_url"] = url_for("customers.show", customer_id=0)[:-1]
    labels["conversation_url"] = url_for("conversations.show", conversation_id=0)[:-1]
    return labels


@bp.get("/suggest")
def suggest():
    """What the top bar's search box shows as you type: a few customers and conversations."""
    query = request.args.get("q", "").strip()
    results = search(query, order="best", customers=SUGGESTIONS) if len(query) >= 2 else None
    return render_template("search/_suggest.html", results=results, query=query, limit=SUGGESTIONS,
                           short_time=short_time_formatter())
