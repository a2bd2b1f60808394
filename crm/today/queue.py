"""Who to follow up today: the queue's sections, "waiting on us", and prospect scores for the rows shown.

Sections of the queue (each a bounded, indexed query; scores are computed only for the rows shown):

- overdue: open follow-ups past due (a date-only one is overdue from the next day, a timed one from its time);
- due today: open follow-ups due later today;
- waiting on us: conversations whose last message is the customer's (conversations.last_side, kept by
  `refresh_conversation_times`), the longest wait first, within QUEUE_WAITING_DAYS;
- hot prospects without a follow-up: a score of HOT_THRESHOLD or more, no open follow-up, not waiting on us.

Deleted customers and conversations, and customers merged away, never appear.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable

from flask import current_app
from sqlalchemy import and_, func, or_
from sqlalchemy.orm import contains_eager, selectinload

from ..extensions import db
from ..formatting import shop_zone
from ..models import Conversation, ConversationTag, Customer, FollowUp, Message, Order, Tag, utcnow
from .scoring import COMPLAINT_POINTS, DECAY, HOT_THRESHOLD, INTENT_POINTS, Score, Signals, prospect_score

SECTIONS = ("overdue", "today", "waiting", "hot")
SECTION_LIMIT = 20
# The hot section scores at most this many recently active customers, newest activity first.
HOT_CANDIDATES = 300
CANDIDATE_BATCH = 400
MAX_BATCH = 3200  # well under SQLite's limit of variables in one statement
SCORED_TAGS = tuple(INTENT_POINTS) + (("complaint",) if COMPLAINT_POINTS else ())
SIGNAL_DAYS = DECAY[-1][0] + 1  # a signal this old is worth nothing, whatever it is


@dataclass(frozen=True)
class ShopDay:
    """Now, and the shop's today, this week and this month, as aware datetimes (and dates)."""

    now: datetime
    start: datetime  # today 00:00 in the shop's zone
    end: datetime  # tomorrow 00:00
    today: date
    week_start: datetime  # Monday 00:00
    month_start: date


def shop_day(now: datetime | None = None) -> ShopDay:
    now = now or utcnow()
    zone = shop_zone()
    today = now.astimezone(zone).date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone)

    return ShopDay(
        now=now, start=midnight(today), end=midnight(today + timedelta(days=1)), today=today,
        week_start=midnight(today - timedelta(days=today.weekday())), month_start=today.replace(day=1),
    )


@dataclass(frozen=True)
class QueueFilters:
    user_id: int | None = None  # "mine": follow-ups assigned to them, customers assigned to them
    channel: str | None = None
    tag_id: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.user_id or self.channel or self.tag_id)


NO_FILTERS = QueueFilters()


def live(column):
    """`column IS NULL` for deleted_at columns, written so that no index on it is used. Almost every row has
    it NULL; without ANALYZE statistics SQLite would still take `deleted_at IS NULL` for a selective index
    lookup and walk the whole table through it instead of the index that narrows the rows down."""
    return func.coalesce(column, column).is_(None)


def _live_customer():
    return and_(live(Customer.deleted_at), Customer.merged_into_id.is_(None))


def _customer_has_channel(channel: str):
    return db.select(Conversation.id).where(
        Conversation.customer_id == Customer.id, Conversation.channel == channel, live(Conversation.deleted_at)
    ).correlate(Customer).exists()


def _is_tag(tag_id: int):
    # "+ 0": never through the index on tag_id, which holds every conversation with the tag; the way in
    # is the conversation (the primary key starts with it), a handful of rows.
    return ConversationTag.tag_id + 0 == tag_id


def _conversation_has_tag(tag_id: int):
    return db.select(ConversationTag.tag_id).where(
        ConversationTag.conversation_id == Conversation.id, _is_tag(tag_id), ConversationTag.removed_at.is_(None),
    ).correlate(Conversation).exists()


def _customer_has_tag(tag_id: int):
    return (
        db.select(ConversationTag.tag_id)
        .join(Conversation, Conversation.id == ConversationTag.conversation_id)
        .where(Conversation.customer_id == Customer.id, live(Conversation.deleted_at),
               _is_tag(tag_id), ConversationTag.removed_at.is_(None))
        .correlate(Customer)
        .exists()
    )


def _customer_filters(filters: QueueFilters) -> list:
    conditions = []
    if filters.channel:
        conditions.append(_customer_has_channel(filters.channel))
    if filters.tag_id:
        conditions.append(_customer_has_tag(filters.tag_id))
    return conditions


# --- follow-ups ----------------------------------------------------------------------------------------


def is_overdue(day: ShopDay):
    """A date-only follow-up is due all day and overdue from tomorrow; a timed one from its time."""
    return and_(FollowUp.due_at < day.now, or_(FollowUp.has_time.is_(True), FollowUp.due_at < day.start))


def overdue_at(due_at: datetime, has_time: bool, day: ShopDay) -> bool:
    """`is_overdue` for a row already read (tests hold the two to the same answers)."""
    return due_at < day.now and (has_time or due_at < day.start)


def _open_follow_ups(filters: QueueFilters):
    statement = (
        db.select(FollowUp)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(FollowUp.done_at.is_(None), _live_customer(), *_customer_filters(filters))
    )
    if filters.user_id:
        statement = statement.where(FollowUp.assigned_to_id == filters.user_id)
    return statement


def overdue_follow_ups(day: ShopDay, filters: QueueFilters = NO_FILTERS):
    return _open_follow_ups(filters).where(is_overdue(day)).order_by(FollowUp.due_at, FollowUp.id)


def follow_ups_due_today(day: ShopDay, filters: QueueFilters = NO_FILTERS):
    return (
        _open_follow_ups(filters)
        .where(FollowUp.due_at >= day.start, FollowUp.due_at < day.end,
               or_(FollowUp.has_time.is_(False), FollowUp.due_at >= day.now))
        .order_by(FollowUp.has_time, FollowUp.due_at, FollowUp.id)
    )


# --- waiting on us -------------------------------------------------------------------------------------


def waiting_window_start(day: ShopDay) -> datetime:
    return day.now - timedelta(days=current_app.config.get("QUEUE_WAITING_DAYS", 14))


def is_waiting_on_us():
    """The one definition: the last message of a live conversation is the customer's."""
    return and_(Conversation.last_side == "customer", live(Conversation.deleted_at))


def waiting_on_us(day: ShopDay, filters: QueueFilters = NO_FILTERS):
    statement = (
        db.select(Conversation)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(is_waiting_on_us(), Conversation.last_message_at >= waiting_window_start(day), _live_customer())
        .order_by(Conversation.last_message_at, Conversation.id)
    )
    if filters.user_id:
        statement = statement.where(Customer.assigned_to_id == filters.user_id)
    if filters.channel:
        statement = statement.where(Conversation.channel == filters.channel)
    if filters.tag_id:
        statement = statement.where(_conversation_has_tag(filters.tag_id))
    return statement


def waiting_since(conversation_ids: Iterable[int]) -> dict[int, datetime]:
    """For each of these conversations that waits on us: its first customer message after our last reply.
    (One whose last message is ours has none; pass live conversations.)"""
    ids = list(conversation_ids)
    if not ids:
        return {}
    staff = db.aliased(Message)
    answered_later = (
        db.select(staff.id)
        .where(staff.conversation_id == Message.conversation_id, staff.side == "staff", staff.deleted_at.is_(None),
               or_(staff.sent_at > Message.sent_at, and_(staff.sent_at == Message.sent_at, staff.id > Message.id)))
        .exists()
    )
    rows = db.session.execute(
        db.select(Message.conversation_id, func.min(Message.sent_at))
        .where(Message.conversation_id.in_(ids), Message.side == "customer", live(Message.deleted_at),
               ~answered_later)
        .group_by(Message.conversation_id)
    ).all()
    return dict(rows)


# --- prospect scores -----------------------------------------------------------------------------------


def hot_window_days() -> int:
    """Beyond this many days of silence nobody can be hot, however much they asked: found from the formula
    (every signal at the same age, the best stage), so the hot query stays right if the formula changes."""
    for max_age, _ in DECAY:
        then = datetime(2000, 1, 31, 12, tzinfo=shop_zone())
        at = then - timedelta(days=max_age + 1)
        best = prospect_score(Signals(
            now=then, stage="negotiating", intent_tags={tag: at for tag in INTENT_POINTS},
            last_customer_message_at=at, waiting_on_us_since=at, overdue_follow_up_since=None,
        ))
        if best.total < HOT_THRESHOLD:
            return max_age + 1
    return DECAY[-1][0] + 1


def prospect_scores(customers: Iterable, day: ShopDay) -> dict[int, Score]:
    """Scores of the given customers (anything with .id and .stage: Customer, or a row of the two), in a
    fixed number of queries for all of them, whatever their number.

    Signals older than the formula's longest decay are worth nothing, so only conversations active since
    then are read: a customer with years of history costs what one with a week of it does. Each query is
    driven by one index on purpose (customer, then conversation ids); the rest is filtered here."""
    customers = list(customers)
    ids = [c.id for c in customers]
    if not ids:
        return {}
    since = day.now - timedelta(days=SIGNAL_DAYS)
    conversations = [row for row in db.session.execute(
        db.select(Conversation.id, Conversation.customer_id, Conversation.last_message_at, Conversation.last_side,
                  Conversation.deleted_at)
        .where(Conversation.customer_id.in_(ids), Conversation.last_message_at >= since)
    ) if row.deleted_at is None]
    customer_of = {row.id: row.customer_id for row in conversations}
    last_message_at = {row.id: row.last_message_at for row in conversations}

    intents: dict[int, dict[str, datetime]] = {}
    scored = dict(db.session.execute(db.select(Tag.id, Tag.name).where(Tag.name.in_(SCORED_TAGS))).all())
    for conversation_id, tag_id, reason_at, tagged_at in _in_batches(customer_of, lambda batch: (
        db.select(ConversationTag.conversation_id, ConversationTag.tag_id, Message.sent_at,
                  ConversationTag.created_at)
        .outerjoin(Message, Message.id == ConversationTag.reason_message_id)
        .where(ConversationTag.conversation_id.in_(batch), ConversationTag.removed_at.is_(None))
    )):
        if tag_id in scored:
            asked_at = reason_at or last_message_at[conversation_id] or tagged_at
            asked, name = intents.setdefault(customer_of[conversation_id], {}), scored[tag_id]
            if name not in asked or asked_at > asked[name]:
                asked[name] = asked_at

    last_customer: dict[int, datetime] = {}
    for conversation_id, at in _in_batches(customer_of, lambda batch: (
        db.select(Message.conversation_id, func.max(Message.sent_at))
        .where(Message.conversation_id.in_(batch), Message.sent_at >= since, Message.side == "customer",
               live(Message.deleted_at))
        .group_by(Message.conversation_id)
    )):
        customer_id = customer_of[conversation_id]
        last_customer[customer_id] = max(at, last_customer.get(customer_id, at))

    first_unanswered = waiting_since(row.id for row in conversations if row.last_side == "customer")
    waiting: dict[int, datetime] = {}
    for conversation_id, at in first_unanswered.items():
        customer_id = customer_of[conversation_id]
        waiting[customer_id] = min(at, waiting.get(customer_id, at))

    overdue: dict[int, datetime] = {}
    follow_ups = db.session.execute(
        db.select(FollowUp.customer_id, FollowUp.due_at, FollowUp.has_time, FollowUp.done_at)
        .where(FollowUp.customer_id.in_(ids))
    )
    for customer_id, due_at, has_time, done_at in follow_ups:
        if done_at is None and overdue_at(due_at, has_time, day):
            overdue[customer_id] = min(due_at, overdue.get(customer_id, due_at))

    return {
        c.id: prospect_score(Signals(
            now=day.now, stage=c.stage, intent_tags=intents.get(c.id, {}),
            last_customer_message_at=last_customer.get(c.id),
            waiting_on_us_since=waiting.get(c.id), overdue_follow_up_since=overdue.get(c.id),
        ))
        for c in customers
    }


def _in_batches(ids: Iterable[int], statement_for, size: int = 900):
    """Rows of `statement_for(batch)` for batches of ids: SQLite limits the variables of one statement."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield from db.session.execute(statement_for(ids[start : start + size]))


def _waiting_customers(day: ShopDay) -> set[int]:
    """Customers with a conversation in the "waiting on us" section (read from the covering index alone)."""
    return set(db.session.execute(
        db.select(Conversation.customer_id)
        .where(is_waiting_on_us(), Conversation.last_message_at >= waiting_window_start(day))
    ).scalars())


def _recently_active(since: datetime) -> list[int]:
    """Customers with a live conversation since `since`, most recent first: one backward walk of the index
    on conversations.last_message_at (integers only come back, no times to convert)."""
    ids = db.session.execute(
        db.select(Conversation.customer_id)
        .where(Conversation.last_message_at >= since, live(Conversation.deleted_at))
        .order_by(Conversation.last_message_at.desc())
    ).scalars()
    return list(dict.fromkeys(ids))


def hot_prospects(day: ShopDay, filters: QueueFilters = NO_FILTERS, limit: int = SECTION_LIMIT,
                  candidates: int = HOT_CANDIDATES) -> tuple[list[tuple[Customer, Score]], int]:
    """Hot customers with no open follow-up who are not waiting on us, hottest first, and how many there are.

    Only customers who wrote or were written to within `hot_window_days` can be hot; of those, the
    `candidates` most recently active are scored (bounded work at any size of shop)."""
    waiting = _waiting_customers(day)
    ordered = [customer_id for customer_id in _recently_active(day.now - timedelta(days=hot_window_days()))
               if customer_id not in waiting]
    conditions = [
        _live_customer(), Customer.stage.not_in(("won", "lost")),
        ~db.select(FollowUp.id).where(FollowUp.customer_id == Customer.id, FollowUp.done_at.is_(None))
        .correlate(Customer).exists(),
        *_customer_filters(filters),
    ]
    if filters.user_id:
        conditions.append(Customer.assigned_to_id == filters.user_id)
    found: list = []  # (id, stage) rows: whole customers are loaded for the rows shown only
    start, size = 0, CANDIDATE_BATCH
    while start < len(ordered) and len(found) < candidates:
        batch = ordered[start : start + size]
        rows = {row.id: row for row in db.session.execute(
            db.select(Customer.id, Customer.stage).where(Customer.id.in_(batch), *conditions))}
        found.extend(rows[customer_id] for customer_id in batch if customer_id in rows)
        start, size = start + size, min(size * 2, MAX_BATCH)  # filters leave few: take bigger bites
    scores = prospect_scores(found[:candidates], day)
    hot = sorted((customer_id for customer_id, score in scores.items() if score.is_hot),
                 key=lambda customer_id: (-scores[customer_id].total, customer_id))
    shown = {c.id: c for c in db.session.execute(
        db.select(Customer).where(Customer.id.in_(hot[:limit]))).scalars()} if hot else {}
    return [(shown[customer_id], scores[customer_id]) for customer_id in hot[:limit]], len(hot)


# --- rows of the queue ---------------------------------------------------------------------------------


@dataclass
class QueueRow:
    section: str
    customer: Customer
    conversation: Conversation | None = None
    follow_up: FollowUp | None = None
    score: Score | None = None
    tags: list = field(default_factory=list)
    last_message: Message | None = None
    waiting_since: datetime | None = None


@dataclass
class Section:
    name: str
    rows: list[QueueRow]
    total: int


@dataclass
class Queue:
    day: ShopDay
    filters: QueueFilters
    sections: dict[str, Section]
    numbers: dict[str, int]


def count(statement) -> int:
    return db.session.execute(
        db.select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()


def follow_up_rows(follow_ups: list[FollowUp], section: str) -> list[QueueRow]:
    return [QueueRow(section, f.customer, follow_up=f) for f in follow_ups]


def waiting_rows(conversations: list[Conversation]) -> list[QueueRow]:
    return [QueueRow("waiting", c.customer, conversation=c) for c in conversations]


def fill_rows(rows: list[QueueRow], day: ShopDay, scores: dict[int, Score] | None = None) -> list[QueueRow]:
    """Conversation, need tags, last message, waiting time and score for each row: a fixed number of
    queries for all rows together."""
    from ..needs.tagging import tags_of

    wanted = {row.follow_up.conversation_id for row in rows
              if row.conversation is None and row.follow_up and row.follow_up.conversation_id}
    linked = {c.id: c for c in db.session.execute(
        db.select(Conversation).where(Conversation.id.in_(wanted), live(Conversation.deleted_at))
    ).scalars()} if wanted else {}
    for row in rows:
        if row.conversation is None and row.follow_up:
            row.conversation = linked.get(row.follow_up.conversation_id)
    latest = latest_conversations(row.customer.id for row in rows if row.conversation is None)
    for row in rows:
        if row.conversation is None:
            row.conversation = latest.get(row.customer.id)
    conversation_ids = {row.conversation.id for row in rows if row.conversation}
    tags = tags_of(conversation_ids)
    last = last_messages(conversation_ids)
    since = waiting_since(c.id for c in {row.conversation for row in rows if row.conversation}
                          if c.last_side == "customer")
    missing_scores = [row.customer for row in rows if not scores or row.customer.id not in scores]
    scores = {**(scores or {}), **prospect_scores({c.id: c for c in missing_scores}.values(), day)}
    for row in rows:
        if row.conversation:
            row.tags = tags.get(row.conversation.id, [])
            row.last_message = last.get(row.conversation.id)
            row.waiting_since = since.get(row.conversation.id)
        row.score = scores.get(row.customer.id)
    return rows


def latest_conversations(customer_ids: Iterable[int]) -> dict[int, Conversation]:
    ids = list(set(customer_ids))
    if not ids:
        return {}
    ranked = (
        db.select(Conversation.id, func.row_number().over(
            partition_by=Conversation.customer_id,
            order_by=(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())).label("rank"))
        .where(Conversation.customer_id.in_(ids), live(Conversation.deleted_at))
        .subquery()
    )
    conversations = db.session.execute(
        db.select(Conversation).join(ranked, ranked.c.id == Conversation.id).where(ranked.c.rank == 1)
    ).scalars()
    return {c.customer_id: c for c in conversations}


def last_messages(conversation_ids: Iterable[int]) -> dict[int, Message]:
    ids = list(conversation_ids)
    if not ids:
        return {}
    ranked = (
        db.select(Message.id, func.row_number().over(
            partition_by=Message.conversation_id, order_by=(Message.sent_at.desc(), Message.id.desc())).label("rank"))
        .where(Message.conversation_id.in_(ids), live(Message.deleted_at))
        .subquery()
    )
    messages = db.session.execute(
        db.select(Message).join(ranked, ranked.c.id == Message.id).where(ranked.c.rank == 1)
    ).scalars()
    return {m.conversation_id: m for m in messages}


def today_numbers(day: ShopDay, due: int | None = None, waiting: int | None = None) -> dict[str, int]:
    """The strip on top of the queue, for the whole shop: follow-ups due (today and overdue), waiting
    on us, new prospects this week, sales won this month and their total. `due` and `waiting` may come
    from the unfiltered queue, which counted them already."""
    if due is None:
        due = count(_open_follow_ups(NO_FILTERS).where(FollowUp.due_at < day.end))
    if waiting is None:
        waiting = count(waiting_on_us(day))
    new = db.session.execute(
        db.select(func.count(Customer.id)).where(_live_customer(), Customer.created_at >= day.week_start,
                                                 Customer.stage != "lost")
    ).scalar_one()
    from ..orders.services import sales_between

    # Won: customers with a sale this month, counted as the report counts them.
    won_count, won_amount = db.session.execute(sales_between(
        day.month_start, day.today, func.count(func.distinct(Order.customer_id)),
        func.coalesce(func.sum(Order.total), 0))).one()
    return {"due": due, "waiting": waiting, "new_prospects": new, "won": won_count, "won_amount": won_amount}


def follow_up_queue(filters: QueueFilters = NO_FILTERS, now: datetime | None = None,
                    limit: int = SECTION_LIMIT) -> Queue:
    """The home page: each section's first `limit` rows and its total, and today's numbers."""
    day = shop_day(now)
    overdue = overdue_follow_ups(day, filters)
    today = follow_ups_due_today(day, filters)
    waiting = waiting_on_us(day, filters)
    hot, hot_total = hot_prospects(day, filters, limit)

    def first(name, statement):
        return list(db.session.execute(section_statement(name, day, filters).limit(limit)).scalars())

    rows = {
        "overdue": follow_up_rows(first("overdue", overdue), "overdue"),
        "today": follow_up_rows(first("today", today), "today"),
        "waiting": waiting_rows(first("waiting", waiting)),
        "hot": [QueueRow("hot", customer, score=score) for customer, score in hot],
    }
    fill_rows([row for section in rows.values() for row in section], day,
              scores={customer.id: score for customer, score in hot})
    totals = {
        "overdue": _total(rows["overdue"], limit, overdue),
        "today": _total(rows["today"], limit, today),
        "waiting": _total(rows["waiting"], limit, waiting),
        "hot": hot_total,
    }
    sections = {name: Section(name, rows[name], totals[name]) for name in SECTIONS}
    if filters.active:
        numbers = today_numbers(day)
    else:  # overdue and due today are exactly the open follow-ups due before tomorrow
        numbers = today_numbers(day, due=totals["overdue"] + totals["today"], waiting=totals["waiting"])
    return Queue(day, filters, sections, numbers)


def _total(rows: list, limit: int, statement) -> int:
    return len(rows) if len(rows) < limit else count(statement)


def section_statement(name: str, day: ShopDay, filters: QueueFilters):
    """The rows of a paged section, with what each row shows loaded in the same go (no query per row)."""
    statement = {"overdue": overdue_follow_ups, "today": follow_ups_due_today, "waiting": waiting_on_us}[name](
        day, filters)
    if name == "waiting":
        return statement.options(contains_eager(Conversation.customer))
    return statement.options(contains_eager(FollowUp.customer), selectinload(FollowUp.assigned_to))
