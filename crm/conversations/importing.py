"""Saving parsed chats: who is who, which customer, which conversation, each message once.

Parsers (crm.importers) are pure; this module is the one place that turns their output into rows.
It streams messages in batches, so a 100,000-line export never sits in memory as objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator

from flask import current_app
from flask_babel import gettext
from sqlalchemy import bindparam, insert

from ..customers.services import IdentityInput, create_customer, find_identity, live_customers
from ..extensions import db
from ..formatting import shop_zone
from ..identities import InvalidHandle, normalise_handle
from ..importers import ParsedChat, ParsedMessage, ParseError, parse_file, parse_path
from ..models import Conversation, ConversationTag, Customer, Message, OurName, Tag, User
from ..needs.tagging import all_tags, current_matcher, tag_conversations
from .services import _existing, conversation_near, fingerprint, in_the_future

BATCH = 2000
MAX_HELD = 20_000
UNTIMED = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Names a chat app uses for the person who exported or copied the chat: always the shop.
SELF_NAMES = frozenset({"me", "saya", "you", "anda", "aku"})
FORMAT_CHANNELS = {"whatsapp": "whatsapp", "telegram": "telegram", "messenger": "facebook",
                   "instagram": "instagram", "line": "other", "plain": "other"}


class ImportProblem(ValueError):
    """The chat cannot be saved as it is; the message says what to choose."""


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class ChatPlan:
    """What saving a chat will do: shown in the preview, then carried out unchanged."""

    chat: ParsedChat
    channel: str
    sides: dict[str, str]
    customer: Customer | None
    customer_name: str
    matched_by: str | None  # "handle", "name", "chosen" or None for a new customer
    handle: str | None = None

    @property
    def undecided(self) -> bool:
        """Nobody in a chat of several people is marked as the shop yet."""
        return len(self.chat.authors) > 1 and "staff" not in self.sides.values()


@dataclass
class ImportSummary:
    files: int = 0
    conversations: int = 0
    messages_imported: int = 0
    duplicates_skipped: int = 0
    customers_created: int = 0
    customers_matched: int = 0
    system_lines_skipped: int = 0
    future_dated: int = 0  # messages dated more than a few minutes after now: often a misread date format
    errors: list[dict] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)
    last_conversation_id: int | None = None  # where the last message of the last chat is, new or not

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items()
                if key not in ("conversation_ids", "last_conversation_id")}


def our_name_keys(channel: str) -> set[str]:
    remembered = db.session.execute(db.select(OurName.name_key).where(OurName.channel == channel)).scalars()
    staff = db.session.execute(db.select(User.name)).scalars()
    return set(remembered) | {name_key(name) for name in staff} | SELF_NAMES


def remember_our_names(channel: str, names: Iterable[str]) -> None:
    known = set(db.session.execute(db.select(OurName.name_key).where(OurName.channel == channel)).scalars())
    for name in names:
        key = name_key(name)
        if key and key not in known and key not in SELF_NAMES:
            db.session.add(OurName(channel=channel, name=name.strip()[:200], name_key=key[:200]))
            known.add(key)
    db.session.flush()


def guess_sides(chat: ParsedChat, channel: str, me: Iterable[str] = ()) -> dict[str, str]:
    """Ours: names given now, names remembered for this channel, staff names, 'Me'/'Saya'.
    In a one-to-one chat where only one side is known, the other person is the customer; where neither is,
    the chat's title (WhatsApp's 'WhatsApp Chat - Rina', Telegram's chat name) names the customer."""
    ours = our_name_keys(channel) | {name_key(name) for name in me}
    sides = {author: "staff" if name_key(author) in ours else "customer" for author in chat.authors}
    if chat.authors and all(side == "customer" for side in sides.values()) and chat.title:
        title = name_key(chat.title)
        titled = [a for a in chat.authors if name_key(a) in title or title in name_key(a)]
        if len(titled) == 1 and len(chat.authors) == 2:
            sides = {author: "customer" if author == titled[0] else "staff" for author in chat.authors}
    return sides


def customer_author(chat: ParsedChat, sides: dict[str, str]) -> str | None:
    customers = [author for author in chat.authors if sides.get(author) == "customer"]
    if len(customers) == 1:
        return customers[0]
    if chat.title:
        titled = [a for a in customers if name_key(a) == name_key(chat.title)]
        if len(titled) == 1:
            return titled[0]
    return None


def plan_chat(
    chat: ParsedChat,
    *,
    channel: str | None = None,
    me: Iterable[str] = (),
    sides: dict[str, str] | None = None,
    customer: Customer | None = None,
    customer_name: str | None = None,
    strict: bool = True,
) -> ChatPlan:
    """Decide sides, customer and channel; raises ImportProblem when the user has to choose
    (unless not strict: then the plan is a best guess for the user to correct, see `undecided`)."""
    channel = channel or chat.channel or FORMAT_CHANNELS.get(chat.format, "other")
    sides = {**guess_sides(chat, channel, me), **(sides or {})}
    if strict and not any(side == "staff" for side in sides.values()) and len(chat.authors) > 1:
        raise ImportProblem(gettext("cannot tell which of %(names)s is the shop: name the shop's side (--me NAME)",
                                    names=", ".join(chat.authors[:5])))
    author = customer_author(chat, sides)
    handle = chat.handles.get(author) if author else None
    if customer is not None:
        return ChatPlan(chat, channel, sides, customer, customer.display_name, "chosen", handle)
    fallback = "" if strict or not chat.authors else chat.authors[0]
    name = (customer_name or author or chat.title or fallback).strip()
    if not name:
        raise ImportProblem(gettext(
            "cannot tell who the customer is among %(names)s: choose the customer (--customer NAME)",
            names=", ".join(chat.authors[:5]) or gettext("no authors")))
    found, matched_by = match_customer(name, channel, handle)
    return ChatPlan(chat, channel, sides, found, name, matched_by, handle)


def match_customer(name: str, channel: str, handle: str | None) -> tuple[Customer | None, str | None]:
    """By phone number or handle where the export has one, else by a name only one customer has."""
    if handle:
        identity = find_identity(channel, handle)
        if identity and not identity.customer.deleted_at and not identity.customer.merged_into_id:
            return identity.customer, "handle"
    same_name = db.session.execute(
        live_customers().where(db.func.lower(Customer.display_name) == name.lower()).limit(2)
    ).scalars().all()
    if len(same_name) == 1:
        return same_name[0], "name"
    return None, None


def _local_to_utc(sent_at: datetime | None, zone) -> datetime | None:
    if sent_at is None:
        return None
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=zone)
    return sent_at.astimezone(timezone.utc)


@dataclass
class _Row:
    sent_at: datetime
    side: str
    author: str
    body: str
    attachments: str
    fingerprint: str


def _rows(plan: ChatPlan, customer_id: int) -> Iterator[_Row]:
    """Messages as rows with fingerprints; occurrence numbers count repeats within the same minute."""
    zone = shop_zone()
    now = datetime.now(timezone.utc)
    minute, seen, previous_body = None, {}, ""
    for message in plan.chat.messages():
        sent_at = _local_to_utc(message.sent_at, zone)
        body = message.body.strip() or ("\n".join(message.attachments))
        if not body:
            continue
        side = plan.sides.get(message.author, "customer")
        # Exports write the same photo as "<Media omitted>" or "<attached: ...jpg>": fingerprint it as media.
        same_text = "\x00media" if message.attachments and _is_placeholder(body) else body
        if sent_at is None:
            # No times (a plain paste): the message before it makes the fingerprint stable when pasted again.
            print_ = fingerprint(plan.channel, customer_id, UNTIMED, side, previous_body + "\x1e" + same_text, 1)
            sent_at = now
        else:
            this_minute = sent_at.replace(second=0, microsecond=0)
            if this_minute != minute:
                minute, seen = this_minute, {}
            key = (side, " ".join(same_text.split()))
            seen[key] = seen.get(key, 0) + 1
            print_ = fingerprint(plan.channel, customer_id, sent_at, side, same_text, seen[key])
        previous_body = same_text
        yield _Row(sent_at, side, message.author.strip()[:200], body, "\n".join(message.attachments), print_)


def _is_placeholder(body: str) -> bool:
    text = body.strip().casefold()
    return (text.startswith("<") and text.endswith(">")) or text.endswith(("omitted", "tidak disertakan",
                                                                          "(file attached)", "(file terlampir)"))


def _batches(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def save_chat(plan: ChatPlan, *, logged_by_id: int | None, summary: ImportSummary) -> None:
    """Add the chat's new messages; a gap longer than CONVERSATION_GAP_HOURS starts another conversation."""
    customer = plan.customer
    if customer is None:
        identities = []
        # A number that belongs to a customer in the trash stays theirs, so a restore finds it again.
        if plan.handle and find_identity(plan.channel, plan.handle) is None:
            try:
                normalise_handle(plan.channel, plan.handle)
                identities = [IdentityInput(plan.channel, plan.handle)]
            except InvalidHandle:
                pass
        customer = create_customer(plan.customer_name, identities=identities)
        summary.customers_created += 1
    else:
        summary.customers_matched += 1
    remember_our_names(plan.channel, [a for a, side in plan.sides.items() if side == "staff"])
    gap = timedelta(hours=current_app.config["CONVERSATION_GAP_HOURS"])
    matcher = current_matcher()
    touched: dict[int, Conversation] = {}
    spans: dict[int, list] = {}  # conversation id -> [first message time, last message time, last side]
    # The messages of a conversation this import creates are held until it ends, so its need tags go in first:
    # the search index carries each message's tags, and a tag added later re-indexes all of its messages.
    held: dict[int, list[dict]] = {}
    held_prints: set[str] = set()
    tagged_before: set[int] = set()
    current: Conversation | None = None
    last_time: datetime | None = None
    for batch in _batches(_rows(plan, customer.id), BATCH):
        existing = _existing([row.fingerprint for row in batch])
        ready = []
        created_at = datetime.now(timezone.utc)
        summary.future_dated += sum(1 for row in batch if in_the_future(row.sent_at))
        for row in batch:
            starts_session = last_time is None or row.sent_at - last_time > gap
            last_time = row.sent_at
            if row.fingerprint in held_prints:
                summary.duplicates_skipped += 1
                continue
            if row.fingerprint in existing:
                summary.duplicates_skipped += 1
                if starts_session or current is None:
                    current = db.session.get(Conversation, existing[row.fingerprint])
                    if current.deleted_at:  # logged before, then put in the trash: new messages go elsewhere
                        current = None
                continue
            if starts_session or current is None:
                if current is not None and current.id in held:
                    _save_new_conversation(current.id, held.pop(current.id), matcher)
                    tagged_before.add(current.id)
                    held_prints.clear()
                current = conversation_near(customer.id, plan.channel, row.sent_at)
                if current is None:
                    current = Conversation(customer_id=customer.id, channel=plan.channel, logged_by_id=logged_by_id)
                    db.session.add(current)
                    db.session.flush()
                    held[current.id] = []
            if current.id not in touched:
                touched[current.id] = current
                spans[current.id] = [current.first_message_at, current.last_message_at, current.last_side]
            span = spans[current.id]
            if span[0] is None or row.sent_at < span[0]:
                span[0] = row.sent_at
            if span[1] is None or row.sent_at >= span[1]:
                span[1], span[2] = row.sent_at, row.side
            message = {
                "conversation_id": current.id, "sent_at": row.sent_at, "side": row.side,
                "author_name": row.author, "body": row.body, "attachments": row.attachments,
                "fingerprint": row.fingerprint, "created_at": created_at,
            }
            if current.id in held and len(held[current.id]) < MAX_HELD:
                held[current.id].append(message)
                held_prints.add(row.fingerprint)
            else:
                if current.id in held:  # a huge single conversation: stop holding, tag it afterwards
                    ready.extend(held.pop(current.id))
                    held_prints.clear()
                ready.append(message)
            existing[row.fingerprint] = current.id  # a repeat later in the same file is a duplicate too
            summary.messages_imported += 1
        if ready:
            _insert_messages(ready)
    for conversation_id, rows in held.items():
        _save_new_conversation(conversation_id, rows, matcher)
        tagged_before.add(conversation_id)
    # Kept in plain lists while streaming: ORM attribute access per message cost more than the inserts.
    for conversation_id, (first, last, last_side) in spans.items():
        conversation = touched[conversation_id]
        conversation.first_message_at, conversation.last_message_at, conversation.last_side = first, last, last_side
    db.session.flush()
    if current is not None:
        summary.last_conversation_id = current.id
    summary.system_lines_skipped += plan.chat.system_lines_skipped
    summary.conversations += len(touched)
    summary.conversation_ids.extend(touched)
    tag_conversations([cid for cid in touched if cid not in tagged_before])


def _save_new_conversation(conversation_id: int, rows: list[dict], matcher) -> None:
    """Tags first (their reasons pointing at messages once those exist), then the messages, indexed once."""
    customer_rows = [row for row in rows if row["side"] == "customer"]
    matches = matcher.first_matches([row["body"] for row in customer_rows])
    now = datetime.now(timezone.utc)
    tags = ConversationTag.__table__
    if matches:
        db.session.execute(insert(tags), [
            {"conversation_id": conversation_id, "tag_id": int(key), "source": "auto", "reason_word": match.word,
             "reason_keyword": match.keyword, "created_at": now}
            for key, match in matches.items()
        ])
    _insert_messages(rows)
    if not matches:
        return
    prints = [customer_rows[match.message_index]["fingerprint"] for match in matches.values()]
    id_of = dict(db.session.execute(
        db.select(Message.fingerprint, Message.id).where(Message.fingerprint.in_(prints))).all())
    db.session.execute(
        db.update(tags).where(tags.c.conversation_id == conversation_id, tags.c.tag_id == bindparam("tag"))
        .values(reason_message_id=bindparam("reason")),
        [{"tag": int(key), "reason": id_of[customer_rows[match.message_index]["fingerprint"]]}
         for key, match in matches.items()],
    )


def _insert_messages(rows: list[dict]) -> None:
    """One multi-row INSERT per 1,000 messages rather than one statement per message: on SQLite each statement
    that fires the search index trigger gets a savepoint, and FTS5 writes its pending index out at every
    savepoint, which made row-by-row inserts nearly 3 times slower. Asking for RETURNING is what makes SQLAlchemy
    send them as "insertmanyvalues" pages (SQLite 3.35+; older ones get the plain executemany).
    A Core insert on the table, because the ORM's bulk insert costs as much again in Python per row."""
    statement = insert(Message.__table__)
    if db.engine.dialect.insert_executemany_returning:
        statement = statement.returning(Message.__table__.c.id)
    db.session.execute(statement, rows)


def need_tags_for(plan: ChatPlan) -> list[Tag]:
    """The need tags the customer's messages in this chat will get once saved (for the preview)."""
    bodies = [m.body for m in plan.chat.messages() if plan.sides.get(m.author, "customer") == "customer"]
    matches = current_matcher().first_matches(bodies)
    return [tag for tag in all_tags() if str(tag.id) in matches]


def future_dated(plan: ChatPlan) -> int:
    """How many of the chat's messages are dated after now (for the preview: a day and month read the wrong
    way round, or a phone's clock set wrong)."""
    zone = shop_zone()
    return sum(1 for message in plan.chat.messages()
               if message.sent_at is not None and in_the_future(_local_to_utc(message.sent_at, zone)))


def preview_rows(plan: ChatPlan, limit: int = 300) -> list[ParsedMessage]:
    rows = []
    for message in plan.chat.messages():
        rows.append(message)
        if len(rows) >= limit:
            break
    return rows


def import_path(
    path,
    *,
    format: str = "auto",
    channel: str | None = None,
    me: Iterable[str] = (),
    customer_name: str | None = None,
    logged_by_id: int | None = None,
    on_file=None,
) -> ImportSummary:
    """Import every chat under a file, zip or folder; the caller commits (or rolls back for a dry run).
    A chat that cannot be read or placed is reported with its file and line and the others go on;
    a database error propagates, so the caller's rollback leaves the database as it was."""
    summary = ImportSummary()
    sources = set()
    for chat in _chats_under(path, format):
        if on_file:
            on_file()
        if isinstance(chat, ParseError):
            sources.add(chat.source)
            summary.errors.append({"file": chat.source, "line": chat.line, "message": chat.message})
            continue
        sources.add(chat.source)
        try:
            plan = plan_chat(chat, channel=channel, me=me, customer_name=customer_name)
        except ImportProblem as problem:
            summary.errors.append({"file": chat.source, "line": None, "message": str(problem)})
            continue
        save_chat(plan, logged_by_id=logged_by_id, summary=summary)
    summary.files = len(sources)
    return summary


def _chats_under(path, format: str):
    if format == "auto" or Path(path).is_dir():
        yield from parse_path(path)
        return
    try:
        yield from parse_file(path, format=format)
    except ParseError as error:
        yield error
