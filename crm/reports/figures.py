"""The channel report (issue #7): per channel, per need tag and per staff member, for a period of the shop's days.

How the figures are counted (the page says the same in "How these are counted"):

- A period is a run of whole days in the shop's zone (SHOP_TIMEZONE): "this month" is local midnight of the
  1st up to now; "last 30 days" is today and the 29 days before; a custom range is its first day's midnight up
  to the midnight after its last day. Times are compared in UTC against those instants.
- Conversations: conversations whose first message is in the period, by their channel.
- Customer messages: the customers' messages sent in the period, by their conversation's channel.
- First response (clock hours, nights and weekends included): each unbroken run of customer messages in a
  conversation is one question; its first response time runs from the run's first message to our next message
  in the same conversation. A run counts in the period its first message is in. Runs we never answered are
  counted apart as "unanswered", not as zero and not in the average or median.
- New customers: customers whose first conversation (ever) starts in the period, by that conversation's channel.
- Prospects created: those new customers whose stage is anything but "no stage", or who have a sale.
- A sale is a paid order (crm.orders): one with a paid step, not returned or cancelled, counted at the moment
  it was paid. Won customers and revenue: customers with a sale in the period and the sum of those orders'
  totals (an order of unknown amount counts as won with no revenue), by the order's channel.
- Conversion: of the new customers on a channel, the share with a sale in the period (on any channel).
- Revenue per conversation: the channel's revenue divided by its conversations.
- Per need tag: the conversations of the period carrying the tag (a tag removed by hand does not count), the
  messages and responses in conversations carrying it, and, for the customers of those conversations, their
  new-customer, won and revenue figures (revenue on any channel). A conversation with two tags counts for both,
  so tag rows do not add up to the total.
- Per staff member: conversations they logged, and the messages and first responses in those conversations
  (a message does not record which of us typed it, so a conversation's replies count for whoever logged it);
  new customers whose first conversation they logged; won customers and revenue of the sales they recorded.
- Cost (entered by the owner per channel and month: ads, boosts, staff hours times an hourly cost) is spread
  evenly over the month's days, so a period gets the share of the days it covers. Cost per won customer is that
  cost divided by the channel's won customers; return on spend is revenue divided by cost (2.5x: Rp 2.5 of
  sales for every Rp 1 spent; not profit, the cost of the goods is not in it).
- Deleted customers, conversations and messages, and customers merged into another, are left out.
"""
from __future__ import annotations

import calendar
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import exists, func

from ..extensions import db
from ..formatting import CHANNEL_LABELS, shop_zone
from ..identities import CHANNELS
from ..models import ChannelCost, Conversation, ConversationTag, Customer, Message, Order, Tag, User, utcnow
from ..needs.tagging import TagTitle
from ..orders.services import is_paid, sales_between

PERIODS = ("this_month", "last_month", "last_30", "last_90", "custom")
LONGEST_CUSTOM_DAYS = 3 * 366
TAG_BATCH = 500


# Periods -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    key: str
    start: datetime  # aware, inclusive: local midnight of first_day
    end: datetime  # aware, exclusive: now, or local midnight after last_day
    first_day: date  # the shop's days, both inclusive
    last_day: date

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def period_for(key: str, *, now: datetime | None = None, first: date | None = None, last: date | None = None,
               zone: ZoneInfo | None = None) -> Period:
    """The period's instants in UTC, its boundaries being midnights in the shop's zone."""
    zone = zone or shop_zone()
    now = now or utcnow()
    today = now.astimezone(zone).date()
    end = now
    if key == "this_month":
        first, last = today.replace(day=1), today
    elif key == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        first = last.replace(day=1)
        end = local_midnight(last + timedelta(days=1), zone)
    elif key in ("last_30", "last_90"):
        first, last = today - timedelta(days=int(key[5:]) - 1), today
    elif key == "custom":
        if first is None or last is None:
            raise ValueError("a custom period needs its first and last day")
        first, last = min(first, last), max(first, last)
        end = local_midnight(last + timedelta(days=1), zone)
    else:
        raise ValueError(f"unknown period {key!r}")
    return Period(key, local_midnight(first, zone), end, first, last)


# First responses ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FirstResponse:
    asked_at: datetime  # the first customer message of a run
    answered_at: datetime | None  # our next message in the conversation, if any

    @property
    def waited(self) -> timedelta | None:
        return None if self.answered_at is None else self.answered_at - self.asked_at


def first_responses(messages: Iterable[tuple[datetime, str]]) -> list[FirstResponse]:
    """One conversation's messages, (sent_at, side) in the order sent: one FirstResponse per run of customer
    messages, answered by our first message after the run's first one (None if we never wrote after it)."""
    responses = []
    asked_at = None
    for sent_at, side in messages:
        if side == "customer":
            asked_at = asked_at or sent_at
        elif asked_at is not None:
            responses.append(FirstResponse(asked_at, sent_at))
            asked_at = None
    if asked_at is not None:
        responses.append(FirstResponse(asked_at, None))
    return responses


@dataclass(frozen=True)
class ResponseTimes:
    answered: int = 0
    unanswered: int = 0
    average: timedelta | None = None
    median: timedelta | None = None

    @classmethod
    def of(cls, responses: Iterable[FirstResponse]) -> ResponseTimes:
        waits = []
        unanswered = 0
        for response in responses:
            if response.waited is None:
                unanswered += 1
            else:
                waits.append(response.waited.total_seconds())
        if not waits:
            return cls(unanswered=unanswered)
        return cls(len(waits), unanswered, timedelta(seconds=statistics.fmean(waits)),
                   timedelta(seconds=statistics.median(waits)))


# What the report shows ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRow:
    key: str  # the channel, the tag's name, the user's id; "" for the total
    label: str | LazyString | TagTitle  # lazy where it depends on the reader's language (user text: TagTitle)
    new_customers: int = 0
    conversations: int = 0
    customer_messages: int = 0
    responses: ResponseTimes = ResponseTimes()
    prospects: int = 0
    won: int = 0
    revenue: int = 0
    converted: int = 0  # new customers with a sale in the period

    @property
    def conversion(self) -> float | None:
        return self.converted / self.new_customers if self.new_customers else None

    @property
    def revenue_per_conversation(self) -> float | None:
        return self.revenue / self.conversations if self.conversations else None


@dataclass(frozen=True)
class CostRow:
    key: str
    label: str | LazyString
    cost: int
    won: int
    revenue: int

    @property
    def cost_per_won(self) -> float | None:
        return self.cost / self.won if self.won else None

    @property
    def return_on_spend(self) -> float | None:
        return self.revenue / self.cost if self.cost else None


@dataclass(frozen=True)
class WeeklyConversations:
    weeks: list[date]  # Mondays, in the shop's zone
    by_channel: dict[str, list[int]]  # conversations started each week, for channels with any


@dataclass(frozen=True)
class ChannelReport:
    period: Period
    channels: list[ReportRow]
    total: ReportRow
    tags: list[ReportRow]
    staff: list[ReportRow]
    weekly: WeeklyConversations
    costs: list[CostRow]
    cost_total: CostRow | None


# Facts read from the database --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Conversation:
    id: int
    customer_id: int
    channel: str
    logged_by_id: int | None


@dataclass(frozen=True)
class _NewCustomer:
    customer_id: int
    conversation: _Conversation  # their first
    is_prospect: bool


@dataclass(frozen=True)
class _Sale:
    customer_id: int
    amount: int
    channel: str
    created_by_id: int | None


@dataclass
class _Facts:
    started: list[_Conversation]
    started_at: dict[int, datetime]
    asked: list[tuple[_Conversation, int]]  # conversations with customer messages in the period, and how many
    responses: list[tuple[_Conversation, FirstResponse]]
    new_customers: list[_NewCustomer]
    sales: list[_Sale]
    tags: dict[int, list[int]]  # conversation id -> need tag ids


def _live():
    return (Conversation.deleted_at.is_(None), Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))


def _live_conversations():
    return db.select(Conversation.id, Conversation.customer_id, Conversation.channel, Conversation.logged_by_id) \
        .join(Customer, Customer.id == Conversation.customer_id).where(*_live())


def _conversation(row) -> _Conversation:
    return _Conversation(row.id, row.customer_id, row.channel, row.logged_by_id)


def _started(period: Period) -> tuple[list[_Conversation], dict[int, datetime]]:
    rows = db.session.execute(
        _live_conversations().add_columns(Conversation.first_message_at)
        .where(Conversation.first_message_at >= period.start, Conversation.first_message_at < period.end)
        .order_by(Conversation.first_message_at, Conversation.id)
    ).all()
    return [_conversation(r) for r in rows], {r.id: r.first_message_at for r in rows}


def _customer_messages_in(period: Period):
    return (Message.side == "customer", Message.deleted_at.is_(None),
            Message.sent_at >= period.start, Message.sent_at < period.end)


def _asked(period: Period) -> list[tuple[_Conversation, int]]:
    rows = db.session.execute(
        _live_conversations().add_columns(func.count(Message.id).label("messages"))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(*_customer_messages_in(period))
        .group_by(Conversation.id)
    ).all()
    return [(_conversation(r), r.messages) for r in rows]


def _responses(period: Period, asked: list[tuple[_Conversation, int]]) -> list[tuple[_Conversation, FirstResponse]]:
    """Runs starting in the period. Only what decides them is read: the period's messages, the last message
    before it (a run already going at the start is not a new one) and our first reply after it."""
    asking = (
        db.select(Message.conversation_id).join(Conversation, Conversation.id == Message.conversation_id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(*_customer_messages_in(period), *_live()).distinct()
    )
    live_message = (Message.conversation_id.in_(asking), Message.deleted_at.is_(None))
    timeline: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    before = (
        db.select(Message.conversation_id, Message.sent_at, Message.side, func.row_number().over(
            partition_by=Message.conversation_id, order_by=(Message.sent_at.desc(), Message.id.desc())).label("rank"))
        .where(*live_message, Message.sent_at < period.start)
        .subquery()
    )
    for conversation_id, sent_at, side in db.session.execute(
        db.select(before.c.conversation_id, before.c.sent_at, before.c.side).where(before.c.rank == 1)
    ):
        timeline[conversation_id].append((sent_at, side))
    for conversation_id, sent_at, side in db.session.execute(
        db.select(Message.conversation_id, Message.sent_at, Message.side)
        .where(*live_message, Message.sent_at >= period.start, Message.sent_at < period.end)
        .order_by(Message.conversation_id, Message.sent_at, Message.id)
    ):
        timeline[conversation_id].append((sent_at, side))
    for conversation_id, sent_at in db.session.execute(
        db.select(Message.conversation_id, func.min(Message.sent_at))
        .where(*live_message, Message.side == "staff", Message.sent_at >= period.end)
        .group_by(Message.conversation_id)
    ):
        timeline[conversation_id].append((sent_at, "staff"))
    conversations = {c.id: c for c, _count in asked}
    return [
        (conversations[conversation_id], response)
        for conversation_id, messages in timeline.items() if conversation_id in conversations
        for response in first_responses(messages) if response.asked_at in period
    ]


def _new_customers(period: Period) -> list[_NewCustomer]:
    ranked = (
        _live_conversations().add_columns(Conversation.first_message_at, func.row_number().over(
            partition_by=Conversation.customer_id, order_by=(Conversation.first_message_at, Conversation.id)
        ).label("rank"))
        .where(Conversation.first_message_at.is_not(None))
        .subquery()
    )
    has_sale = exists().where(Order.customer_id == Customer.id, is_paid())
    rows = db.session.execute(
        db.select(ranked, Customer.stage, has_sale.label("has_sale"))
        .join(Customer, Customer.id == ranked.c.customer_id)
        .where(ranked.c.rank == 1, ranked.c.first_message_at >= period.start, ranked.c.first_message_at < period.end)
    ).all()
    return [_NewCustomer(r.customer_id, _conversation(r), r.stage != "none" or bool(r.has_sale)) for r in rows]


def _sales(period: Period) -> list[_Sale]:
    """Paid orders (crm.orders.sales_between), on the moment they were paid."""
    rows = db.session.execute(sales_between(
        period.first_day, period.last_day, Order.customer_id, func.coalesce(Order.total, 0), Order.channel,
        Order.created_by_id)).all()
    return [_Sale(*row) for row in rows]


def _need_tags(conversation_ids: Iterable[int]) -> dict[int, list[int]]:
    ids = sorted(set(conversation_ids))
    tags: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(ids), TAG_BATCH):
        for conversation_id, tag_id in db.session.execute(
            db.select(ConversationTag.conversation_id, ConversationTag.tag_id)
            .join(Tag, Tag.id == ConversationTag.tag_id)
            .where(ConversationTag.conversation_id.in_(ids[start : start + TAG_BATCH]),
                   ConversationTag.removed_at.is_(None), Tag.kind == "need")
        ):
            tags[conversation_id].append(tag_id)
    return tags


def _facts(period: Period) -> _Facts:
    started, started_at = _started(period)
    asked = _asked(period)
    return _Facts(
        started=started, started_at=started_at, asked=asked, responses=_responses(period, asked),
        new_customers=_new_customers(period), sales=_sales(period),
        tags=_need_tags([c.id for c in started] + [c.id for c, _count in asked]),
    )


# Adding up ---------------------------------------------------------------------------------------------------

@dataclass
class _Tally:
    new_customers: set[int] = field(default_factory=set)
    conversations: int = 0
    customer_messages: int = 0
    responses: list[FirstResponse] = field(default_factory=list)
    prospects: set[int] = field(default_factory=set)
    won: set[int] = field(default_factory=set)
    revenue: int = 0
    converted: set[int] = field(default_factory=set)

    def row(self, key: str, label: str | LazyString) -> ReportRow:
        return ReportRow(key, label, len(self.new_customers), self.conversations, self.customer_messages,
                         ResponseTimes.of(self.responses), len(self.prospects), len(self.won), self.revenue,
                         len(self.converted))


Keys = Callable[..., Iterable]


def _tally(facts: _Facts, of_conversation: Keys, of_sale: Keys, of_new_customer: Keys) -> dict:
    """Each fact added to the groups its key function names (none, one or several)."""
    tallies: dict = defaultdict(_Tally)
    for conversation in facts.started:
        for key in of_conversation(conversation):
            tallies[key].conversations += 1
    for conversation, count in facts.asked:
        for key in of_conversation(conversation):
            tallies[key].customer_messages += count
    for conversation, response in facts.responses:
        for key in of_conversation(conversation):
            tallies[key].responses.append(response)
    won_in_period = {sale.customer_id for sale in facts.sales}
    for new in facts.new_customers:
        for key in of_new_customer(new):
            tally = tallies[key]
            tally.new_customers.add(new.customer_id)
            if new.is_prospect:
                tally.prospects.add(new.customer_id)
            if new.customer_id in won_in_period:
                tally.converted.add(new.customer_id)
    for sale in facts.sales:
        for key in of_sale(sale):
            tallies[key].won.add(sale.customer_id)
            tallies[key].revenue += sale.amount
    return tallies


def _weekly(period: Period, facts: _Facts, zone: ZoneInfo) -> WeeklyConversations:
    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    first = monday(period.first_day)
    weeks = [first + timedelta(weeks=n) for n in range((monday(period.last_day) - first).days // 7 + 1)]
    counts: dict[str, list[int]] = {}
    for conversation in facts.started:
        week = (monday(facts.started_at[conversation.id].astimezone(zone).date()) - first).days // 7
        counts.setdefault(conversation.channel, [0] * len(weeks))[week] += 1
    return WeeklyConversations(weeks, {channel: counts[channel] for channel in CHANNELS if channel in counts})


def period_costs(period: Period) -> dict[str, int]:
    """Each channel's cost in the period: every month's cost spread evenly over its days."""
    shares: dict[str, float] = defaultdict(float)
    costs = db.session.execute(
        db.select(ChannelCost).where(ChannelCost.month >= period.first_day.replace(day=1),
                                     ChannelCost.month <= period.last_day)
    ).scalars()
    for cost in costs:
        month_days = calendar.monthrange(cost.month.year, cost.month.month)[1]
        month_last = cost.month.replace(day=month_days)
        covered = (min(month_last, period.last_day) - max(cost.month, period.first_day)).days + 1
        shares[cost.channel] += cost.total * covered / month_days
    return {channel: round(share) for channel, share in shares.items() if round(share)}


def channel_report(period: Period) -> ChannelReport:
    zone = shop_zone()
    facts = _facts(period)
    customer_tags: dict[int, set[int]] = defaultdict(set)
    for conversation in facts.started:
        customer_tags[conversation.customer_id].update(facts.tags.get(conversation.id, ()))

    total = _tally(facts, lambda c: ("",), lambda s: ("",), lambda n: ("",)).get("", _Tally())
    by_channel = _tally(facts, lambda c: (c.channel,), lambda s: (s.channel,), lambda n: (n.conversation.channel,))
    by_staff = _tally(facts, lambda c: (c.logged_by_id,), lambda s: (s.created_by_id,),
                      lambda n: (n.conversation.logged_by_id,))
    by_tag = _tally(facts, lambda c: facts.tags.get(c.id, ()), lambda s: customer_tags.get(s.customer_id, ()),
                    lambda n: customer_tags.get(n.customer_id, ()))
    costs = period_costs(period)

    channels = [by_channel[channel].row(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS
                if channel in by_channel or channel in costs]
    users = {u.id: u for u in db.session.execute(db.select(User)).scalars()}
    staff = sorted(
        (tally.row("" if user_id is None else str(user_id),
                   users[user_id].name if user_id in users else _l("Not recorded (imported)"))
         for user_id, tally in by_staff.items()),
        key=lambda row: (row.key == "", str(row.label).casefold() if row.key else ""),
    )
    tags = {t.id: t for t in db.session.execute(db.select(Tag).where(Tag.id.in_(list(by_tag)))).scalars()}
    tag_rows = [tally.row(tags[tag_id].name, TagTitle(tags[tag_id])) for tag_id, tally in sorted(
        by_tag.items(), key=lambda item: (-item[1].conversations, tags[item[0]].title.casefold()))]
    cost_rows = [CostRow(row.key, row.label, costs[row.key], row.won, row.revenue)
                 for row in channels if row.key in costs]
    cost_total = CostRow("", _l("All channels with a cost"), sum(r.cost for r in cost_rows),
                         sum(r.won for r in cost_rows), sum(r.revenue for r in cost_rows)) if cost_rows else None
    return ChannelReport(
        period=period, channels=channels, total=total.row("", _l("All channels")), tags=tag_rows, staff=staff,
        weekly=_weekly(period, facts, zone), costs=cost_rows, cost_total=cost_total,
    )


# Costs -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CostEntry:
    channel: str
    ads: int = 0
    boosts: int = 0
    staff_hours: float = 0
    hourly_cost: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.ads or self.boosts or self.staff_hours)


def costs_of_month(month: date) -> dict[str, ChannelCost]:
    return {c.channel: c for c in db.session.execute(
        db.select(ChannelCost).where(ChannelCost.month == month.replace(day=1))
    ).scalars()}


def save_month_costs(month: date, entries: Iterable[CostEntry], *, user_id: int | None) -> None:
    """Set the month's cost per channel; a channel left empty has no cost row. Flushes; the caller commits."""
    month = month.replace(day=1)
    existing = costs_of_month(month)
    for entry in entries:
        if entry.channel not in CHANNELS:
            raise ValueError(f"unknown channel {entry.channel!r}")
        cost = existing.get(entry.channel)
        if entry.is_empty:
            if cost is not None:
                db.session.delete(cost)
            continue
        if cost is None:
            cost = ChannelCost(channel=entry.channel, month=month)
            db.session.add(cost)
        cost.ads, cost.boosts = entry.ads, entry.boosts
        cost.staff_hours, cost.hourly_cost = entry.staff_hours, entry.hourly_cost
        cost.updated_by_id = user_id
    db.session.flush()


def months_with_costs() -> list[date]:
    return list(db.session.execute(
        db.select(ChannelCost.month).distinct().order_by(ChannelCost.month.desc())
    ).scalars())


# CSV ---------------------------------------------------------------------------------------------------------

ROW_COLUMNS = ("name", "new_customers", "conversations", "customer_messages", "first_responses_answered",
               "first_responses_unanswered", "first_response_average_hours", "first_response_median_hours",
               "prospects_created", "won_customers", "revenue_idr", "conversion_percent",
               "revenue_per_conversation_idr")
COST_COLUMNS = ("channel", "cost_idr", "won_customers", "revenue_idr", "cost_per_won_customer_idr",
                "return_on_spend")


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def row_values(row: ReportRow) -> list:
    r = row.responses
    return [str(row.label), row.new_customers, row.conversations, row.customer_messages, r.answered, r.unanswered,
            _hours(r.average), _hours(r.median), row.prospects, row.won, row.revenue,
            None if row.conversion is None else round(row.conversion * 100, 1),
            None if row.revenue_per_conversation is None else round(row.revenue_per_conversation)]


def cost_values(row: CostRow) -> list:
    return [str(row.label), row.cost, row.won, row.revenue,
            None if row.cost_per_won is None else round(row.cost_per_won),
            None if row.return_on_spend is None else round(row.return_on_spend, 2)]


def report_tables(report: ChannelReport) -> dict[str, tuple[tuple[str, ...], Callable[[], Iterator[list]]]]:
    """Each table of the page as CSV columns and rows, by the name its download link uses."""
    return {
        "channels": (ROW_COLUMNS, lambda: (row_values(r) for r in [*report.channels, report.total])),
        "tags": (ROW_COLUMNS, lambda: (row_values(r) for r in report.tags)),
        "staff": (ROW_COLUMNS, lambda: (row_values(r) for r in report.staff)),
        "costs": (COST_COLUMNS, lambda: (cost_values(r) for r in
                                         [*report.costs, *([report.cost_total] if report.cost_total else [])])),
    }
