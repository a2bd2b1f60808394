from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..admin.trash import TRASH_DAYS, move_to_trash
from ..extensions import db
from ..identities import InvalidHandle
from ..models import ChannelIdentity, Conversation, Customer, User
from .forms import CustomerForm, MergeForm
from .services import (
    IdentityTaken,
    add_identity,
    audited_fields,
    create_customer,
    find_customers,
    get_customer,
    last_activity,
    live_customers,
    merge_customers,
    record_customer_created,
    record_customer_edit,
    remove_channel_identity,
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
    return render_template(
        "customers/_lookup.html", customers=find_customers(query), query=query, target=request.args.get("target", "")
    )


def _apply_identities(customer: Customer, form: CustomerForm) -> bool:
    ok = True
    for entry in form.identities:
        handle = (entry.form.handle.data or "").strip()
        if not handle:
            continue
        try:
            add_identity(customer, entry.form.channel.data, handle)
        except InvalidHandle as error:
            entry.form.handle.errors.append(_("Not valid: %(reason)s.", reason=str(error)))
            ok = False
        except IdentityTaken as error:
            if error.identity.customer.deleted_at:
                message = _("%(handle)s belongs to %(name)s, who is in the trash; the owner can restore them.",
                            handle=error.identity.display, name=error.identity.customer.display_name)
            else:
                message = _("%(handle)s belongs to %(name)s already.", handle=error.identity.display,
                            name=error.identity.customer.display_name)
            entry.form.handle.errors.append(message)
            ok = False
    return ok


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = CustomerForm(display_name=request.args.get("name", ""))
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
    # The identity rows are for adding handles; the existing ones are listed with their own remove buttons.
    form = CustomerForm(obj=customer, identities=[], assigned_to_id=customer.assigned_to_id or 0)
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


@bp.post("/<int:customer_id>/identities/<int:identity_id>/remove")
def remove_identity(customer_id: int, identity_id: int):
    customer = get_customer(customer_id)
    identity = db.get_or_404(ChannelIdentity, identity_id)
    if identity.customer_id != customer.id:
        abort(404)
    shown = identity.display
    remove_channel_identity(identity)
    db.session.commit()
    flash(_("%(handle)s removed from this customer.", handle=shown), "success")
    return redirect(url_for("customers.edit", customer_id=customer.id))


@bp.post("/<int:customer_id>/delete")
def delete(customer_id: int):
    """Anyone may delete: the customer and its conversations go to the trash, where the owner can restore them."""
    customer = get_customer(customer_id)
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
    return render_template("customers/show.html", customer=customer, conversations=conversations)


@bp.route("/<int:customer_id>/merge", methods=["GET", "POST"])
def merge(customer_id: int):
    """Pick the duplicate, confirm on a page showing both, then move everything onto this customer."""
    survivor = get_customer(customer_id)
    form = MergeForm()
    other_id = request.values.get("other_id", type=int)
    other = db.session.get(Customer, other_id) if other_id else None
    if other is None or other.deleted_at or other.merged_into_id or other.id == survivor.id:
        if other_id:
            flash(_("Choose another customer to merge into this one."), "error")
        query = request.args.get("q", "").strip()
        return render_template(
            "customers/merge.html", survivor=survivor, other=None, form=form,
            query=query, candidates=find_customers(query) if query else [],
        )
    if request.method == "POST" and form.validate_on_submit():
        from ..conversations.services import refingerprint

        name = other.display_name
        merge_customers(survivor, other)
        refingerprint(survivor)
        db.session.commit()
        flash(_("%(name)s was merged into %(survivor)s.", name=name, survivor=survivor.display_name), "success")
        return redirect(url_for("customers.show", customer_id=survivor.id))
    form.other_id.data = other.id
    return render_template("customers/merge.html", survivor=survivor, other=other, form=form)
