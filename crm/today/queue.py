"""Who to follow up today: the queue's sections, "waiting on us", and prospect scores for the rows shown.

Sections of the queue (each a bounded, indexed query; scores are computed only for the rows shown):

- overdue: open follow-ups past due (a date-only one is overdue from the next day, a timed one from its time);
- due today: open follow-ups due later today;
- waiting on us: conversations with an open wait (conversations.waiting_since, kept by crm.kept: the first
  customer message we have not answered, unless it was only thanks or someone said no reply is needed), the
  longest wait first, of those that started within QUEUE_WAITING_DAYS; older ones are counted below it and
  listed with their dates on their own page ("older"), and so are the chats that ended with thanks ("thanks");
- hot prospects without a follow-up: a kept score of HOT_THRESHOLD or more, no open follow-up, no open wait.

The numbers on top count the same rows as the sections, under the same filters. Deleted customers and
conversations, and customers merged away, never appear (a conversation waits only while it and its customer
are live).
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
from ..models import Conversation, ConversationTag, Customer, FollowUp, Message, Tag, utcnow
from .scoring import COMPLAINT_POINTS, DECAY, HOT_THRESHOLD, INTENT_POINTS, Score, Signals, prospect_score

SECTIONS = ("overdue", "today", "waiting", "hot")
PAGED_SECTIONS = SECTIONS + ("older", "thanks")  # the last two have a page of their own only
SECTION_LIMIT = 10  # rows per section on the start page (QUEUE_SECTION_LIMIT); each section's page lists all
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


def is_live_customer():
    """Written as the partial indexes on customers are (ix_customers_live_*), so lists ordered by a kept column
    walk one of them."""
    return and_(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))


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


def overdue_from(due_at: datetime, has_time: bool) -> datetime:
    """The first moment `overdue_at` holds: just after its time, or the shop's midnight after its day."""
    if has_time:
        return due_at + timedelta(microseconds=1)
    day = due_at.astimezone(shop_zone()).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=shop_zone())


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
    """The one definition: an open wait, kept on the conversation (NULL once answered, closed, trashed)."""
    return Conversation.waiting_since.is_not(None)


def waiting_on_us(day: ShopDay, filters: QueueFilters = NO_FILTERS, older: bool = False, with_customer=True):
    """Open waits that started within the window, longest first; or those that started before it. Only
    live conversations of live customers wait, so counting them needs no customer unless a filter does."""
    start = waiting_window_start(day)
    statement = (
        db.select(Conversation)
        .where(Conversation.waiting_since < start if older else Conversation.waiting_since >= start)
        .order_by(Conversation.waiting_since, Conversation.id)
    )
    if with_customer or filters.user_id:
        statement = statement.join(Customer, Customer.id == Conversation.customer_id)
    return _conversation_filters(statement, filters)


def ended_with_thanks(day: ShopDay, filters: QueueFilters = NO_FILTERS):
    """Chats of the window whose wait closed by itself: the customer's last messages only thanked us."""
    statement = (
        db.select(Conversation)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.no_reply == "thanks", Conversation.last_message_at >= waiting_window_start(day),
               live(Conversation.deleted_at), _live_customer())
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )
    return _conversation_filters(statement, filters)


def _conversation_filters(statement, filters: QueueFilters):
    if filters.user_id:
        statement = statement.where(Customer.assigned_to_id == filters.user_id)
    if filters.channel:
        statement = statement.where(Conversation.channel == filters.channel)
    if filters.tag_id:
        statement = statement.where(_conversation_has_tag(filters.tag_id))
    return statement


def oldest_wait(customer_id: int) -> Conversation | None:
    """The customer's conversation that has waited on us longest, if any (their page shows this one line)."""
    return db.session.execute(
        db.select(Conversation).where(Conversation.customer_id == customer_id, is_waiting_on_us())
        .order_by(Conversation.waiting_since, Conversation.id).limit(1)
    ).scalar_one_or_none()


# --- prospect scores -----------------------------------------------------------------------------------


def prospect_scores(customers: Iterable, day: ShopDay) -> dict[int, Score]:
    """Scores of the given customers (anything with .id and .stage: Customer, or a row of the two), in a
    fixed number of queries for all of them, whatever their number."""
    signals, _falls_due = prospect_signals(customers, day)
    return {customer_id: prospect_score(s) for customer_id, s in signals.items()}


def prospect_signals(customers: Iterable, day: ShopDay) -> tuple[dict[int, Signals], dict[int, list[datetime]]]:
    """What the score of each customer is made of, and when their open follow-ups that are not overdue yet
    will be (so crm.kept knows when a score changes by itself).

    Signals older than the formula's longest decay are worth nothing, so only conversations active since
    then are read: a customer with years of history costs what one with a week of it does. Each query is
    driven by one index on purpose (customer, then conversation ids); the rest is filtered here."""
    customers = list(customers)
    ids = [c.id for c in customers]
    if not ids:
        return {}, {}
    since = day.now - timedelta(days=SIGNAL_DAYS)
    conversations = [row for row in db.session.execute(
        db.select(Conversation.id, Conversation.customer_id, Conversation.last_message_at,
                  Conversation.waiting_since, Conversation.deleted_at)
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
    other = db.aliased(Conversation)
    # Per conversation, one step back along (conversation_id, sent_at) to its last customer message: a long
    # thread costs what a short one does.
    latest = (
        db.select(Message.sent_at)
        .where(Message.conversation_id == other.id, Message.side == "customer", live(Message.deleted_at))
        .order_by(Message.sent_at.desc()).limit(1).correlate(other).scalar_subquery()
    )
    for conversation_id, at in _in_batches(customer_of, lambda batch: (
        db.select(other.id, latest).where(other.id.in_(batch))
    )):
        if at is not None and at >= since:
            customer_id = customer_of[conversation_id]
            last_customer[customer_id] = max(at, last_customer.get(customer_id, at))

    waiting: dict[int, datetime] = {}
    for row in conversations:
        if row.waiting_since is not None:
            waiting[row.customer_id] = min(row.waiting_since, waiting.get(row.customer_id, row.waiting_since))

    overdue: dict[int, datetime] = {}
    falls_due: dict[int, list[datetime]] = {}
    follow_ups = db.session.execute(
        db.select(FollowUp.customer_id, FollowUp.due_at, FollowUp.has_time)
        .where(FollowUp.customer_id.in_(ids), FollowUp.done_at.is_(None))
    )
    for customer_id, due_at, has_time in follow_ups:
        if overdue_at(due_at, has_time, day):
            overdue[customer_id] = min(due_at, overdue.get(customer_id, due_at))
        else:
            falls_due.setdefault(customer_id, []).append(overdue_from(due_at, has_time))

    return {
        c.id: Signals(
            now=day.now, stage=c.stage, intent_tags=intents.get(c.id, {}),
            last_customer_message_at=last_customer.get(c.id),
            waiting_on_us_since=waiting.get(c.id), overdue_follow_up_since=overdue.get(c.id),
        )
        for c in customers
    }, falls_due


def _in_batches(ids: Iterable[int], statement_for, size: int = 900):
    """Rows of `statement_for(batch)` for batches of ids: SQLite limits the variables of one statement."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield from db.session.execute(statement_for(ids[start : start + size]))


def hot_prospects(day: ShopDay, filters: QueueFilters = NO_FILTERS):
    """Customers whose kept score is hot, with no open follow-up and no open wait, hottest first: the
    score's index gives them in order, so a page of them costs the same in any size of shop."""
    statement = db.select(Customer).where(
        is_live_customer(), Customer.score >= HOT_THRESHOLD, Customer.waiting_since.is_(None),
        Customer.stage.not_in(("won", "lost")),
        ~db.select(FollowUp.id).where(FollowUp.customer_id == Customer.id, FollowUp.done_at.is_(None))
        .correlate(Customer).exists(),
        *_customer_filters(filters),
    ).order_by(Customer.score.desc(), Customer.id.desc())
    if filters.user_id:
        statement = statement.where(Customer.assigned_to_id == filters.user_id)
    return statement


# --- rows of the queue ---------------------------------------------------------------------------------


@dataclass
class QueueRow:
    section: str
    customer: Customer
    conversation: Conversation | None = None
    follow_up: FollowUp | None = None
    score: int | None = None  # the customer's kept score
    tags: list = field(default_factory=list)  # Tag
    last_message: Message | None = None  # or a row with side, body and sent_at
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
    older_waits: int = 0  # open waits that started before the window
    oldest_wait: datetime | None = None
    thanks: int = 0  # chats of the window that ended with thanks


def count(statement) -> int:
    return db.session.execute(
        db.select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()


def follow_up_rows(follow_ups: list[FollowUp], section: str) -> list[QueueRow]:
    return [QueueRow(section, f.customer, follow_up=f) for f in follow_ups]


def waiting_rows(conversations: list[Conversation], section: str = "waiting") -> list[QueueRow]:
    return [QueueRow(section, c.customer, conversation=c) for c in conversations]


def fill_rows(rows: list[QueueRow], day: ShopDay) -> list[QueueRow]:
    """Conversation, need tags and last message for each row: a fixed number of queries for all rows
    together, read as plain rows where the page only shows them. The score is the customer's kept one."""
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
    tags = tag_chips(conversation_ids)
    last = last_messages(conversation_ids, plain=True)
    for row in rows:
        if row.conversation:
            row.tags = tags.get(row.conversation.id, [])
            row.last_message = last.get(row.conversation.id)
            row.waiting_since = row.conversation.waiting_since
        row.score = row.customer.score
    return rows


def tag_chips(conversation_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """The live tags of each conversation, needs first, then by title, for chips: pairs of ids read plainly,
    the shop's few tags once."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    tags = {tag.id: tag for tag in db.session.execute(db.select(Tag)).scalars()}
    found: dict[int, list[Tag]] = {}
    for conversation_id, tag_id in db.session.execute(
        db.select(ConversationTag.conversation_id, ConversationTag.tag_id)
        .where(ConversationTag.conversation_id.in_(ids), ConversationTag.removed_at.is_(None))
    ):
        if tag_id in tags:
            found.setdefault(conversation_id, []).append(tags[tag_id])
    for chips in found.values():
        chips.sort(key=lambda tag: (tag.kind != "need", tag.title))
    return found


def latest_conversations(customer_ids: Iterable[int]) -> dict[int, Conversation]:
    """Each customer's live conversation with the latest message: one step back along the index on
    (customer_id, last_message_at) per customer, however long their history."""
    ids = list(set(customer_ids))
    if not ids:
        return {}
    latest = (
        db.select(Conversation.id).where(Conversation.customer_id == Customer.id, live(Conversation.deleted_at))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1)
        .correlate(Customer).scalar_subquery()
    )
    conversations = db.session.execute(
        db.select(Conversation).where(Conversation.id.in_(db.select(latest).where(Customer.id.in_(ids))))
    ).scalars()
    return {c.customer_id: c for c in conversations}


def last_messages(conversation_ids: Iterable[int], plain: bool = False) -> dict[int, Message]:
    """Each conversation's last live message: one step back along (conversation_id, sent_at), so a
    conversation of 50,000 messages costs what one of five does. `plain`: rows with conversation_id, side,
    body and sent_at only (a page that just shows them)."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    other = db.aliased(Conversation)
    latest = (
        db.select(Message.id).where(Message.conversation_id == other.id, live(Message.deleted_at))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)
        .correlate(other).scalar_subquery()
    )
    chosen = Message.id.in_(db.select(latest).where(other.id.in_(ids)))
    if plain:
        rows = db.session.execute(
            db.select(Message.conversation_id, Message.side, Message.body, Message.sent_at).where(chosen))
        return {row.conversation_id: row for row in rows}
    messages = db.session.execute(db.select(Message).where(chosen)).scalars()
    return {m.conversation_id: m for m in messages}


def today_numbers(day: ShopDay, filters: QueueFilters, due: int, waiting: int) -> dict[str, int]:
    """The strip on top of the queue: follow-ups due (today and overdue) and waiting on us, as the sections
    count them; new prospects this week and customers won this month (crm.reports.figures.won_customers,
    the report's count), of the customers the filters show."""
    from ..reports.figures import won_customers

    conditions = [*_customer_filters(filters)]
    if filters.user_id:
        conditions.append(Customer.assigned_to_id == filters.user_id)
    new = db.session.execute(
        db.select(func.count(Customer.id)).where(is_live_customer(), Customer.created_at >= day.week_start,
                                                 Customer.stage != "lost", *conditions)
    ).scalar_one()
    won, won_amount = won_customers(day.month_start, day.today, conditions)
    return {"due": due, "waiting": waiting, "new_prospects": new, "won": won, "won_amount": won_amount}


def follow_up_queue(filters: QueueFilters = NO_FILTERS, now: datetime | None = None,
                    limit: int = SECTION_LIMIT) -> Queue:
    """The home page: each section's first `limit` rows and its total, and today's numbers (the page
    brings due scores up to date first: crm.kept.fresh_scores)."""
    day = shop_day(now)
    statements = {name: section_statement(name, day, filters) for name in SECTIONS}
    found = {name: list(db.session.execute(statement.limit(limit)).unique().scalars())
             for name, statement in statements.items()}
    rows = {
        "overdue": follow_up_rows(found["overdue"], "overdue"),
        "today": follow_up_rows(found["today"], "today"),
        "waiting": waiting_rows(found["waiting"]),
        "hot": [QueueRow("hot", customer) for customer in found["hot"]],
    }
    fill_rows([row for section in rows.values() for row in section], day)
    counted = {**statements, "waiting": waiting_on_us(day, filters, with_customer=False)}
    totals = {name: len(rows[name]) if len(rows[name]) < limit else count(counted[name]) for name in SECTIONS}
    sections = {name: Section(name, rows[name], totals[name]) for name in SECTIONS}
    older_count, oldest = _count_and_oldest(waiting_on_us(day, filters, older=True, with_customer=False))
    numbers = today_numbers(day, filters, due=totals["overdue"] + totals["today"], waiting=totals["waiting"])
    return Queue(day, filters, sections, numbers, older_waits=older_count, oldest_wait=oldest,
                 thanks=count(ended_with_thanks(day, filters)))


def _count_and_oldest(statement) -> tuple[int, datetime | None]:
    waits = statement.order_by(None).with_only_columns(Conversation.waiting_since).subquery()
    total, oldest = db.session.execute(db.select(func.count(), func.min(waits.c.waiting_since))).one()
    return total, oldest


def section_statement(name: str, day: ShopDay, filters: QueueFilters):
    """The rows of a paged section, with what each row shows loaded in the same go (no query per row)."""
    if name == "hot":
        return hot_prospects(day, filters)
    if name in ("waiting", "older", "thanks"):
        statement = ended_with_thanks(day, filters) if name == "thanks" else waiting_on_us(
            day, filters, older=name == "older")
        return statement.options(contains_eager(Conversation.customer))
    statement = {"overdue": overdue_follow_ups, "today": follow_ups_due_today}[name](day, filters)
    return statement.options(contains_eager(FollowUp.customer), selectinload(FollowUp.assigned_to))
