"""Orders: create, edit, move through their steps, and read what a conversation suggests. Functions add and flush
(and record their audit event); the view commits once.

Steps and dates (set_status, the only writer of Order.status and of order steps):
- every order has its "awaiting payment" step, the moment it was placed (the format order's time, or now);
- going forward (paid, packed, shipped, delivered) records that step's moment, which may not lie before the step
  it follows (the views also refuse a moment in the future: check_not_in_future); steps may be skipped
  (a COD order is shipped before it is paid);
- going back to an earlier step is a correction: the later steps go (and "returned"/"cancelled" with them);
- "returned" and "cancelled" keep what came before; choosing one drops the other;
- a cash-on-delivery order that is delivered is paid at that moment: the courier took the cash.
Paid orders ("won") are those with a paid step that are not returned or cancelled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import and_, exists
from sqlalchemy.orm import selectinload

from ..admin import audit
from ..customers.services import IdentityTaken, add_identity, audited_fields, record_customer_edit
from ..extensions import db
from ..formatting import local_time, shop_zone
from ..identities import InvalidHandle, normalise_phone
from ..models import (
    ORDER_STATUSES,
    Conversation,
    Customer,
    DismissedSuggestion,
    Message,
    Order,
    OrderItem,
    OrderStep,
    utcnow,
)
from .labels import STEP_LABELS
from .suggestions import ChatLine, OrderState, Suggestion, suggest

LIFECYCLE = ("awaiting_payment", "paid", "packed", "shipped", "delivered")
ENDINGS = ("returned", "cancelled")
FUTURE_SLACK = timedelta(minutes=5)
SUGGESTION_MESSAGES = 300  # a conversation's newest messages read for suggestions


class StepRefused(ValueError):
    """A status change that cannot be: the message says why, in the reader's language."""


@dataclass
class ItemInput:
    name: str
    variant: str = ""
    quantity: int = 1
    unit_price: int | None = None


@dataclass
class OrderInput:
    items: list[ItemInput] = field(default_factory=list)
    payment_method: str | None = None
    shipping_cost: int = 0
    discount: int = 0
    total: int | None = None  # typed; None: add up the items
    courier: str = ""
    tracking_number: str = ""
    recipient_name: str = ""
    recipient_phone: str = ""
    address: str = ""
    note: str = ""
    channel: str = "other"


def get_order(order_id: int) -> Order:
    order = db.get_or_404(Order, order_id)
    if order.customer.deleted_at or order.customer.merged_into_id:
        abort(404)
    return order


def items_total(items) -> int | None:
    """What the items add up to; None when there are none or one has no price."""
    items = [item for item in items if item.name or item.unit_price is not None]
    if not items or any(item.unit_price is None for item in items):
        return None
    return sum(item.unit_price * item.quantity for item in items)


def order_total(items, shipping_cost: int, discount: int) -> int | None:
    subtotal = items_total(items)
    return None if subtotal is None else max(0, subtotal + (shipping_cost or 0) - (discount or 0))


def _apply(order: Order, data: OrderInput) -> None:
    order.payment_method = data.payment_method or None
    order.shipping_cost = data.shipping_cost or 0
    order.discount = data.discount or 0
    order.courier = data.courier or ""
    order.tracking_number = (data.tracking_number or "").strip().upper()
    order.recipient_name = " ".join((data.recipient_name or "").split())
    order.recipient_phone = (data.recipient_phone or "").strip()
    order.address = (data.address or "").strip()
    order.note = (data.note or "").strip()
    order.channel = data.channel
    order.items = [
        OrderItem(position=index, name=" ".join(item.name.split())[:200], variant=" ".join(item.variant.split())[:200],
                  quantity=max(1, item.quantity or 1), unit_price=item.unit_price)
        for index, item in enumerate(i for i in data.items if i.name.strip() or i.unit_price is not None)
    ]
    order.total = data.total if data.total is not None else order_total(order.items, order.shipping_cost,
                                                                        order.discount)


def create_order(customer: Customer, data: OrderInput, *, ordered_at: datetime | None = None,
                 conversation: Conversation | None = None, source_message_id: int | None = None,
                 created_by_id: int | None = None, audited: bool = True) -> Order:
    ordered_at = ordered_at or utcnow()
    order = Order(customer_id=customer.id, conversation_id=conversation.id if conversation else None,
                  source_message_id=source_message_id, created_by_id=created_by_id, status="awaiting_payment")
    _apply(order, data)
    order.steps = [OrderStep(status="awaiting_payment", at=ordered_at, message_id=source_message_id,
                             recorded_by_id=created_by_id)]
    db.session.add(order)
    db.session.flush()
    if audited:
        audit.record("order_created", order, order_summary(order), _audited(order))
    return order


def update_order(order: Order, data: OrderInput) -> None:
    before = _audited(order)
    _apply(order, data)
    db.session.flush()
    changed = audit.changes(before, _audited(order))
    if changed:
        audit.record("edit", order, order_summary(order), {"changed": changed})


def order_summary(order: Order) -> str:
    return f"#{order.id} {order.customer.display_name}"


def _audited(order: Order) -> dict:
    return {
        "items": [f"{i.quantity}× {i.name}" + (f" ({i.variant})" if i.variant else "") for i in order.items],
        "total": order.total, "shipping_cost": order.shipping_cost, "discount": order.discount,
        "payment_method": order.payment_method, "channel": order.channel, "courier": order.courier,
        "tracking_number": order.tracking_number, "recipient_name": order.recipient_name,
        "recipient_phone": order.recipient_phone, "address": order.address, "note": order.note,
    }


def check_not_in_future(moment: datetime | None) -> None:
    """For what users type (the services take any moment: history is entered afterwards too)."""
    if moment is not None and moment > utcnow() + FUTURE_SLACK:
        raise StepRefused(_("That moment is in the future; choose a time that has come."))


def _when(moment: datetime) -> str:
    return local_time(moment)


def set_status(order: Order, status: str, at: datetime, *, message_id: int | None = None,
               courier: str | None = None, tracking_number: str | None = None,
               user_id: int | None = None, audited: bool = True) -> None:
    """Move the order to `status` as of `at` (see the module's docstring for the rules)."""
    if status not in ORDER_STATUSES:
        raise ValueError(f"unknown order status {status!r}")
    old = order.status
    ordered_at = order.ordered_at
    if status != "awaiting_payment" and at < ordered_at:
        raise StepRefused(_("The order was placed %(when)s; this step cannot come before that.",
                            when=_when(ordered_at)))
    steps = {step.status: step for step in order.steps}
    if status in LIFECYCLE:
        rank = LIFECYCLE.index(status)
        earlier = [steps[s] for s in LIFECYCLE[1:rank] if s in steps]
        late = [step for step in earlier if step.at > at]
        if late:
            raise StepRefused(_("%(step)s was on %(when)s; this step cannot come before it.",
                                step=STEP_LABELS[late[-1].status], when=_when(late[-1].at)))
        for gone in [s for s in steps if s in ENDINGS or (s in LIFECYCLE and LIFECYCLE.index(s) > rank)]:
            order.steps.remove(steps.pop(gone))
    else:
        other = next(s for s in ENDINGS if s != status)
        if other in steps:
            order.steps.remove(steps.pop(other))
    if status != "awaiting_payment":
        _put_step(order, steps, status, at, message_id, user_id)
    if status == "delivered" and order.payment_method == "cod" and "paid" not in steps:
        _put_step(order, steps, "paid", at, message_id, user_id)
    if courier is not None:
        order.courier = courier
    if tracking_number is not None:
        order.tracking_number = tracking_number.strip().upper()
    order.status = status
    db.session.flush()
    details = {"status": [old, status], "at": at}
    if status == "shipped":
        details.update(courier=order.courier, tracking_number=order.tracking_number)
    if message_id:
        details["message_id"] = message_id
    if audited:
        audit.record("order_status", order, order_summary(order), details)


def _put_step(order: Order, steps: dict, status: str, at: datetime, message_id: int | None, user_id: int | None):
    step = steps.get(status)
    if step is None:
        step = OrderStep(status=status)
        order.steps.append(step)
        steps[status] = step
    step.at, step.message_id, step.recorded_by_id, step.recorded_at = at, message_id, user_id, utcnow()


def mark_review_asked(order: Order) -> None:
    order.review_asked_at = order.review_asked_at or utcnow()
    db.session.flush()
    audit.record("order_review_asked", order, order_summary(order))


def mark_repeat_reminded(order: Order) -> None:
    order.repeat_reminded_at = utcnow()
    db.session.flush()
    audit.record("order_repeat_reminded", order, order_summary(order))


# Sales: "won, for this amount" on the pipeline form --------------------------------------------------------

def record_paid_order(customer: Customer, *, amount: int | None, paid_on: date, channel: str,
                      created_by_id: int | None = None, audited: bool = True) -> Order:
    """A sale typed on the pipeline form: an order placed and paid on that day, which makes the customer won."""
    now = utcnow()
    zone = shop_zone()
    at = now if paid_on == now.astimezone(zone).date() else datetime.combine(paid_on, time(12), tzinfo=zone)
    order = create_order(customer, OrderInput(total=amount, channel=channel), ordered_at=at,
                         created_by_id=created_by_id, audited=audited)
    set_status(order, "paid", at, user_id=created_by_id, audited=audited)
    customer.stage = "won"
    db.session.flush()
    return order


def is_paid():
    """An order that counts as a sale: it has a paid step and was neither returned nor cancelled."""
    return and_(
        exists().where(OrderStep.order_id == Order.id, OrderStep.status == "paid"),
        Order.status.notin_(ENDINGS),
    )


def of_live_customer(customer_id):
    """`customer_id` is a customer who counts: not in the trash, not merged into another. Those few are read
    from their two partial indexes, so a period's thousands of orders are not each joined to their customer
    (the customers table is wide: that join was about a third of the report's SQL)."""
    gone = db.select(Customer.id).where(Customer.deleted_at.is_not(None)).union_all(
        db.select(Customer.id).where(Customer.merged_into_id.is_not(None)))
    return customer_id.notin_(gone)


def sales_between(first_day: date, last_day: date, *columns):
    """The sales of these shop days (both included): paid orders of live customers, on the moment they were
    paid, as a select of `columns` (the order's own by default). The one reading of "won" and revenue: Today,
    the report and the customer list all narrow this."""
    zone = shop_zone()
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    return (
        db.select(*(columns or (Order,)))
        .join(OrderStep, and_(OrderStep.order_id == Order.id, OrderStep.status == "paid"))
        .where(OrderStep.at >= start, OrderStep.at < end, Order.status.notin_(ENDINGS),
               of_live_customer(Order.customer_id))
    )


def orders_of(customer: Customer) -> list[Order]:
    return list(db.session.execute(
        db.select(Order).where(Order.customer_id == customer.id)
        .options(selectinload(Order.items), selectinload(Order.steps))
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).scalars())


def paid_orders_of(customer: Customer) -> list[Order]:
    return [order for order in orders_of(customer) if order.status not in ENDINGS and order.step("paid")]


# Suggestions from the chat -----------------------------------------------------------------------------------

def conversation_suggestions(conversation: Conversation) -> list[Suggestion]:
    """What the conversation's newest messages suggest, less what was accepted or dismissed already."""
    messages = list(reversed(db.session.execute(
        db.select(Message.id, Message.side, Message.body, Message.sent_at, Message.attachments)
        .where(Message.conversation_id == conversation.id, Message.deleted_at.is_(None))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(SUGGESTION_MESSAGES)
    ).all()))
    if not messages:
        return []
    ids = [m.id for m in messages]
    orders = orders_of(conversation.customer)
    states = [OrderState(o.id, o.status, o.ordered_at, o.payment_method, o.tracking_number, bool(o.step("paid")))
              for o in orders if o.status != "cancelled"]
    used = {("new_order", o.source_message_id) for o in orders if o.source_message_id}
    used |= {(step.status, step.message_id) for o in orders for step in o.steps if step.message_id}
    dismissed = set(db.session.execute(
        db.select(DismissedSuggestion.kind, DismissedSuggestion.message_id)
        .where(DismissedSuggestion.message_id.in_(ids))
    ).all())
    lines = [ChatLine(m.id, m.side, m.body, m.sent_at, m.attachments or "") for m in messages]
    return suggest(lines, states, used=used, dismissed={(kind, key) for kind, key in dismissed})


def suggestion_for(conversation: Conversation, kind: str, message_id: int) -> Suggestion | None:
    return next((s for s in conversation_suggestions(conversation) if s.kind == kind and s.key == message_id), None)


def dismiss_suggestion(message: Message, kind: str, user_id: int | None) -> None:
    if db.session.get(DismissedSuggestion, (message.id, kind)) is None:
        db.session.add(DismissedSuggestion(message_id=message.id, kind=kind, dismissed_by_id=user_id))
        db.session.flush()
        audit.record("suggestion_dismissed", ("message", message.id), kind)


def save_to_customer(customer: Customer, *, name: str = "", address: str = "", phone: str = "") -> list[str]:
    """What a format order offered to keep on the customer; the reasons for anything not kept."""
    before = audited_fields(customer)
    problems = []
    if name.strip():
        customer.display_name = " ".join(name.split())[:200]
    if address.strip():
        customer.address = address.strip()
    if phone.strip():
        try:
            normalise_phone(phone)
            add_identity(customer, "whatsapp", phone)
        except InvalidHandle as error:
            problems.append(_("%(number)s was not saved: %(reason)s.", number=phone, reason=str(error)))
        except IdentityTaken as error:
            problems.append(_("%(number)s was not saved: it belongs to %(name)s.", number=error.identity.display,
                              name=error.identity.customer.display_name))
    record_customer_edit(customer, before)
    return problems
