"""Today's order reminders: what the shop should do about its orders now. Each section is one query over
orders and their steps, its N days from the Order settings (crm.orders.settings):

- awaiting payment: placed more than `payment_nudge_days` ago and still not paid (cash on delivery excluded: it is
  paid on delivery), with a nudge to send;
- shipped, not delivered: shipped more than `delivery_days` ago with no delivery recorded: check the tracking;
- ask for a review: delivered at least `review_days` ago (and at most REVIEW_WINDOW_DAYS more: a request weeks
  later is noise), not marked "asked" and with no message of ours asking for one since the delivery, in any of
  the customer's chats (ulasan, review, rating, bintang 5 ...: kept on each message, Message.asks_for_review);
- buy again: customers whose latest order was paid and placed at least `repeat_days` ago (the item's per-product
  days when the owner set some; the shortest of its items'), up to REPEAT_WINDOW_DAYS more, not reminded since.

Deleted customers and customers merged away never appear; returned and cancelled orders are in none of them.
Today's filters apply: staff (customers assigned to them), channel (the order's), need tag (the order's chat).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, true
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..formatting import rupiah
from ..models import Conversation, ConversationTag, Customer, Message, Order, OrderItem, OrderStep, utcnow
from .services import of_live_customer
from .settings import OrderSettings, order_settings

SECTIONS = ("awaiting_payment", "not_delivered", "review", "repeat")
REVIEW_WINDOW_DAYS = 14
REPEAT_WINDOW_DAYS = 60
LIMIT = 20


@dataclass
class ReminderRow:
    section: str
    order: Order
    since: datetime  # the moment the section counts from: ordered, shipped, delivered
    nudge: str = ""  # a message to send the customer, ready to copy


@dataclass
class Reminders:
    sections: dict[str, list[ReminderRow]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    settings: OrderSettings = field(default_factory=OrderSettings)

    @property
    def any(self) -> bool:
        return any(self.totals.values())


def _step(status: str):
    return db.aliased(OrderStep, name=f"step_{status}")


def _live_orders(filters=None):
    statement = db.select(Order).where(of_live_customer(Order.customer_id))
    if filters is not None:
        if filters.user_id:
            statement = statement.join(Customer, Customer.id == Order.customer_id).where(
                Customer.assigned_to_id == filters.user_id)
        if filters.channel:
            statement = statement.where(Order.channel == filters.channel)
        if filters.tag_id:
            statement = statement.where(db.select(ConversationTag.tag_id).where(
                ConversationTag.conversation_id == Order.conversation_id, ConversationTag.tag_id == filters.tag_id,
                ConversationTag.removed_at.is_(None)).exists())
    return statement


def _reached(status: str):
    """When the order reached `status`, read from its own step (the unique (order, status) index). Used where an
    order's current status picks the few: joined instead, SQLite would walk that status's step of every order the
    shop ever had (everyone was placed; most were shipped)."""
    return (db.select(OrderStep.at).where(OrderStep.order_id == Order.id, OrderStep.status == status)
            .correlate(Order).scalar_subquery().label(f"{status}_at"))


def awaiting_payment(now: datetime, settings: OrderSettings, filters=None):
    placed = _reached("awaiting_payment")
    return (_live_orders(filters).add_columns(placed)
            .where(Order.status == "awaiting_payment", func.coalesce(Order.payment_method, "") != "cod",
                   placed <= now - timedelta(days=settings.payment_nudge_days))
            .order_by(placed, Order.id))


def not_delivered(now: datetime, settings: OrderSettings, filters=None):
    shipped = _reached("shipped")
    return (_live_orders(filters).add_columns(shipped)
            .where(Order.status == "shipped", shipped <= now - timedelta(days=settings.delivery_days))
            .order_by(shipped, Order.id))


def review_candidates(now: datetime, settings: OrderSettings, filters=None):
    step = _step("delivered")
    latest = now - timedelta(days=settings.review_days)
    asked_since = (
        db.select(Message.id).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.customer_id == Order.customer_id, Message.asks_for_review == true(),
               Message.deleted_at.is_(None), Message.sent_at >= step.at)
        .exists())
    return (_live_orders(filters).add_columns(step.at)
            .join(step, and_(step.order_id == Order.id, step.status == "delivered"))
            .where(Order.status == "delivered", Order.review_asked_at.is_(None), step.at <= latest,
                   step.at > latest - timedelta(days=REVIEW_WINDOW_DAYS), ~asked_since)
            .order_by(step.at, Order.id))


def repeat_candidates(now: datetime, settings: OrderSettings, filters=None):
    """Each customer's latest order (by when it was placed), when it is paid and old enough for the shortest
    repeat days. Driven by the orders placed in the window (an index range), each checked for a later order
    of its customer (a few): not by ranking every order the shop ever had."""
    placed, later_placed = _step("awaiting_payment"), db.aliased(OrderStep, name="later_placed")
    later_order = db.aliased(Order, name="later_order")
    # Nested, so the check starts from this customer's few orders (their index), never from every placed step.
    placed_later = (
        db.select(later_placed.order_id)
        .where(later_placed.order_id == later_order.id, later_placed.status == "awaiting_payment",
               or_(later_placed.at > placed.at, and_(later_placed.at == placed.at, later_order.id > Order.id)))
        .correlate_except(later_placed).exists())
    has_later_order = (
        db.select(later_order.id)
        .where(later_order.customer_id == Order.customer_id, later_order.status != "cancelled", placed_later)
        .exists())
    paid = db.select(OrderStep.order_id).where(OrderStep.order_id == Order.id, OrderStep.status == "paid").exists()
    longest = max([settings.repeat_days, *(d for _, d in settings.repeat_days_by_product)])
    return (_live_orders(filters).add_columns(placed.at)
            .join(placed, and_(placed.order_id == Order.id, placed.status == "awaiting_payment"))
            .where(placed.at <= now - timedelta(days=settings.shortest_repeat_days),
                   placed.at > now - timedelta(days=longest + REPEAT_WINDOW_DAYS),
                   Order.status.notin_(("cancelled", "returned")), Order.repeat_reminded_at.is_(None), paid,
                   ~has_later_order)
            .order_by(placed.at, Order.id))


def _with_items(statement):
    return statement.options(selectinload(Order.items), selectinload(Order.customer), selectinload(Order.conversation))


def _not_due_yet(candidates: list[tuple[int, int, datetime]], now: datetime, settings: OrderSettings) -> set[int]:
    """Of these repeat candidates, the orders whose items' own repeat days have not passed yet."""
    if not settings.repeat_days_by_product:
        return set()
    names: dict[int, list[str]] = {order_id: [] for order_id, _, _ in candidates}
    for order_id, name in db.session.execute(
            db.select(OrderItem.order_id, OrderItem.name).where(OrderItem.order_id.in_(list(names)))):
        names[order_id].append(name)
    return {order_id for order_id, _, since in candidates
            if since > now - timedelta(days=settings.repeat_days_for(names[order_id]))}


def _first_name(customer: Customer) -> str:
    words = customer.display_name.split()
    return words[0] if words and any(ch.isalpha() for ch in words[0]) else ""


def _items_text(order: Order) -> str:
    return ", ".join(item.name for item in order.items if item.name)


def nudge_text(section: str, order: Order) -> str:
    """A message for the customer, in the reader's language (staff copy it into WhatsApp and adjust it)."""
    name = _first_name(order.customer)
    kak = f"kak {name}" if name else "kak"
    items = _items_text(order)
    if section == "awaiting_payment":
        total = rupiah(order.total) if order.total is not None else ""
        return _("Hi %(kak)s, order #%(number)d%(items)s%(total)s is still waiting for payment. "
                 "If you have paid already, please send the transfer proof 🙏", kak=kak, number=order.id,
                 items=f" ({items})" if items else "", total=f" {total}" if total else "")
    if section == "review":
        return _("Hi %(kak)s, has the parcel arrived well? We would be glad if you left us a review 🙏",
                 kak=kak)
    if section == "repeat":
        return _("Hi %(kak)s, how is your %(items)s? We have new stock this week, would you like to order again?",
                 kak=kak, items=items or _("order"))
    return ""


def order_reminders(filters=None, now: datetime | None = None, limit: int = LIMIT,
                    settings: OrderSettings | None = None) -> Reminders:
    now = now or utcnow()
    settings = settings or order_settings()
    reminders = Reminders(settings=settings)
    for section in SECTIONS:
        rows, total = section_rows(section, filters, now, limit, settings)
        reminders.sections[section], reminders.totals[section] = rows, total
    return reminders


def section_rows(section: str, filters=None, now: datetime | None = None, limit: int | None = None,
                 settings: OrderSettings | None = None, offset: int = 0) -> tuple[list[ReminderRow], int]:
    """One section's `limit` rows from `offset` (all when None) and how many there are. Only the rows shown are
    loaded as orders: a shop with thousands of candidates reads their ids and moments, not their items and
    customers."""
    now = now or utcnow()
    settings = settings or order_settings()
    statement = {"awaiting_payment": awaiting_payment, "not_delivered": not_delivered, "review": review_candidates,
                 "repeat": repeat_candidates}[section](now, settings, filters)
    since = list(statement.selected_columns)[-1]
    if section == "repeat":  # per-product days are checked in Python: all the candidates are looked at
        candidates = db.session.execute(statement.with_only_columns(Order.id, Order.customer_id, since)).all()
        dropped = _not_due_yet(candidates, now, settings)
        found = [(order_id, at) for order_id, _, at in candidates if order_id not in dropped]
        total = len(found)
        shown = found[offset:] if limit is None else found[offset : offset + limit]
    else:
        total = db.session.execute(db.select(func.count()).select_from(
            statement.with_only_columns(Order.id).order_by(None).subquery())).scalar_one()
        page = statement.with_only_columns(Order.id, since).offset(offset)
        shown = db.session.execute(page if limit is None else page.limit(limit)).all()
    orders = {order.id: order for order in db.session.execute(
        _with_items(db.select(Order).where(Order.id.in_([order_id for order_id, _ in shown])))).scalars()}
    return [ReminderRow(section, orders[order_id], at, nudge_text(section, orders[order_id]))
            for order_id, at in shown], total
