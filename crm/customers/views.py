from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..admin.trash import TRASH_DAYS, move_to_trash
from ..auth.views import _safe_next
from ..conversations.services import last_messages_of
from ..extensions import db
from ..formatting import CHANNEL_LABELS, STAGE_LABELS, url_pattern
from ..identities import CHANNELS
from ..kept import fresh_scores
from ..models import Conversation, Customer, Tag, User
from ..needs.tagging import all_tags, tag_title
from ..reports.forms import period_choices
from ..sqlite import hold_customers
from ..today.display import PageTexts
from ..today.forms import when_choices
from ..today.queue import shop_day
from ..today.services import due_at_for
from .forms import BulkForm, CustomerForm, CustomerListForm, MergeForm
from .listing import (
    BULK_ACTIONS,
    QUIET_DAYS,
    SORTS,
    WON_PERIODS,
    ListFilters,
    bulk_assign,
    bulk_follow_up,
    bulk_stage,
    bulk_tag,
    bulk_trash,
    customer_list,
    picked_customers,
    record_bulk,
)
from .services import (
    IdentityRow,
    audited_fields,
    create_customer,
    current_customer,
    customer_since,
    find_customers,
    get_customer,
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


def _list_form() -> tuple[CustomerListForm, ListFilters]:
    """The list's form with its choices, and the filters it holds; a value that is not a choice is none."""
    form = CustomerListForm(formdata=request.args)
    anything = SelectChoice("", _("Any"))
    users = db.session.execute(db.select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all()
    tags = all_tags()
    # Labels made strings once: each lazy one would be translated again for every option drawn.
    form.stage.choices = [anything] + [SelectChoice(key, str(label)) for key, label in STAGE_LABELS.items()]
    form.channel.choices = [anything] + [SelectChoice(key, str(label)) for key, label in CHANNEL_LABELS.items()]
    form.tag.choices = [anything] + [SelectChoice(tag.name, tag_title(tag)) for tag in tags]
    form.assigned.choices = [anything, SelectChoice("me", _("Me")), SelectChoice("none", _("Nobody"))] + [
        SelectChoice(str(user.id), user.name) for user in users]
    form.quiet.choices = [anything] + [
        SelectChoice(str(days), ngettext("%(num)d day", "%(num)d days", days)) for days in QUIET_DAYS]
    form.won.choices = [anything] + [SelectChoice(choice.value, str(choice.label)) for choice in period_choices()
                                     if choice.value in WON_PERIODS]
    form.sort.choices = [SelectChoice(key, str(label)) for key, (label, _column, _natural) in SORTS.items()]
    form.validate()
    assigned = form.chosen(form.assigned)
    sort = form.chosen(form.sort) or "activity"
    direction = form.chosen(form.dir) or SORTS[sort][2]
    tag_name = form.chosen(form.tag)
    filters = ListFilters(
        query=" ".join((form.q.data or "").split())[:200] if not form.q.errors else "",
        stage=form.chosen(form.stage), channel=form.chosen(form.channel),
        tag_id=next((tag.id for tag in tags if tag.name == tag_name), None) if tag_name else None,
        assigned_to_id=current_user.id if assigned == "me" else 0 if assigned == "none" else
        int(assigned) if assigned else None,
        waiting=bool(form.waiting.data), quiet_days=int(form.quiet.data) if form.chosen(form.quiet) else None,
        follow_up=bool(form.follow_up.data), won=form.chosen(form.won), sort=sort, descending=direction == "desc",
    )
    return form, filters


def _list_args() -> dict:
    """The list's query string without the page: what sort links and the bulk form's way back keep."""
    return {key: value for key, value in request.args.items() if key != "page" and value}


@bp.get("/")
def index():
    fresh_scores()
    form, filters = _list_form()
    page = db.paginate(customer_list(filters), per_page=current_app.config["PER_PAGE"], error_out=False,
                       count=False)
    page.total = db.session.execute(db.select(func.count()).select_from(
        customer_list(filters, counting=True).order_by(None).subquery())).scalar_one()
    template = "customers/_results.html" if request.headers.get("HX-Request") else "customers/index.html"
    texts = PageTexts()
    texts.customer_url = url_pattern("customers.show", customer_id=0)
    texts.words.update(pick=_("Pick %(name)s"), channels=_("Channels"), stage=_("Stage"),
                       expected_value=_("Expected value"), assigned_to=_("Assigned to"), score=_("Score"),
                       last_activity=_("Last activity"), customer_since=_("Customer since"))
    return render_template(
        template, form=form, filters=filters, page=page, customers=page.items, list_args=_list_args(),
        bulk_form=_bulk_form(), sorts=SORTS, query=filters.query, T=texts,
    )


def _bulk_form(formdata=None) -> BulkForm:
    form = BulkForm(formdata=formdata) if formdata is not None else BulkForm(formdata=None)
    form.assign_to.choices = _staff_choices()
    form.stage.choices = [SelectChoice(key, str(label)) for key, label in STAGE_LABELS.items()]
    form.tag_id.choices = [SelectChoice(tag.id, tag_title(tag)) for tag in all_tags()]
    form.when.choices = [SelectChoice(choice.value, str(choice.label)) for choice in when_choices()
                         if choice.value != "date"]
    return form


@bp.post("/bulk")
def bulk():
    """Do one thing to every customer picked on the page; back to the same list."""
    form = _bulk_form(request.form)
    back = _safe_next(form.next.data or "") if form.next.data else url_for("customers.index")
    action = request.form.get("action", "")
    ids = [int(value) for value in request.form.getlist("ids") if value.isdigit()]
    field = {"assign": form.assign_to, "stage": form.stage, "tag": form.tag_id, "follow_up": form.when}.get(action)
    if not form.validate_on_submit() or action not in BULK_ACTIONS or (field is not None and not form.chose(field)):
        abort(400)
    if not ids:
        flash(_("Pick the customers first: tick their boxes."), "error")
        return redirect(back)
    customers, gone = picked_customers(ids)
    if action == "assign":
        user_id = form.assign_to.data or None
        result = bulk_assign(customers, user_id)
        details = {"assigned_to": db.session.get(User, user_id).name if user_id else None}
    elif action == "stage":
        result = bulk_stage(customers, form.stage.data, sold_on=shop_day().today, created_by_id=current_user.id)
        details = {"stage": form.stage.data}
    elif action == "tag":
        tag = db.get_or_404(Tag, form.tag_id.data)
        result = bulk_tag(customers, tag, current_user.id)
        details = {"tag": tag.name}
    elif action == "follow_up":
        due_at, has_time = due_at_for(form.when.data, shop_day())
        result = bulk_follow_up(customers, due_at, has_time, current_user.id)
        details = {"due": due_at}
    else:
        result = bulk_trash(customers)
        details = {}
    result.skipped += gone
    if result.done:
        record_bulk(action, result, details)
    db.session.commit()
    done = len(result.done)
    flash({
        "assign": ngettext("%(num)d customer assigned.", "%(num)d customers assigned.", done),
        "stage": ngettext("Stage set for %(num)d customer.", "Stage set for %(num)d customers.", done),
        "tag": ngettext("Tag added for %(num)d customer.", "Tag added for %(num)d customers.", done),
        "follow_up": ngettext("Follow-up set for %(num)d customer.", "Follow-ups set for %(num)d customers.", done),
        "trash": ngettext("%(num)d customer moved to the trash; the owner can restore them within %(days)d days.",
                          "%(num)d customers moved to the trash; the owner can restore them within %(days)d days.",
                          done, days=TRASH_DAYS),
    }[action], "success")
    if result.skipped:
        flash({
            "tag": ngettext("%(num)d had no conversation to tag.", "%(num)d had no conversation to tag.",
                            result.skipped),
        }.get(action, ngettext("%(num)d was left as it was (already so, or in the trash or merged meanwhile).",
                               "%(num)d were left as they were (already so, or in the trash or merged meanwhile).",
                               result.skipped)), "info")
    return redirect(back)


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


def _record_sale_if_won(customer: Customer, form: CustomerForm) -> None:
    """Won chosen on this form: the sale, today, through the customer's channel (its amount, or not known)."""
    from ..today.services import default_sale_channel, record_sale

    if form.wants_sale:
        record_sale(customer, amount=form.amount.data, sold_on=shop_day().today,
                    channel=default_sale_channel(customer), created_by_id=current_user.id)


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
            _record_sale_if_won(customer, form)
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
                        identities=identity_rows(customer, request.method), needs_sale=customer.stage != "won")
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
            _record_sale_if_won(customer, form)
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
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
        .options(selectinload(Conversation.logged_by)),
        per_page=10,
    )
    texts = PageTexts()
    texts.conversation_url = url_pattern("conversations.show", conversation_id=0)
    texts.words.update(logged_by=_("logged by %(name)s"),
                       ended_with_thanks=_("No reply needed: the chat ended with thanks."))
    return render_template("customers/show.html", customer=customer, conversations=conversations,
                           recent=last_messages_of(conversations.items), T=texts, since=customer_since(customer))


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
