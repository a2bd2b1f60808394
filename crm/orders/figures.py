"""The report's order figures for a period (crm.reports.figures.Period), per channel, per need tag and per staff
member: three statements (orders placed, paid, ended), each reading the period's orders once and summing them per
group, so a year of orders is summed by the database.

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
from sqlalchemy import Integer, String, and_, case, cast, func, literal, null, union_all

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


def _orders(*columns):
    """A select of the orders of live customers with what the groupings read, and `columns`."""
    return _live(db.select(Order.customer_id, Order.channel, Order.created_by_id, Order.conversation_id, *columns)
                 .select_from(Order))


GROUPINGS = ("total", "channel", "staff", "tag")
KEY_COLUMNS = (("channel", String), ("staff", Integer), ("tag", Integer))


def _grouped(orders, measures):
    """`measures` of `orders` (from _orders) for the whole shop, per channel, per staff member and per need tag in
    one statement: the orders are read once (a materialized CTE) and summed four ways, each row saying which."""
    rows = orders.cte("period_orders").prefix_with("MATERIALIZED")
    # The tag rows read the orders again, joined to their chat's tags: from the CTE, SQLite walked every tag.
    tagged = (orders.add_columns(ConversationTag.tag_id.label("tag_id"))
              .join(ConversationTag, ConversationTag.conversation_id == Order.conversation_id)
              .join(Tag, Tag.id == ConversationTag.tag_id)
              .where(ConversationTag.removed_at.is_(None), Tag.kind == "need").subquery())

    def keys(grouping, **key):
        # Typed NULLs: PostgreSQL takes a column that two branches leave NULL as text, then refuses an integer key.
        return (literal(grouping).label("grouping"),
                *(cast(key.get(name, null()), kind).label(name) for name, kind in KEY_COLUMNS))

    return union_all(
        db.select(*keys("total"), *measures(rows.c)).select_from(rows),
        db.select(*keys("channel", channel=rows.c.channel), *measures(rows.c)).group_by(rows.c.channel),
        db.select(*keys("staff", staff=rows.c.created_by_id), *measures(rows.c)).group_by(rows.c.created_by_id),
        db.select(*keys("tag", tag=tagged.c.tag_id), *measures(tagged.c)).group_by(tagged.c.tag_id),
    )


def _placed(period):
    step = db.aliased(OrderStep)
    orders = (_orders().join(step, and_(step.order_id == Order.id, step.status == "awaiting_payment"))
              .where(step.at >= period.start, step.at < period.end))
    return _grouped(orders, lambda rows: [func.count().label("orders")])


def _ended(period):
    step = db.aliased(OrderStep)
    orders = (_orders(step.status.label("ending"))
              .join(step, and_(step.order_id == Order.id, step.status.in_(ENDINGS)))
              .where(step.at >= period.start, step.at < period.end, Order.status == step.status))
    return _grouped(orders, lambda rows: [func.sum(case((rows.ending == "returned", 1), else_=0)).label("returned"),
                                          func.sum(case((rows.ending == "cancelled", 1), else_=0)).label("cancelled")])


def _paid(period):
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
    orders = (_orders(func.coalesce(Order.payment_method, "").label("method"), Order.total,
                      case((had_paid_before, 1), else_=0).label("repeat"))
              .join(step, and_(step.order_id == Order.id, step.status == "paid"))
              .where(step.at >= period.start, step.at < period.end, Order.status.notin_(ENDINGS)))

    def measures(rows):
        total = func.coalesce(rows.total, 0)
        return [
            func.count().label("paid"), func.coalesce(func.sum(total), 0).label("revenue"),
            func.count(rows.total).label("priced"),
            func.sum(case((rows.method == "cod", 1), else_=0)).label("cod"),
            func.sum(case((rows.method == "cod", total), else_=0)).label("cod_revenue"),
            func.sum(case((rows.method == "bank_transfer", 1), else_=0)).label("transfer"),
            func.sum(case((rows.method == "bank_transfer", total), else_=0)).label("transfer_revenue"),
            func.count(func.distinct(rows.customer_id)).label("paying_customers"),
            func.count(func.distinct(case((rows.repeat == 1, rows.customer_id)))).label("repeat_customers"),
        ]
    return _grouped(orders, measures)


def _figures(period) -> dict[str, dict]:
    """grouping ("total", "channel", "staff", "tag") -> key -> the counts of that group (the total's key: "")."""
    found: dict[str, dict] = {grouping: {} for grouping in GROUPINGS}
    for query in (_placed, _paid, _ended):
        for row in db.session.execute(query(period)).mappings():
            values = dict(row)
            grouping = values.pop("grouping")
            key = {name: values.pop(name) for name, _ in KEY_COLUMNS}.get(grouping, "")
            found[grouping].setdefault(key, {}).update({name: int(value or 0) for name, value in values.items()})
    return found


def order_report(period) -> OrderReport:
    found = _figures(period)
    total, by_channel, by_staff, by_tag = (found[grouping] for grouping in GROUPINGS)
    total = total.get("", {})
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
