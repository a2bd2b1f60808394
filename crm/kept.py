"""What is kept from other rows so lists read no history, and the one place it is kept up to date.

Kept, and only ever written here:

- a conversation's first and last message times, who wrote last, and its wait: `waiting_since` (the first
  customer message we have not answered, unless no reply is needed) and `no_reply` (crm.today.waits);
- a customer's last activity, first contact (and that conversation), since when they are a customer, oldest
  open wait, prospect score and when
  that score next changes by itself (`score_changes_at`), and the channels and tags the customer list filters
  by (`customer_facets`, live customers only);
- the report's daily figures (crm.reports.daily);
- whether a message of ours asks for a review (`Message.asks_for_review`, crm.orders.reading): read from the text
  as the row is inserted (the column's default; an import gives it in its bulk rows), since a message's text never
  changes; here only rebuilt.

How they stay right:

- Every change made through the ORM to a message, a conversation, a conversation's tag, a follow-up, a
  customer, a handle or a tag marks what it affects (a session event after each flush). The few writes that
  bypass the ORM (an import's bulk inserts, a merge's UPDATEs) mark what they touch with `mark_conversations` /
  `mark_customers`.
- Before a transaction commits, `settle()` recomputes all that is marked from the rows themselves, in the same
  transaction: a change and what is kept from it commit together or not at all. Code that reads kept columns
  in the transaction that changed their inputs calls `settle()` first.
- A score also changes with time alone (a signal ages past a step, a follow-up falls due). `refresh_due()`
  recomputes the customers whose `score_changes_at` has come; the pages ordered or filtered by score call it.
- `drift()` rebuilds everything in a savepoint and lists what differs from what was kept (tests/test_kept.py
  after inserts, deletes, merges, imports, trash and restore; `flask --app app check-kept`);
  `rebuild_all()` recomputes everything (`flask --app app rebuild-kept`, the migration that added the columns,
  and the generated shop).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import chain
from typing import Iterable

import click
from flask.cli import with_appcontext
from sqlalchemy import bindparam, event, func, inspect, true
from sqlalchemy.orm.util import identity_key

from .extensions import db
from .models import (
    ChannelIdentity,
    Conversation,
    ConversationFigures,
    ConversationTag,
    Customer,
    CustomerFacet,
    DailyFigures,
    DailyTagFigures,
    FollowUp,
    Message,
    Tag,
    utcnow,
)

BATCH = 500
STREAM_ROWS = 5000
_CONVERSATIONS, _CUSTOMERS, _CHATS_OF, _TAGS_GONE = ("kept_conversations", "kept_customers", "kept_chats_of",
                                                     "kept_tags_gone")
_PENDING = (_CONVERSATIONS, _CUSTOMERS, _CHATS_OF, _TAGS_GONE)
CONVERSATION_COLUMNS = ("first_message_at", "last_message_at", "last_side", "waiting_since", "no_reply",
                        "no_reply_through")
CUSTOMER_COLUMNS = ("last_activity_at", "first_contact_at", "first_conversation_id", "since_at", "waiting_since",
                    "score", "score_changes_at")


# --- marking -------------------------------------------------------------------------------------------


def _pending(session, key: str) -> set[int]:
    return session.info.setdefault(key, set())


def mark_conversations(ids: Iterable[int], session=None) -> None:
    _pending(session or db.session, _CONVERSATIONS).update(i for i in ids if i is not None)


def mark_customers(ids: Iterable[int], session=None) -> None:
    _pending(session or db.session, _CUSTOMERS).update(i for i in ids if i is not None)


def _values(obj, name: str) -> list:
    """The attribute's value now and before this flush, read without loading anything."""
    history = inspect(obj).attrs[name].history
    return [value for value in chain(history.added, history.unchanged, history.deleted) if value is not None] \
        or [vars(obj).get(name)]


def _after_flush(session, _flush_context) -> None:
    conversations, customers = _pending(session, _CONVERSATIONS), _pending(session, _CUSTOMERS)
    chats_of, tags_gone = _pending(session, _CHATS_OF), _pending(session, _TAGS_GONE)
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, (Message, ConversationTag)):
            conversations.update(_values(obj, "conversation_id"))
        elif isinstance(obj, Conversation):
            conversations.add(obj.id)
            customers.update(_values(obj, "customer_id"))
        elif isinstance(obj, (FollowUp, ChannelIdentity)):
            customers.update(_values(obj, "customer_id"))
        elif isinstance(obj, Customer):
            customers.add(obj.id)
            state = inspect(obj)
            if state.attrs.deleted_at.history.has_changes() or state.attrs.merged_into_id.history.has_changes():
                chats_of.add(obj.id)  # its conversations stop or start counting in the report
        elif isinstance(obj, Tag) and obj in session.deleted:
            tags_gone.add(obj.id)  # the database took its rows off conversations: no flush event for those
    for key in _PENDING:
        session.info[key].discard(None)


def _forget(session, *_args) -> None:
    for key in _PENDING:
        session.info.pop(key, None)


def settle(session=None) -> None:
    """Recompute what is marked, in the current transaction (also run by itself before every commit)."""
    session = session or db.session
    session.flush()
    while any(session.info.get(key) for key in _PENDING):
        chats_of = session.info.pop(_CHATS_OF, set())
        tags_gone = session.info.pop(_TAGS_GONE, set())
        conversations = session.info.pop(_CONVERSATIONS, set())
        customers = session.info.pop(_CUSTOMERS, set())
        if chats_of:
            conversations.update(session.execute(
                db.select(Conversation.id).where(Conversation.customer_id.in_(list(chats_of)))).scalars())
        for tag_id in tags_gone:  # rare (a tag deleted): the conversations that counted it, found by a scan
            conversations.update(session.execute(
                db.select(ConversationFigures.conversation_id).distinct()
                .where((" " + ConversationFigures.tag_ids + " ").contains(f" {tag_id} "))).scalars())
            customers.update(session.execute(
                db.select(CustomerFacet.customer_id).where(CustomerFacet.facet == f"tag:{tag_id}")).scalars())
        if conversations:
            customers.update(refresh_conversations(conversations))
        if customers:
            refresh_customers(customers)


def install(app) -> None:
    """Hook the session once (extensions are made once; apps come and go in tests)."""
    if not event.contains(db.session, "after_flush", _after_flush):
        event.listen(db.session, "after_flush", _after_flush)
        event.listen(db.session, "before_commit", settle)
        event.listen(db.session, "after_rollback", _forget)
        event.listen(db.session, "after_soft_rollback", _forget)
    for command in (rebuild_command, check_command):
        app.cli.add_command(command)


# --- conversations -------------------------------------------------------------------------------------


def refresh_conversations(conversation_ids: Iterable[int], sums=None) -> set[int]:
    """Times, waits and report figures of these conversations, from their live messages; returns their
    customers (whose kept columns follow from them). `sums`: see crm.reports.daily.refresh."""
    from .reports import daily
    from .today.waits import open_wait, wait_state

    ids = sorted(set(conversation_ids))
    customers: set[int] = set()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        rows = db.session.execute(
            db.select(Conversation.id, Conversation.customer_id, Conversation.channel, Conversation.logged_by_id,
                      Conversation.deleted_at, Customer.deleted_at.label("customer_deleted_at"),
                      Customer.merged_into_id, *(getattr(Conversation, name) for name in CONVERSATION_COLUMNS))
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Conversation.id.in_(batch))
        ).all()
        # Streamed, keeping the bodies of the unanswered run at each end only: a published import brings
        # conversations of tens of thousands of messages, whose texts need not all be in memory at once.
        messages: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
        unanswered: dict[int, list[tuple[datetime, str, str]]] = {}
        for conversation_id, sent_at, side, body in db.session.execute(
            db.select(Message.conversation_id, Message.sent_at, Message.side, Message.body)
            .where(Message.conversation_id.in_(batch), Message.deleted_at.is_(None))
            .order_by(Message.conversation_id, Message.sent_at, Message.id)
            .execution_options(yield_per=STREAM_ROWS)
        ):
            messages[conversation_id].append((sent_at, side))
            if side == "customer":
                unanswered.setdefault(conversation_id, []).append((sent_at, side, body))
            else:
                unanswered.pop(conversation_id, None)
        tags = daily.live_need_tags(batch)
        changes, counted = [], {}
        for row in rows:
            customers.add(row.customer_id)
            said = messages.get(row.id, [])
            last = said[-1][0] if said else None
            state = wait_state(open_wait(unanswered.get(row.id, ())), last, row.no_reply, row.no_reply_through)
            live = row.deleted_at is None and row.customer_deleted_at is None and row.merged_into_id is None
            kept = {"first_message_at": said[0][0] if said else None, "last_message_at": last,
                    "last_side": said[-1][1] if said else None,
                    # Only a live conversation of a live customer waits: lists count waits from the index alone.
                    "waiting_since": state.waiting_since if live else None,
                    "no_reply": state.no_reply, "no_reply_through": state.no_reply_through}
            if any(kept[name] != getattr(row, name) for name in CONVERSATION_COLUMNS):
                changes.append({"id_": row.id, **kept})
            if live:
                counted[row.id] = (row.channel, row.logged_by_id or 0, tags.get(row.id, []))
        _write(Conversation, CONVERSATION_COLUMNS, changes)
        daily.refresh(counted, {cid: said for cid, said in messages.items() if cid in counted}, batch, sums)
    return customers


# --- customers -----------------------------------------------------------------------------------------


def refresh_customers(customer_ids: Iterable[int], now: datetime | None = None) -> None:
    """Last activity, first contact, oldest open wait and score of these customers, as of `now`."""
    from .today.queue import prospect_signals, shop_day
    from .today.scoring import next_change, prospect_score

    day = shop_day(now)
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        customers = db.session.execute(
            db.select(Customer.id, Customer.stage, Customer.created_at,
                      *(getattr(Customer, name) for name in CUSTOMER_COLUMNS))
            .where(Customer.id.in_(batch))
        ).all()
        live = (Conversation.customer_id.in_(batch), Conversation.deleted_at.is_(None))
        activity = {row.customer_id: row for row in db.session.execute(
            db.select(Conversation.customer_id, func.max(Conversation.last_message_at).label("last"),
                      func.min(Conversation.waiting_since).label("waiting"))
            .where(*live).group_by(Conversation.customer_id)
        )}
        ranked = (
            db.select(Conversation.id, Conversation.customer_id, Conversation.first_message_at,
                      func.row_number().over(partition_by=Conversation.customer_id,
                                             order_by=(Conversation.first_message_at, Conversation.id)).label("rank"))
            .where(*live, Conversation.first_message_at.is_not(None))
            .subquery()
        )
        first = {row.customer_id: row for row in db.session.execute(
            db.select(ranked.c.customer_id, ranked.c.id, ranked.c.first_message_at).where(ranked.c.rank == 1))}
        signals, falls_due = prospect_signals(customers, day)
        _refresh_facets(sorted(live_ids(batch)), batch)
        changes = []
        for customer in customers:
            seen, opened = activity.get(customer.id), first.get(customer.id)
            customer_signals = signals[customer.id]
            kept = {
                "last_activity_at": seen.last if seen and seen.last else customer.created_at,
                "first_contact_at": opened.first_message_at if opened else None,
                "first_conversation_id": opened.id if opened else None,
                "since_at": min(customer.created_at, opened.first_message_at) if opened else customer.created_at,
                "waiting_since": seen.waiting if seen else None,
                "score": prospect_score(customer_signals).total,
                "score_changes_at": next_change(customer_signals, falls_due.get(customer.id, ())),
            }
            if any(kept[name] != getattr(customer, name) for name in CUSTOMER_COLUMNS):
                changes.append({"id_": customer.id, **kept})
        _write(Customer, CUSTOMER_COLUMNS, changes)


def live_ids(customer_ids: list[int]) -> set[int]:
    return set(db.session.execute(
        db.select(Customer.id).where(Customer.id.in_(customer_ids), Customer.deleted_at.is_(None),
                                     Customer.merged_into_id.is_(None))).scalars())


def customer_facets(customer_ids: list[int]) -> dict[int, set[str]]:
    """The facets these (live) customers should have: their channels and the tags of their live chats."""
    found: dict[int, set[str]] = {customer_id: set() for customer_id in customer_ids}
    live = (Conversation.customer_id.in_(customer_ids), Conversation.deleted_at.is_(None))
    for customer_id, channel in chain(
        db.session.execute(db.select(ChannelIdentity.customer_id, ChannelIdentity.channel).distinct()
                           .where(ChannelIdentity.customer_id.in_(customer_ids))),
        db.session.execute(db.select(Conversation.customer_id, Conversation.channel).distinct().where(*live)),
    ):
        found[customer_id].add(f"channel:{channel}")
    for customer_id, tag_id in db.session.execute(
        db.select(Conversation.customer_id, ConversationTag.tag_id).distinct()
        .join(ConversationTag, ConversationTag.conversation_id == Conversation.id)
        .where(*live, ConversationTag.removed_at.is_(None))
    ):
        found[customer_id].add(f"tag:{tag_id}")
    return found


def _refresh_facets(live_customer_ids: list[int], batch: list[int] | None = None) -> None:
    """Bring customer_facets in line for a batch: the live ones get theirs, the others none."""
    table = CustomerFacet.__table__
    wanted = customer_facets(live_customer_ids) if live_customer_ids else {}
    batch = batch if batch is not None else live_customer_ids
    have: dict[int, set[str]] = defaultdict(set)
    for facet, customer_id in db.session.execute(
            db.select(table.c.facet, table.c.customer_id).where(table.c.customer_id.in_(batch))):
        have[customer_id].add(facet)
    gone = [(facet, customer_id) for customer_id, facets in have.items()
            for facet in facets - wanted.get(customer_id, set())]
    new = [{"facet": facet, "customer_id": customer_id} for customer_id, facets in wanted.items()
           for facet in facets - have.get(customer_id, set())]
    for start in range(0, len(gone), 300):
        db.session.execute(db.delete(table).where(
            db.tuple_(table.c.facet, table.c.customer_id).in_(gone[start : start + 300])))
    if new:
        db.session.execute(db.insert(table), new)


def refresh_due(now: datetime | None = None) -> int:
    """Recompute the customers whose score has changed by itself since it was kept; how many. The caller
    commits (a page that only reads commits this before reading on)."""
    now = now or utcnow()
    ids = db.session.execute(
        db.select(Customer.id).where(Customer.score_changes_at <= now)).scalars().all()
    if ids:
        refresh_customers(ids, now)
    return len(ids)


def fresh_scores(now: datetime | None = None) -> None:
    """For a page that reads kept scores: bring the due ones up to date and commit that, before reading on
    (committing later would expire everything the page has loaded)."""
    if refresh_due(now):
        db.session.commit()


def _write(model, columns: tuple[str, ...], changes: list[dict]) -> None:
    """Core UPDATEs (no flush events, so nothing is marked again), then the loaded objects forget the old
    values."""
    if not changes:
        return
    table = model.__table__
    db.session.execute(
        db.update(table).where(table.c.id == bindparam("id_")).values({name: bindparam(name) for name in columns}),
        changes, execution_options={"synchronize_session": False},
    )
    for change in changes:
        loaded = db.session.identity_map.get(identity_key(model, change["id_"]))
        if loaded is not None:
            db.session.expire(loaded, list(columns))


# --- everything at once --------------------------------------------------------------------------------


def rebuild_all(progress=None, review_requests: bool = True) -> dict[str, int]:
    """Recompute every kept column and the report's daily figures from scratch (`review_requests=False`: all but
    the messages' review flag, for migration 0011, which runs before the flag's column exists)."""
    from .reports import daily

    db.session.flush()
    for model in (ConversationFigures, DailyFigures, DailyTagFigures, CustomerFacet):
        db.session.execute(db.delete(model.__table__))
    conversation_ids = db.session.execute(db.select(Conversation.id).order_by(Conversation.id)).scalars().all()
    sums = daily.new_sums()
    step = BATCH * 20
    for start in range(0, len(conversation_ids), step):
        refresh_conversations(conversation_ids[start : start + step], sums)
        if progress:
            progress(f"{min(start + step, len(conversation_ids)):,} conversations kept")
    daily.write_sums(sums)
    customer_ids = db.session.execute(db.select(Customer.id).order_by(Customer.id)).scalars().all()
    refresh_customers(customer_ids)
    if review_requests:
        refresh_review_requests()
    for key in _PENDING:
        db.session.info.pop(key, None)
    return {"conversations": len(conversation_ids), "customers": len(customer_ids)}


def refresh_review_requests() -> int:
    """Read every message of ours again for whether it asks for a review (for rows written around SQLAlchemy, and
    after the phrases change); returns how many do."""
    from .orders.reading import asks_for_review

    asking = {message_id for message_id, body in db.session.execute(
        db.select(Message.id, Message.body).where(Message.side == "staff").execution_options(yield_per=STREAM_ROWS))
        if asks_for_review("staff", body)}
    flagged = set(db.session.execute(db.select(Message.id).where(Message.asks_for_review == true())).scalars())
    table = Message.__table__
    for value, ids in ((True, sorted(asking - flagged)), (False, sorted(flagged - asking))):
        for start in range(0, len(ids), BATCH):
            db.session.execute(db.update(table).where(table.c.id.in_(ids[start : start + BATCH]))
                               .values(asks_for_review=value), execution_options={"synchronize_session": False})
        for message_id in ids:
            loaded = db.session.identity_map.get(identity_key(Message, message_id))
            if loaded is not None:
                db.session.expire(loaded, ["asks_for_review"])
    return len(asking)


def _snapshot() -> dict:
    snapshot = {
        "conversations": {row.id: tuple(row[1:]) for row in db.session.execute(
            db.select(Conversation.id, *(getattr(Conversation, n) for n in CONVERSATION_COLUMNS)))},
        "customers": {row.id: tuple(row[1:]) for row in db.session.execute(
            db.select(Customer.id, *(getattr(Customer, n) for n in CUSTOMER_COLUMNS)))},
        "customer_facets": {tuple(row): True for row in db.session.execute(
            db.select(CustomerFacet.facet, CustomerFacet.customer_id))},
        "messages asking for a review": {message_id: True for message_id in db.session.execute(
            db.select(Message.id).where(Message.asks_for_review == true())).scalars()},
    }
    for model, keys in ((DailyFigures, ("day", "channel", "staff_id")), (DailyTagFigures, ("day", "tag_id"))):
        table = model.__table__
        measures = [c for c in table.columns if c.name not in keys]
        snapshot[table.name] = {
            tuple(row[: len(keys)]): tuple(row[len(keys):]) for row in db.session.execute(
                db.select(*(table.c[k] for k in keys), *measures)) if any(row[len(keys):])}
    return snapshot


def drift() -> list[str]:
    """What differs between the kept columns and a rebuild from the rows themselves; [] when nothing does.
    Scores whose moment to change has come count as kept once `refresh_due` has run, as readers see them.
    Changes nothing: it ends by rolling back, so call it with nothing left to commit."""
    try:
        refresh_due()
        before = _snapshot()
        rebuild_all()
        after = _snapshot()
    finally:
        db.session.rollback()
    found = []
    for part, kept in before.items():
        right = after[part]
        for key in sorted(set(kept) | set(right), key=str):
            if kept.get(key) != right.get(key):
                found.append(f"{part} {key}: kept {kept.get(key)}, rebuilt {right.get(key)}")
    return found


@click.command("rebuild-kept")
@with_appcontext
def rebuild_command():
    """Recompute what lists and the report keep (last activity, waits, scores, daily figures) from scratch."""
    counts = rebuild_all(progress=lambda line: click.echo(line, err=True))
    db.session.commit()
    click.echo(f"Kept columns rebuilt for {counts['conversations']:,} conversations and "
               f"{counts['customers']:,} customers.")


@click.command("check-kept")
@with_appcontext
def check_command():
    """Check that what lists and the report keep matches the rows it comes from (changes nothing)."""
    found = drift()
    for line in found[:50]:
        click.echo(line)
    if found:
        raise click.ClickException(f"{len(found)} kept values differ; `flask --app app rebuild-kept` fixes them.")
    click.echo("Everything kept matches.")
