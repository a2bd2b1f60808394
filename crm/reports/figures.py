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
  counted apart as "unanswered", not as zero and not in the average or median. The median is read from the
  steps of WAIT_STEPS (crm.models): the upper bound of the step the middle wait falls in (the mean of the two
  middle ones for an even count), so it is exact on a step and at most one step high otherwise.
- New customers: customers whose first conversation (ever) starts in the period, by that conversation's channel.
- Prospects created: those new customers whose stage is anything but "no stage", or who have a sale.
- A sale is a paid order (crm.orders): one with a paid step, not returned or cancelled, counted on the shop day
  it was paid (crm.orders.services.sales_between). Won customers and revenue: customers with a sale in the period
  and the sum of those orders' totals (an order of unknown amount counts as won with no revenue), by the
  order's channel. `won_customers` is the one count, Today's "won this month" too.
- Conversion: of a row's new customers, the share the same row counts as won (a channel: a sale on it; a
  staff member: a sale they recorded; a tag: any sale of theirs), so no row shows a conversion without a won.
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

Conversations, customer messages and first responses are read from daily rows kept in step with the
conversations (crm.reports.daily): a 90-day report adds up a few thousand rows, whatever the number of messages.
New customers come from the customers' kept first contact (crm.kept), sales from the sales of the period.
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
from ..models import (
    WAIT_COLUMNS,
    WAIT_STEPS,
    ChannelCost,
    Conversation,
    ConversationFigures,
    Customer,
    DailyFigures,
    DailyTagFigures,
    Order,
    Tag,
    User,
    utcnow,
)
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

    @classmethod
    def of_steps(cls, answered: int, unanswered: int, wait_seconds: int, steps: list[int]) -> ResponseTimes:
        """From the daily sums: the average exact, the median read from the steps of WAIT_STEPS (the step
        the middle wait falls in, by its upper bound; of the two middle ones for an even count). Of one or
        two waits the median is their average, exact."""
        if not answered:
            return cls(unanswered=unanswered)
        average = timedelta(seconds=wait_seconds / answered)
        if answered <= 2:
            return cls(answered, unanswered, average, average)

        def bound(position: int) -> float:
            seen = 0
            for index, count in enumerate(steps):
                seen += count
                if position < seen:
                    return WAIT_STEPS[min(index, len(WAIT_STEPS) - 1)]
            return WAIT_STEPS[-1]

        median = (bound((answered - 1) // 2) + bound(answered // 2)) / 2
        return cls(answered, unanswered, average, timedelta(minutes=median))


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
# Conversations, messages and first responses come from the daily rows (crm.reports.daily), a few hundred rows
# for any period whatever the number of messages; new customers, prospects and sales from the customers and
# sales of the period, through their indexes.

@dataclass
class _Sums:
    conversations: int = 0
    customer_messages: int = 0
    answered: int = 0
    unanswered: int = 0
    wait_seconds: int = 0
    steps: list[int] = field(default_factory=lambda: [0] * len(WAIT_COLUMNS))

    def add(self, other: _Sums) -> None:
        self.conversations += other.conversations
        self.customer_messages += other.customer_messages
        self.answered += other.answered
        self.unanswered += other.unanswered
        self.wait_seconds += other.wait_seconds
        self.steps = [a + b for a, b in zip(self.steps, other.steps, strict=True)]

    @property
    def responses(self) -> ResponseTimes:
        return ResponseTimes.of_steps(self.answered, self.unanswered, self.wait_seconds, self.steps)


def _sums(row) -> _Sums:
    # int(): PostgreSQL's SUM of integers is numeric, which the driver hands over as Decimal.
    return _Sums(int(row.conversations or 0), int(row.customer_messages or 0), int(row.answered or 0),
                 int(row.unanswered or 0), int(row.wait_seconds or 0), [int(row[name] or 0) for name in WAIT_COLUMNS])


def _measures(table) -> list:
    return [func.sum(table.c[name]).label(name) for name in
            ("conversations", "customer_messages", "answered", "unanswered", "wait_seconds", *WAIT_COLUMNS)]


def _daily(period: Period) -> dict[tuple[str, int], _Sums]:
    """The period's sums per channel and staff member (0: not recorded)."""
    table = DailyFigures.__table__
    rows = db.session.execute(
        db.select(table.c.channel, table.c.staff_id, *_measures(table))
        .where(table.c.day >= period.first_day, table.c.day <= period.last_day)
        .group_by(table.c.channel, table.c.staff_id)
    )
    # A day's row that everything was taken back out of (a conversation trashed) adds nothing: no row.
    return {(row.channel, row.staff_id): _sums(row._mapping) for row in rows if _counts(row)}


def _daily_tags(period: Period) -> dict[int, _Sums]:
    table = DailyTagFigures.__table__
    rows = db.session.execute(
        db.select(table.c.tag_id, *_measures(table))
        .join(Tag, Tag.id == table.c.tag_id)
        .where(table.c.day >= period.first_day, table.c.day <= period.last_day, Tag.kind == "need")
        .group_by(table.c.tag_id)
    )
    return {row.tag_id: _sums(row._mapping) for row in rows if _counts(row)}


def _counts(row) -> bool:
    return bool(row.conversations or row.customer_messages or row.answered or row.unanswered)


@dataclass(frozen=True)
class _NewCustomer:
    customer_id: int
    channel: str  # of their first conversation
    staff_id: int  # who logged it; 0: not recorded
    is_prospect: bool


@dataclass(frozen=True)
class _Sale:
    customer_id: int
    amount: int  # 0 when not known
    channel: str
    staff_id: int  # who recorded it


def _new_customers(period: Period) -> list[_NewCustomer]:
    has_sale = exists().where(Order.customer_id == Customer.id, is_paid())
    rows = db.session.execute(
        db.select(Customer.id, Conversation.channel, Conversation.logged_by_id, Customer.stage,
                  has_sale.label("has_sale"))
        .join(Conversation, Conversation.id == Customer.first_conversation_id)
        .where(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None),
               Customer.first_contact_at >= period.start, Customer.first_contact_at < period.end)
    ).all()
    return [_NewCustomer(r.id, r.channel, r.logged_by_id or 0, r.stage != "none" or bool(r.has_sale)) for r in rows]


def _sales(period: Period) -> list[_Sale]:
    """Paid orders (crm.orders.sales_between), on the moment they were paid."""
    rows = db.session.execute(sales_between(
        period.first_day, period.last_day, Order.customer_id, Order.total, Order.channel, Order.created_by_id)).all()
    return [_Sale(customer_id, total or 0, channel, by or 0) for customer_id, total, channel, by in rows]


def won_customers(first_day: date, last_day: date, conditions=()) -> tuple[int, int]:
    """Customers with a sale (a paid order) between these days (both included) and the sum of those sales
    (amounts not known count as a sale, adding nothing): the one count of "won" that Today and this report
    show. `conditions` narrow the customers (Today's filters)."""
    sales = sales_between(first_day, last_day, func.count(func.distinct(Order.customer_id)),
                          func.coalesce(func.sum(Order.total), 0))
    if conditions:
        sales = sales.join(Customer, Customer.id == Order.customer_id).where(*conditions)
    won, revenue = db.session.execute(sales).one()
    return won, int(revenue)  # PostgreSQL's SUM is numeric (Decimal)


def _customer_tags(period: Period, customer_ids: Iterable[int]) -> dict[int, set[int]]:
    """The need tags of each customer's conversations started in the period."""
    ids = sorted(set(customer_ids))
    found: dict[int, set[int]] = defaultdict(set)
    need = set(db.session.execute(db.select(Tag.id).where(Tag.kind == "need")).scalars())
    for start in range(0, len(ids), TAG_BATCH):
        for customer_id, tag_ids in db.session.execute(
            db.select(Conversation.customer_id, ConversationFigures.tag_ids)
            .join(ConversationFigures, ConversationFigures.conversation_id == Conversation.id)
            # last_message_at: a chat started in the period was last active in it too, and the index on
            # (customer_id, last_message_at) then skips a buyer's older chats without reading them.
            .where(Conversation.customer_id.in_(ids[start : start + TAG_BATCH]),
                   Conversation.last_message_at >= period.start, ConversationFigures.started == 1,
                   ConversationFigures.day >= period.first_day, ConversationFigures.day <= period.last_day,
                   ConversationFigures.tag_ids != "")
        ):
            found[customer_id].update(int(tag) for tag in tag_ids.split() if int(tag) in need)
    return found


# Adding up ---------------------------------------------------------------------------------------------------

@dataclass
class _Tally:
    sums: _Sums = field(default_factory=_Sums)
    new_customers: set[int] = field(default_factory=set)
    prospects: set[int] = field(default_factory=set)
    won: set[int] = field(default_factory=set)
    revenue: int = 0

    def row(self, key: str, label: str | LazyString) -> ReportRow:
        # Converted: new customers of this row whom this row counts as won, so the two never disagree.
        return ReportRow(key, label, len(self.new_customers), self.sums.conversations, self.sums.customer_messages,
                         self.sums.responses, len(self.prospects), len(self.won), self.revenue,
                         len(self.new_customers & self.won))


def _tally(tallies: dict, new_customers: list[_NewCustomer], sales: list[_Sale], key_of_new, key_of_sale) -> dict:
    for new in new_customers:
        for key in key_of_new(new):
            tallies[key].new_customers.add(new.customer_id)
            if new.is_prospect:
                tallies[key].prospects.add(new.customer_id)
    for sale in sales:
        for key in key_of_sale(sale):
            tallies[key].won.add(sale.customer_id)
            tallies[key].revenue += sale.amount
    return tallies


def _weekly(period: Period) -> WeeklyConversations:
    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    first = monday(period.first_day)
    weeks = [first + timedelta(weeks=n) for n in range((monday(period.last_day) - first).days // 7 + 1)]
    counts: dict[str, list[int]] = {}
    table = DailyFigures.__table__
    for day, channel, started in db.session.execute(
        db.select(table.c.day, table.c.channel, func.sum(table.c.conversations))
        .where(table.c.day >= period.first_day, table.c.day <= period.last_day)
        .group_by(table.c.day, table.c.channel)
    ):
        if started:
            counts.setdefault(channel, [0] * len(weeks))[(monday(day) - first).days // 7] += int(started)
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
    daily, daily_tags = _daily(period), _daily_tags(period)
    new_customers, sales = _new_customers(period), _sales(period)
    customer_tags = _customer_tags(period, [n.customer_id for n in new_customers] + [s.customer_id for s in sales])

    total, by_channel, by_staff, by_tag = (defaultdict(_Tally) for _ in range(4))
    for (channel, staff_id), sums in daily.items():
        total[""].sums.add(sums)
        by_channel[channel].sums.add(sums)
        by_staff[staff_id].sums.add(sums)
    for tag_id, sums in daily_tags.items():
        by_tag[tag_id].sums.add(sums)
    _tally(total, new_customers, sales, lambda n: ("",), lambda s: ("",))
    _tally(by_channel, new_customers, sales, lambda n: (n.channel,), lambda s: (s.channel,))
    _tally(by_staff, new_customers, sales, lambda n: (n.staff_id,), lambda s: (s.staff_id,))
    _tally(by_tag, new_customers, sales, lambda n: customer_tags.get(n.customer_id, ()),
           lambda s: customer_tags.get(s.customer_id, ()))
    costs = period_costs(period)

    channels = [by_channel[channel].row(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS
                if channel in by_channel or channel in costs]
    users = {u.id: u for u in db.session.execute(db.select(User)).scalars()}
    staff = sorted(
        (tally.row(str(user_id) if user_id in users else "",
                   users[user_id].name if user_id in users else _l("Not recorded (imported)"))
         for user_id, tally in by_staff.items()),
        key=lambda row: (row.key == "", str(row.label).casefold() if row.key else ""),
    )
    tags = {t.id: t for t in db.session.execute(db.select(Tag).where(Tag.id.in_(list(by_tag)))).scalars()}
    tag_rows = [tally.row(tags[tag_id].name, TagTitle(tags[tag_id])) for tag_id, tally in sorted(
        ((tag_id, tally) for tag_id, tally in by_tag.items() if tag_id in tags),
        key=lambda item: (-item[1].sums.conversations, tags[item[0]].title.casefold()))]
    cost_rows = [CostRow(row.key, row.label, costs[row.key], row.won, row.revenue)
                 for row in channels if row.key in costs]
    cost_total = CostRow("", _l("All channels with a cost"), sum(r.cost for r in cost_rows),
                         sum(r.won for r in cost_rows), sum(r.revenue for r in cost_rows)) if cost_rows else None
    return ChannelReport(
        period=period, channels=channels, total=total[""].row("", _l("All channels")), tags=tag_rows, staff=staff,
        weekly=_weekly(period), costs=cost_rows, cost_total=cost_total,
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
