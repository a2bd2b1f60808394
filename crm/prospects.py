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

from .extensions import db
from .formatting import shop_zone
from .models import Conversation, ConversationTag, Customer, FollowUp, Message, Sale, Tag, utcnow
from .scoring import COMPLAINT_POINTS, DECAY, HOT_THRESHOLD, INTENT_POINTS, Score, Signals, prospect_score

SECTIONS = ("overdue", "today", "waiting", "hot")
SECTION_LIMIT = 20
# The hot section scores at most this many recently active customers, newest activity first.
HOT_CANDIDATES = 300
SCORED_TAGS = tuple(INTENT_POINTS) + (("complaint",) if COMPLAINT_POINTS else ())


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


def _live_customer():
    return and_(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))


def _customer_has_channel(channel: str):
    return db.select(Conversation.id).where(
        Conversation.customer_id == Customer.id, Conversation.channel == channel, Conversation.deleted_at.is_(None)
    ).correlate(Customer).exists()


def _conversation_has_tag(tag_id: int):
    return db.select(ConversationTag.tag_id).where(
        ConversationTag.conversation_id == Conversation.id, ConversationTag.tag_id == tag_id,
        ConversationTag.removed_at.is_(None),
    ).correlate(Conversation).exists()


def _customer_has_tag(tag_id: int):
    return (
        db.select(ConversationTag.tag_id)
        .join(Conversation, Conversation.id == ConversationTag.conversation_id)
        .where(Conversation.customer_id == Customer.id, Conversation.deleted_at.is_(None),
               ConversationTag.tag_id == tag_id, ConversationTag.removed_at.is_(None))
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
    return and_(Conversation.last_side == "customer", Conversation.deleted_at.is_(None))


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
    """For each conversation waiting on us: its first customer message after our last reply."""
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
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.conversation_id.in_(ids), is_waiting_on_us(), Message.side == "customer",
               Message.deleted_at.is_(None), ~answered_later)
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


def prospect_scores(customers: Iterable[Customer], day: ShopDay) -> dict[int, Score]:
    """Scores of the given customers: five queries for all of them, whatever their number."""
    customers = list(customers)
    ids = [c.id for c in customers]
    if not ids:
        return {}
    intents: dict[int, dict[str, datetime]] = {}
    asked_at = func.max(func.coalesce(Message.sent_at, Conversation.last_message_at, ConversationTag.created_at))
    rows = db.session.execute(
        db.select(Conversation.customer_id, Tag.name, asked_at)
        .select_from(ConversationTag)
        .join(Conversation, Conversation.id == ConversationTag.conversation_id)
        .join(Tag, Tag.id == ConversationTag.tag_id)
        .outerjoin(Message, Message.id == ConversationTag.reason_message_id)
        .where(Conversation.customer_id.in_(ids), Conversation.deleted_at.is_(None),
               ConversationTag.removed_at.is_(None), Tag.name.in_(SCORED_TAGS))
        .group_by(Conversation.customer_id, Tag.name)
    )
    for customer_id, name, when in rows:
        intents.setdefault(customer_id, {})[name] = when

    last_customer = dict(db.session.execute(
        db.select(Conversation.customer_id, func.max(Message.sent_at))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Conversation.customer_id.in_(ids), Conversation.deleted_at.is_(None),
               Message.side == "customer", Message.deleted_at.is_(None))
        .group_by(Conversation.customer_id)
    ).all())

    waiting_conversations = db.session.execute(
        db.select(Conversation.id, Conversation.customer_id)
        .where(Conversation.customer_id.in_(ids), is_waiting_on_us())
    ).all()
    since = waiting_since(cid for cid, _ in waiting_conversations)
    waiting: dict[int, datetime] = {}
    for conversation_id, customer_id in waiting_conversations:
        if conversation_id in since:
            earlier = waiting.get(customer_id)
            waiting[customer_id] = min(since[conversation_id], earlier) if earlier else since[conversation_id]

    overdue = dict(db.session.execute(
        db.select(FollowUp.customer_id, func.min(FollowUp.due_at))
        .where(FollowUp.customer_id.in_(ids), FollowUp.done_at.is_(None), is_overdue(day))
        .group_by(FollowUp.customer_id)
    ).all())

    return {
        c.id: prospect_score(Signals(
            now=day.now, stage=c.stage, intent_tags=intents.get(c.id, {}),
            last_customer_message_at=last_customer.get(c.id),
            waiting_on_us_since=waiting.get(c.id), overdue_follow_up_since=overdue.get(c.id),
        ))
        for c in customers
    }


def hot_prospects(day: ShopDay, filters: QueueFilters = NO_FILTERS, limit: int = SECTION_LIMIT,
                  candidates: int = HOT_CANDIDATES) -> tuple[list[tuple[Customer, Score]], int]:
    """Hot customers with no open follow-up who are not waiting on us, hottest first, and how many there are.

    Only customers who wrote or were written to within `hot_window_days` can be hot; of those, the
    `candidates` most recently active are scored (bounded work at any size of shop)."""
    recent = day.now - timedelta(days=hot_window_days())
    latest = func.max(Conversation.last_message_at).label("latest")
    statement = (
        db.select(Customer, latest)
        .join(Conversation, Conversation.customer_id == Customer.id)
        .where(Conversation.deleted_at.is_(None), Conversation.last_message_at >= recent, _live_customer(),
               Customer.stage.not_in(("won", "lost")),
               ~db.select(FollowUp.id).where(FollowUp.customer_id == Customer.id, FollowUp.done_at.is_(None))
               .correlate(Customer).exists(),
               ~db.select(Conversation.id).where(
                   Conversation.customer_id == Customer.id, is_waiting_on_us(),
                   Conversation.last_message_at >= waiting_window_start(day)).correlate(Customer).exists(),
               *_customer_filters(filters))
        .group_by(Customer.id)
        .order_by(latest.desc(), Customer.id.desc())
        .limit(candidates)
    )
    if filters.user_id:
        statement = statement.where(Customer.assigned_to_id == filters.user_id)
    customers = [customer for customer, _ in db.session.execute(statement).all()]
    scores = prospect_scores(customers, day)
    hot = sorted(((c, scores[c.id]) for c in customers if scores[c.id].is_hot),
                 key=lambda pair: (-pair[1].total, pair[0].id))
    return hot[:limit], len(hot)


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
    from .tagging import tags_of

    wanted = {row.follow_up.conversation_id for row in rows
              if row.conversation is None and row.follow_up and row.follow_up.conversation_id}
    linked = {c.id: c for c in db.session.execute(
        db.select(Conversation).where(Conversation.id.in_(wanted), Conversation.deleted_at.is_(None))
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
        .where(Conversation.customer_id.in_(ids), Conversation.deleted_at.is_(None))
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
        .where(Message.conversation_id.in_(ids), Message.deleted_at.is_(None))
        .subquery()
    )
    messages = db.session.execute(
        db.select(Message).join(ranked, ranked.c.id == Message.id).where(ranked.c.rank == 1)
    ).scalars()
    return {m.conversation_id: m for m in messages}


def today_numbers(day: ShopDay) -> dict[str, int]:
    """The strip on top of the queue, for the whole shop: follow-ups due (today and overdue), waiting
    on us, new prospects this week, sales won this month and their total."""
    due = count(_open_follow_ups(NO_FILTERS).where(FollowUp.due_at < day.end))
    waiting = count(waiting_on_us(day))
    new = db.session.execute(
        db.select(func.count(Customer.id)).where(_live_customer(), Customer.created_at >= day.week_start,
                                                 Customer.stage != "lost")
    ).scalar_one()
    won_count, won_amount = db.session.execute(
        db.select(func.count(Sale.id), func.coalesce(func.sum(Sale.amount), 0))
        .join(Customer, Customer.id == Sale.customer_id)
        .where(Sale.sold_on >= day.month_start, Sale.sold_on <= day.today, Customer.deleted_at.is_(None))
    ).one()
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
    return Queue(day, filters, sections, today_numbers(day))


def _total(rows: list, limit: int, statement) -> int:
    return len(rows) if len(rows) < limit else count(statement)


def section_statement(name: str, day: ShopDay, filters: QueueFilters):
    """The rows of a paged section, with what each row shows loaded in the same go (no query per row)."""
    statement = {"overdue": overdue_follow_ups, "today": follow_ups_due_today, "waiting": waiting_on_us}[name](
        day, filters)
    if name == "waiting":
        return statement.options(contains_eager(Conversation.customer))
    return statement.options(contains_eager(FollowUp.customer), selectinload(FollowUp.assigned_to))
