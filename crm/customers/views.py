from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..admin.trash import TRASH_DAYS, move_to_trash
from ..extensions import db
from ..identities import CHANNELS
from ..models import Conversation, Customer, User
from ..sqlite import hold_customers
from .forms import CustomerForm, MergeForm
from .services import (
    IdentityRow,
    audited_fields,
    create_customer,
    current_customer,
    customer_since,
    find_customers,
    get_customer,
    last_activity,
    live_customers,
    merge_customers,
    merge_refusal,
    record_customer_created,
    record_customer_edit,
    save_identities,
    usual_channels,
)

bp = Blueprint("customers", __name__, url_prefix="/customers")


def _staff_choices():
    users = db.session.execute(db.select(User).where(User.active.is_(True)).order_by(User.name)).scalars()
    return [SelectChoice(0, _("Nobody"))] + [SelectChoice(user.id, user.name) for user in users]


@bp.get("/")
def index():
    query = request.args.get("q", "").strip()
    if query:
        customers = find_customers(query, limit=100)
        page = None
    else:
        page = db.paginate(
            live_customers().order_by(last_activity().desc(), Customer.id.desc()),
            per_page=current_app.config["PER_PAGE"],
        )
        customers = page.items
    activity = _last_activity_of([customer.id for customer in customers])
    template = "customers/_results.html" if request.headers.get("HX-Request") else "customers/index.html"
    return render_template(template, customers=customers, page=page, query=query, activity=activity)


def _last_activity_of(customer_ids: list[int]) -> dict:
    if not customer_ids:
        return {}
    rows = db.session.execute(
        db.select(Customer.id, last_activity()).where(Customer.id.in_(customer_ids))
    )
    return dict(rows.all())


@bp.get("/lookup")
def lookup():
    """Customers matching what is typed, for pickers (htmx partial)."""
    query = request.args.get("q", "")
    customers = find_customers(query)
    return render_template("customers/_lookup.html", customers=customers, query=query,
                           channels=usual_channels(customers), target=request.args.get("target", ""))


def identity_rows(customer: Customer | None, method: str = "GET") -> list[dict]:
    """What the Channels part of the form starts with: each saved number or handle, then an empty row of each
    channel kind to add one (a second WhatsApp number too). A POST brings its own rows: none are paired with them,
    so a row posted without its identity_id can never be taken for a saved one."""
    if method != "GET":
        return []
    order = {channel: index for index, channel in enumerate(CHANNELS)}
    saved = sorted(customer.identities, key=lambda i: (order.get(i.channel, 99), i.id)) if customer else []
    rows = [{"identity_id": identity.id, "channel": identity.channel, "handle": identity.display}
            for identity in saved]
    return rows + [{"identity_id": None, "channel": channel, "handle": ""} for channel in CHANNELS]


def _apply_identities(customer: Customer, form: CustomerForm) -> bool:
    rows = [IdentityRow(entry.form.identity_id.data, entry.form.channel.data, entry.form.handle.data or "",
                        entry.form.remove.data) for entry in form.identities]
    problems = save_identities(customer, rows)
    for index, problem in problems.items():
        entry = form.identities[index].form
        entry.handle.errors.append(problem.message)
        entry.taken_by, entry.taken_handle = problem.taken_by, problem.handle
    return not problems


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = CustomerForm(display_name=request.args.get("name", ""), identities=identity_rows(None, request.method))
    form.assigned_to_id.choices = _staff_choices()
    if form.validate_on_submit():
        customer = create_customer(
            form.display_name.data, notes=form.notes.data, assigned_to_id=form.assigned_to_id.data or None,
            audited=False,
        )
        customer.stage = form.stage.data
        customer.expected_value = form.expected_value.data
        customer.address = (form.address.data or "").strip()
        if _apply_identities(customer, form):
            record_customer_created(customer)
            db.session.commit()
            flash(_("Customer %(name)s added.", name=customer.display_name), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
        db.session.rollback()
    return render_template("customers/form.html", form=form, customer=None), 400 if request.method == "POST" else 200


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id: int):
    customer = get_customer(customer_id)
    # Not obj=customer: its `identities` are rows of the database, the form's are rows of the page.
    form = CustomerForm(display_name=customer.display_name, notes=customer.notes, stage=customer.stage,
                        expected_value=customer.expected_value, assigned_to_id=customer.assigned_to_id or 0,
                        identities=identity_rows(customer, request.method))
    form.assigned_to_id.choices = _staff_choices()
    if form.validate_on_submit():
        before = audited_fields(customer)
        customer.display_name = " ".join(form.display_name.data.split())
        customer.notes = form.notes.data or ""
        customer.address = (form.address.data or "").strip()
        customer.assigned_to_id = form.assigned_to_id.data or None
        customer.stage = form.stage.data
        customer.expected_value = form.expected_value.data
        if _apply_identities(customer, form):
            record_customer_edit(customer, before)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
        db.session.rollback()
        customer = get_customer(customer_id)
    status = 400 if request.method == "POST" else 200
    return render_template("customers/form.html", form=form, customer=customer), status


@bp.post("/<int:customer_id>/delete")
def delete(customer_id: int):
    """Anyone may delete: the customer and its conversations go to the trash, where the owner can restore them."""
    customer = get_customer(customer_id)
    hold_customers(db.session, [customer.id])
    now = current_customer(customer)
    if now is None or now.id != customer.id:  # a colleague merged or trashed them meanwhile
        flash(_("%(name)s was merged or moved to the trash meanwhile; nothing was deleted.",
                name=customer.display_name), "error")
        return redirect(url_for("customers.show", customer_id=now.id) if now else url_for("customers.index"))
    move_to_trash(customer)
    db.session.commit()
    flash(_("%(name)s is in the trash, with all their conversations; the owner can restore them within "
            "%(days)d days.", name=customer.display_name, days=TRASH_DAYS), "success")
    return redirect(url_for("customers.index"))


@bp.get("/<int:customer_id>")
def show(customer_id: int):
    customer = get_customer(customer_id)
    conversations = db.paginate(
        db.select(Conversation)
        .where(Conversation.customer_id == customer.id, Conversation.deleted_at.is_(None))
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc()),
        per_page=10,
    )
    return render_template("customers/show.html", customer=customer, conversations=conversations,
                           since=customer_since(customer))


@bp.route("/<int:customer_id>/merge", methods=["GET", "POST"])
def merge(customer_id: int):
    """Pick the duplicate, confirm on a page showing both, then move everything onto this customer."""
    form = MergeForm()
    other_id = request.values.get("other_id", type=int)
    if request.method == "POST" and other_id and other_id != customer_id and form.validate_on_submit():
        return _merge(db.get_or_404(Customer, customer_id), db.get_or_404(Customer, other_id))
    survivor = get_customer(customer_id)
    other = db.session.get(Customer, other_id) if other_id else None
    if other is None or other.deleted_at or other.merged_into_id or other.id == survivor.id:
        if other_id:
            flash(_("Choose another customer to merge into this one."), "error")
        query = request.args.get("q", "").strip()
        return render_template(
            "customers/merge.html", survivor=survivor, other=None, form=form,
            query=query, candidates=find_customers(query) if query else [],
        )
    form.other_id.data = other.id
    return render_template("customers/merge.html", survivor=survivor, other=other, form=form)


def _merge(survivor: Customer, other: Customer):
    from ..conversations.services import refingerprint

    # Two staff merging A into B and B into A at the same moment: the second waits here, then sees the first
    # and is told so; the same when the confirmation page was left open while a colleague merged or deleted.
    hold_customers(db.session, [survivor.id, other.id])
    refused = merge_refusal(survivor, other)
    if refused:
        message, shown = refused
        flash(message, "error")
        return redirect(url_for("customers.show", customer_id=shown.id) if shown else url_for("customers.index"))
    name = other.display_name
    merge_customers(survivor, other)
    refingerprint(survivor)
    db.session.commit()
    flash(_("%(name)s was merged into %(survivor)s.", name=name, survivor=survivor.display_name), "success")
    return redirect(url_for("customers.show", customer_id=survivor.id))
