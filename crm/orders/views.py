from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..admin import audit
from ..auth import owner_required
from ..auth.views import _safe_next
from ..conversations.services import get_conversation
from ..customers.services import current_customer, get_customer
from ..extensions import db
from ..formatting import shop_zone
from ..identities import InvalidHandle, normalise_phone
from ..models import ORDER_STATUSES, Customer, Message, Order
from ..sqlite import hold_customers
from . import display
from .forms import NextForm, OrderForm, OrderSettingsForm, StatusForm, SuggestionForm
from .reminders import SECTIONS as REMINDER_SECTIONS
from .reminders import section_rows
from .services import (
    ItemInput,
    OrderInput,
    StepRefused,
    check_not_in_future,
    create_order,
    dismiss_suggestion,
    get_order,
    mark_repeat_reminded,
    mark_review_asked,
    save_to_customer,
    set_status,
    suggestion_for,
    update_order,
)
from .settings import (
    order_settings,
    parse_product_days,
    product_days_text,
    save_order_settings,
    unreadable_lines_message,
)
from .suggestions import KINDS

bp = Blueprint("orders", __name__, url_prefix="/orders")
display.register(bp)


def _local(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=shop_zone()) if moment else None


def _back(default: str) -> str:
    target = request.values.get("next") or ""
    return _safe_next(target) if target else default


@bp.get("/")
def index():
    """Every order, newest first; by status."""
    status = request.args.get("status", "")
    statement = (db.select(Order).join(Customer, Customer.id == Order.customer_id)
                 .where(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))
                 .options(selectinload(Order.items), selectinload(Order.customer))
                 .order_by(Order.created_at.desc(), Order.id.desc()))
    if status in ORDER_STATUSES:
        statement = statement.where(Order.status == status)
    customer_id = request.args.get("customer_id", type=int)
    customer = get_customer(customer_id) if customer_id else None
    if customer:
        statement = statement.where(Order.customer_id == customer.id)
    page = db.paginate(statement, per_page=current_app.config["PER_PAGE"])
    return render_template("orders/index.html", page=page, status=status, customer=customer)


def _input(form: OrderForm) -> OrderInput:
    return OrderInput(
        items=[ItemInput(entry.name.data or "", entry.variant.data or "", entry.quantity.data or 1,
                         entry.unit_price.data) for entry in form.filled_items()],
        payment_method=form.payment_method.data or None, shipping_cost=form.shipping_cost.data or 0,
        discount=form.discount.data or 0, total=form.total.data, courier=form.courier.data or "",
        tracking_number=form.tracking_number.data or "", recipient_name=form.recipient_name.data or "",
        recipient_phone=form.recipient_phone.data or "", address=form.address.data or "", note=form.note.data or "",
        channel=form.channel.data,
    )


def _wants_more_rows(form: OrderForm) -> bool:
    # Without JavaScript, "+ Another item" posts the form back with one more empty row; what was typed stays.
    if "add_row" in request.form:
        form.items.append_entry()
        return True
    return False


def _source(customer: Customer, conversation_id: int | None, message_id: int | None):
    """The conversation and the format order message a new order comes from, checked to belong together."""
    conversation = get_conversation(conversation_id) if conversation_id else None
    if conversation and conversation.customer_id != customer.id:
        abort(400)
    message = None
    if message_id:
        message = db.get_or_404(Message, message_id)
        if conversation is None or message.conversation_id != conversation.id or message.deleted_at:
            abort(400)
    return conversation, message


def _fill_from_suggestion(form: OrderForm, customer: Customer, conversation, message) -> dict | None:
    """The suggestion's fields in the form; what it offers to keep on the customer."""
    suggestion = suggestion_for(conversation, "new_order", message.id)
    if suggestion is None:
        return None
    reading = suggestion.reading
    while len(form.items) < len(reading.items) + 1:
        form.items.append_entry()
    for entry, item in zip(form.items, reading.items, strict=False):
        entry.form.name.data, entry.form.variant.data = item.name, item.variant
        entry.form.quantity.data, entry.form.unit_price.data = item.quantity, item.unit_price
    form.shipping_cost.data, form.discount.data = reading.shipping_cost, reading.discount
    subtotal = [i.unit_price * i.quantity for i in reading.items if i.unit_price is not None]
    if reading.total is not None and (len(subtotal) != len(reading.items) or sum(subtotal) + (
            reading.shipping_cost or 0) - (reading.discount or 0) != reading.total):
        form.total.data = reading.total  # the shop's total says more than items without prices
    form.payment_method.data = reading.payment_method
    form.courier.data = reading.courier
    form.recipient_name.data, form.recipient_phone.data = reading.name, reading.phone
    form.address.data, form.note.data = reading.address, reading.note
    form.ordered_at.data = datetime.fromisoformat(display.moment_value(message.sent_at))
    offers = {}
    if reading.name and reading.name != customer.display_name:
        offers["name"] = reading.name
        form.save_name.data = customer.display_name.casefold() in reading.name.casefold() or not any(
            ch.isalpha() for ch in customer.display_name)
    if reading.address and reading.address != customer.address:
        offers["address"] = reading.address
        form.save_address.data = not customer.address
    if reading.phone:
        try:
            number = normalise_phone(reading.phone)
        except InvalidHandle:
            number = None
        if number and number not in {i.handle for i in customer.identities}:
            offers["phone"] = reading.phone
            form.save_phone.data = True
    return {"suggestion": suggestion, "offers": offers}


@bp.route("/new", methods=["GET", "POST"])
def new():
    """A new order by hand (from a customer's page) or from a format order in a chat (prefilled, to confirm)."""
    customer_id = request.values.get("customer_id", type=int)
    if not customer_id:
        flash(_("Choose the customer first: open their page and press “New order”."), "info")
        return redirect(url_for("customers.index"))
    # A POST keeps what was typed even when a colleague merged or trashed the customer since the form was opened.
    customer = get_customer(customer_id) if request.method == "GET" else db.get_or_404(Customer, customer_id)
    conversation, message = _source(customer, request.values.get("conversation_id", type=int),
                                    request.values.get("source_message_id", type=int)
                                    or request.values.get("message_id", type=int))
    if message is not None:
        made = db.session.execute(db.select(Order.id).where(Order.source_message_id == message.id)).scalar()
        if made:
            flash(_("Order #%(number)d was made from this message already.", number=made), "info")
            return redirect(url_for("orders.show", order_id=made))
    form = OrderForm(customer_id=customer.id, conversation_id=conversation.id if conversation else None,
                     source_message_id=message.id if message else None)
    offered = None
    if request.method == "GET":
        form.channel.data = conversation.channel if conversation else _default_channel(customer)
        if message is not None:
            offered = _fill_from_suggestion(form, customer, conversation, message)
    else:
        offered = {"offers": {key: request.form.get(f"offer_{key}", "") for key in ("name", "address", "phone")
                              if request.form.get(f"offer_{key}")}}
    if request.method == "POST" and not _wants_more_rows(form) and form.validate_on_submit():
        # Under the write lock: a colleague may have made this order, or merged or trashed the customer, meanwhile.
        hold_customers(db.session, [customer.id])
        made = db.session.execute(
            db.select(Order.id).where(Order.source_message_id == message.id)).scalar() if message else None
        if made:
            flash(_("Order #%(number)d was made from this message already.", number=made), "info")
            return redirect(url_for("orders.show", order_id=made))
        live = current_customer(customer)
        if live is None:
            db.session.rollback()
            flash(_("%(name)s was moved to the trash meanwhile; nothing was saved.", name=customer.display_name),
                  "error")
            return _order_form(form, customer, conversation, message, offered), 400
        if live.id != customer.id:
            flash(_("%(name)s was merged into %(other)s meanwhile: the order is theirs.", name=customer.display_name,
                    other=live.display_name), "info")
            customer = live
        try:
            check_not_in_future(_local(form.ordered_at.data))
            order = create_order(customer, _input(form), ordered_at=_local(form.ordered_at.data),
                                 conversation=conversation, source_message_id=message.id if message else None,
                                 created_by_id=current_user.id)
            offers = offered["offers"]
            problems = save_to_customer(
                customer, name=offers.get("name", "") if form.save_name.data else "",
                address=offers.get("address", "") if form.save_address.data else "",
                phone=offers.get("phone", "") if form.save_phone.data else "")
            db.session.commit()
        except StepRefused as error:
            db.session.rollback()
            form.ordered_at.errors.append(str(error))
        except IntegrityError:
            # A colleague made the order from this message a moment ago (orders.source_message_id is unique).
            db.session.rollback()
            made = db.session.execute(
                db.select(Order.id).where(Order.source_message_id == message.id)).scalar() if message else None
            if made is None:
                raise
            flash(_("Order #%(number)d was made from this message already.", number=made), "info")
            return redirect(url_for("orders.show", order_id=made))
        else:
            flash(_("Order #%(number)d created for %(name)s.", number=order.id, name=customer.display_name), "success")
            for problem in problems:
                flash(problem, "info")
            return redirect(_back(url_for("orders.show", order_id=order.id)))
    status = 400 if request.method == "POST" and "add_row" not in request.form else 200
    return _order_form(form, customer, conversation, message, offered), status


def _order_form(form, customer, conversation, message, offered):
    return render_template("orders/form.html", form=form, customer=customer, order=None, conversation=conversation,
                           message=message, offered=offered, next=request.values.get("next", ""))


def _default_channel(customer: Customer) -> str:
    from ..today.services import default_sale_channel

    return default_sale_channel(customer)


@bp.get("/<int:order_id>")
def show(order_id: int):
    order = get_order(order_id)
    # A suggestion that needs one more choice (the courier) links here with its values.
    args = request.args
    status = args.get("status") if args.get("status") in ORDER_STATUSES else _next_status(order)
    at = _moment_arg(args.get("at"))
    form = StatusForm(formdata=None, status=status, at=at, courier=order.courier,
                      tracking_number=args.get("tracking_number", order.tracking_number)[:40],
                      message_id=args.get("message_id", type=int))
    return render_template("orders/show.html", order=order, form=form)


def _moment_arg(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _next_status(order: Order) -> str:
    steps = ("awaiting_payment", "paid", "packed", "shipped", "delivered")
    if order.status in steps[:-1]:
        following = steps[steps.index(order.status) + 1]
        return "packed" if following == "paid" and order.payment_method == "cod" else following
    return order.status


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
def edit(order_id: int):
    order = get_order(order_id)
    if request.method == "GET":
        form = OrderForm(obj=order, items=[{"name": i.name, "variant": i.variant, "quantity": i.quantity,
                                            "unit_price": i.unit_price} for i in order.items])
        form.items.append_entry()
        form.payment_method.data = order.payment_method or ""
        form.ordered_at.data = datetime.fromisoformat(display.moment_value(order.ordered_at))
        # A total that is the items' sum is left empty, so editing an item keeps it adding up.
        from .services import order_total

        if order.total == order_total(order.items, order.shipping_cost, order.discount):
            form.total.data = None
        return render_template("orders/form.html", form=form, customer=order.customer, order=order,
                               conversation=order.conversation, message=None, offered=None, next="")
    form = OrderForm()
    if not _wants_more_rows(form) and form.validate_on_submit():
        update_order(order, _input(form))
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("orders.show", order_id=order.id))
    status = 200 if "add_row" in request.form else 400
    return render_template("orders/form.html", form=form, customer=order.customer, order=order,
                           conversation=order.conversation, message=None, offered=None, next=""), status


@bp.post("/<int:order_id>/status")
def change_status(order_id: int):
    """A step with its moment: by hand on the order's page, or one click on a suggestion in the thread."""
    order = get_order(order_id)
    form = StatusForm()
    message_id = form.message_id.data
    if message_id:
        message = db.get_or_404(Message, message_id)
        if message.conversation.customer_id != order.customer_id:
            abort(400)
    if form.validate_on_submit():
        shipped = form.status.data == "shipped"
        try:
            check_not_in_future(_local(form.at.data))
            # Under the write lock, so a colleague's step at the same moment is seen before this one is added.
            hold_customers(db.session, [order.customer_id])
            if current_customer(order.customer) is None or order.customer.merged_into_id:
                db.session.rollback()
                abort(404)
            set_status(order, form.status.data, _local(form.at.data) or datetime.now(shop_zone()),
                       message_id=message_id, courier=form.courier.data if shipped else None,
                       tracking_number=form.tracking_number.data if shipped else None, user_id=current_user.id)
            db.session.commit()
        except StepRefused as error:
            db.session.rollback()
            form.at.errors.append(str(error))
        except IntegrityError:
            # A colleague recorded the same step at the same moment (one step per status and order).
            db.session.rollback()
            flash(_("Someone changed this order at the same moment; here it is as it is now."), "info")
            return redirect(url_for("orders.show", order_id=order_id))
        else:
            flash(_("Order #%(number)d: %(status)s.", number=order.id, status=display.status_label(order)),
                  "success")
            return redirect(_back(url_for("orders.show", order_id=order.id)))
    order = get_order(order_id)
    return render_template("orders/show.html", order=order, form=form), 400


@bp.post("/suggestions/dismiss")
def dismiss():
    form = SuggestionForm()
    if not form.validate_on_submit() or form.kind.data not in KINDS:
        abort(400)
    message = db.get_or_404(Message, form.message_id.data)
    get_conversation(message.conversation_id)
    dismiss_suggestion(message, form.kind.data, current_user.id)
    db.session.commit()
    flash(_("Suggestion dismissed."), "info")
    return redirect(_back(url_for("conversations.show", conversation_id=message.conversation_id)))


@bp.post("/<int:order_id>/review-asked")
def review_asked(order_id: int):
    order = get_order(order_id)
    if not NextForm().validate_on_submit():
        abort(400)
    mark_review_asked(order)
    db.session.commit()
    flash(_("Noted: %(name)s was asked for a review.", name=order.customer.display_name), "success")
    return redirect(_back(url_for("orders.show", order_id=order.id)))


@bp.post("/<int:order_id>/repeat-reminded")
def repeat_reminded(order_id: int):
    order = get_order(order_id)
    if not NextForm().validate_on_submit():
        abort(400)
    mark_repeat_reminded(order)
    db.session.commit()
    flash(_("Noted: %(name)s was reminded.", name=order.customer.display_name), "success")
    return redirect(_back(url_for("orders.show", order_id=order.id)))


@bp.get("/reminders/<reminder>")
def reminders(reminder: str):
    """One of Today's order sections in full."""
    if reminder not in REMINDER_SECTIONS:
        abort(404)
    from ..today.views import _filters, filter_args

    settings, filters = order_settings(), _filters()
    page = _RowsPage(per_page=current_app.config["PER_PAGE"], read=lambda offset, limit: section_rows(
        reminder, filters, settings=settings, limit=limit, offset=offset))
    return render_template("orders/reminders.html", section=reminder, page=page, settings=settings,
                           filter_args=filter_args())


class _RowsPage(Pagination):
    """Flask-SQLAlchemy's page (`?page=`, 404 past the last) over rows that are not one query: a section read
    partly in Python gives its page and its count at once."""

    def _query_items(self):
        items, self._count = self._query_args["read"](offset=(self.page - 1) * self.per_page, limit=self.per_page)
        return items

    def _query_count(self):
        return self._count


@bp.route("/settings", methods=["GET", "POST"])
@owner_required
def settings():
    """How many days Today waits before each order reminder."""
    current = order_settings()
    form = OrderSettingsForm(data={**current.__dict__, "repeat_days_by_product": product_days_text(current)})
    if form.validate_on_submit():
        products, refused = parse_product_days(form.repeat_days_by_product.data)
        if refused:
            form.repeat_days_by_product.errors.append(unreadable_lines_message(refused))
        else:
            saved = save_order_settings(form.data, products, user_id=current_user.id)
            audit.record("edit", "settings", _("Order settings"), {"changed": audit.changes(
                {**current.__dict__, "repeat_days_by_product": [list(p) for p in current.repeat_days_by_product]},
                saved)})
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("orders.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("orders/settings.html", form=form), status
