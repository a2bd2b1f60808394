from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..audit import ACTION_LABELS, TARGET_LABELS, AuditFilters, detail_lines, events, filter_choices
from ..auth import owner_required
from ..extensions import db
from ..trash import TRASH_DAYS, ParentInTrash, contents, describe, empty_trash, get_trashed, purge_expired, restore
from . import bp

AUDIT_PER_PAGE = 50


@bp.get("/trash")
@owner_required
def trash():
    # What has been in the trash for 30 days goes now; usually there is nothing and this is one indexed look.
    if any(purge_expired().values()):
        db.session.commit()
    return render_template("trash/index.html", trash=contents(), days=TRASH_DAYS)


@bp.post("/trash/<kind>/<int:item_id>/restore")
@owner_required
def restore_item(kind: str, item_id: int):
    item = get_trashed(kind, item_id)
    if item is None:
        abort(404)
    try:
        restore(item)
    except ParentInTrash as error:
        flash(_("%(what)s is in the trash too: restore it first.", what=describe(error.parent)), "error")
        return redirect(url_for("records.trash"))
    db.session.commit()
    flash(_("%(what)s is back.", what=describe(item)), "success")
    return redirect(url_for("records.trash"))


@bp.post("/trash/empty")
@owner_required
def empty():
    counts = empty_trash()
    db.session.commit()
    flash(_("The trash is empty: %(count)d items were deleted for good.", count=sum(counts.values())), "success")
    return redirect(url_for("records.trash"))


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


@bp.get("/audit")
@owner_required
def audit_trail():
    """Read only: the trail can be filtered and paged, never changed (there is no POST route here)."""
    filters = AuditFilters(
        user=request.args.get("user", "").strip(),
        action=request.args.get("action", "").strip(),
        target_type=request.args.get("target_type", "").strip(),
        date_from=_day("from"),
        date_to=_day("to"),
        target_id=request.args.get("target_id", type=int),
    )
    page = db.paginate(events(filters), per_page=AUDIT_PER_PAGE, max_per_page=AUDIT_PER_PAGE)
    return render_template(
        "audit/index.html", page=page, filters=filters, choices=filter_choices(), detail_lines=detail_lines,
        ACTION_LABELS=ACTION_LABELS, TARGET_LABELS=TARGET_LABELS,
        shop_timezone=current_app.config["SHOP_TIMEZONE"],
    )
