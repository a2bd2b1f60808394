"""The report's order figures for a period (crm.reports.figures.Period), per channel, per need tag and per staff
member: each one GROUP BY query over orders and their steps, so a year of orders is summed by SQLite.

How they are counted (the report page says the same):
- Orders: orders placed in the period (their "ordered" step).
- Paid and paid revenue: orders paid in the period (their paid step) that were not returned or cancelled since,
  and the sum of their totals (an order of unknown amount counts, with no revenue); average order value is the
  paid revenue over the paid orders with a known amount. Cash on delivery and transfer split the paid orders by
  payment method (e-wallets, marketplaces and orders without a method are in neither).
- Returned, cancelled: orders that reached that step in the period.
- Repeat customers: customers with an order paid in the period who had a paid order before it (any time).
- By channel: the order's channel. By need tag: the need tags of the chat the order came from (orders made by
  hand without a chat are in no tag row; an order whose chat has two tags counts for both). By staff member:
  who recorded the order.
- Deleted customers and customers merged into another are left out.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func

from ..extensions import db
from ..formatting import CHANNEL_LABELS
from ..identities import CHANNELS
from ..models import ConversationTag, Order, OrderStep, Tag, User
from ..needs.tagging import TagTitle
from .services import of_live_customer

ENDINGS = ("returned", "cancelled")


@dataclass(frozen=True)
class OrderFigures:
    key: str  # the channel, the tag's name, the user's id; "" for the total
    label: str | TagTitle  # channel names are lazy; a tag's title is user text, escaped (TagTitle)
    orders: int = 0
    paid: int = 0
    revenue: int = 0
    priced: int = 0  # paid orders with a known total
    cod: int = 0
    cod_revenue: int = 0
    transfer: int = 0
    transfer_revenue: int = 0
    returned: int = 0
    cancelled: int = 0
    paying_customers: int = 0
    repeat_customers: int = 0

    @property
    def average_order_value(self) -> float | None:
        return self.revenue / self.priced if self.priced else None


@dataclass(frozen=True)
class OrderReport:
    channels: list[OrderFigures]
    total: OrderFigures
    tags: list[OrderFigures]
    staff: list[OrderFigures]

    @property
    def any(self) -> bool:
        return bool(self.total.orders or self.total.paid or self.total.returned or self.total.cancelled)


def _live(statement):
    return statement.where(of_live_customer(Order.customer_id))


def _by(statement, grouping: str):
    """The statement grouped by the channel, the staff member or the need tag, with that key as its first column."""
    if grouping == "channel":
        return statement.add_columns(Order.channel.label("key")).group_by(Order.channel)
    if grouping == "staff":
        return statement.add_columns(Order.created_by_id.label("key")).group_by(Order.created_by_id)
    if grouping == "tag":
        return (statement.add_columns(ConversationTag.tag_id.label("key"))
                .join(ConversationTag, ConversationTag.conversation_id == Order.conversation_id)
                .join(Tag, Tag.id == ConversationTag.tag_id)
                .where(ConversationTag.removed_at.is_(None), Tag.kind == "need")
                .group_by(ConversationTag.tag_id))
    return statement


def _placed(period, grouping):
    step = db.aliased(OrderStep)
    statement = _live(db.select(func.count(Order.id).label("orders")).select_from(Order)
                      .join(step, and_(step.order_id == Order.id, step.status == "awaiting_payment"))
                      .where(step.at >= period.start, step.at < period.end))
    return _by(statement, grouping)


def _ended(period, grouping):
    step = db.aliased(OrderStep)
    statement = _live(db.select(func.sum(case((step.status == "returned", 1), else_=0)).label("returned"),
                                func.sum(case((step.status == "cancelled", 1), else_=0)).label("cancelled"))
                      .select_from(Order)
                      .join(step, and_(step.order_id == Order.id, step.status.in_(ENDINGS)))
                      .where(step.at >= period.start, step.at < period.end, Order.status == step.status))
    return _by(statement, grouping)


def _paid(period, grouping):
    step = db.aliased(OrderStep)
    earlier_order = db.aliased(Order)
    earlier_step = db.aliased(OrderStep)
    # Driven by the customer's other orders (few), each one's paid step looked up by its key: joined instead,
    # SQLite walked every paid step before this one for each paid order of the period.
    paid_at = (db.select(earlier_step.at).where(earlier_step.order_id == earlier_order.id,
                                                earlier_step.status == "paid")
               .correlate(earlier_order).scalar_subquery())
    had_paid_before = (db.select(earlier_order.id)
                       .where(earlier_order.customer_id == Order.customer_id, earlier_order.id != Order.id,
                              earlier_order.status.notin_(ENDINGS), paid_at < step.at)
                       .correlate(Order, step).exists())
    method = func.coalesce(Order.payment_method, "")
    total = func.coalesce(Order.total, 0)
    statement = _live(db.select(
        func.count(Order.id).label("paid"), func.coalesce(func.sum(total), 0).label("revenue"),
        func.count(Order.total).label("priced"),
        func.sum(case((method == "cod", 1), else_=0)).label("cod"),
        func.sum(case((method == "cod", total), else_=0)).label("cod_revenue"),
        func.sum(case((method == "bank_transfer", 1), else_=0)).label("transfer"),
        func.sum(case((method == "bank_transfer", total), else_=0)).label("transfer_revenue"),
        func.count(func.distinct(Order.customer_id)).label("paying_customers"),
        func.count(func.distinct(case((had_paid_before, Order.customer_id)))).label("repeat_customers"),
    ).select_from(Order)
        .join(step, and_(step.order_id == Order.id, step.status == "paid"))
        .where(step.at >= period.start, step.at < period.end, Order.status.notin_(ENDINGS)))
    return _by(statement, grouping)


def _figures(period, grouping: str | None) -> dict:
    """key -> the counts of that group (None: one group, the whole shop, under the key "")."""
    found: dict = {}
    for query in (_placed, _paid, _ended):
        for row in db.session.execute(query(period, grouping)).mappings():
            values = dict(row)
            key = values.pop("key", "") if grouping else ""
            found.setdefault(key, {}).update({name: int(value or 0) for name, value in values.items()})
    return found


def order_report(period) -> OrderReport:
    total = _figures(period, None).get("", {})
    by_channel = _figures(period, "channel")
    by_staff = _figures(period, "staff")
    by_tag = _figures(period, "tag")
    channels = [OrderFigures(channel, CHANNEL_LABELS[channel], **by_channel[channel]) for channel in CHANNELS
                if channel in by_channel]
    users = {u.id: u for u in db.session.execute(db.select(User).where(User.id.in_(
        [k for k in by_staff if k is not None]))).scalars()}
    staff = sorted(
        (OrderFigures("" if user_id is None else str(user_id),
                      users[user_id].name if user_id in users else _l("Not recorded (imported)"), **values)
         for user_id, values in by_staff.items()),
        key=lambda row: (row.key == "", str(row.label).casefold()))
    tags = {t.id: t for t in db.session.execute(db.select(Tag).where(Tag.id.in_(list(by_tag)))).scalars()}
    tag_rows = sorted((OrderFigures(tags[tag_id].name, TagTitle(tags[tag_id]), **values)
                       for tag_id, values in by_tag.items()), key=lambda row: (-row.orders, -row.paid))
    return OrderReport(channels, OrderFigures("", _l("All channels"), **total), tag_rows, staff)


ORDER_COLUMNS = ("name", "orders", "paid_orders", "paid_revenue_idr", "average_order_value_idr", "cod_orders",
                 "cod_revenue_idr", "transfer_orders", "transfer_revenue_idr", "returned", "cancelled",
                 "paying_customers", "repeat_customers")


def order_values(row: OrderFigures) -> list:
    average = row.average_order_value
    return [str(row.label), row.orders, row.paid, row.revenue, None if average is None else round(average), row.cod,
            row.cod_revenue, row.transfer, row.transfer_revenue, row.returned, row.cancelled, row.paying_customers,
            row.repeat_customers]


def order_tables(report: OrderReport) -> dict:
    return {
        "order_channels": (ORDER_COLUMNS, lambda: (order_values(r) for r in [*report.channels, report.total])),
        "order_tags": (ORDER_COLUMNS, lambda: (order_values(r) for r in report.tags)),
        "order_staff": (ORDER_COLUMNS, lambda: (order_values(r) for r in report.staff)),
    }
