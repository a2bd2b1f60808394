"""Logging chats: messages land in the right conversation once, however often they are logged."""
from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import abort, current_app

from ..admin import audit
from ..extensions import db
from ..models import Conversation, Customer, FormSubmission, Message, utcnow
from ..needs.tagging import tag_conversation

FINGERPRINT_BATCH = 500
# The time in the fingerprint of a message pasted without times (see importing._rows).
UNTIMED = datetime(1970, 1, 1, tzinfo=timezone.utc)
# A chat form posted again after this long is a new chat, not a double click.
SUBMISSIONS_KEPT = timedelta(days=7)
# Clocks of phones and PCs differ by a minute or two; a message later than this after now is a mistake.
FUTURE_SLACK = timedelta(minutes=5)


def in_the_future(sent_at: datetime) -> bool:
    return sent_at > datetime.now(timezone.utc) + FUTURE_SLACK


@dataclass
class NewMessage:
    sent_at: datetime  # aware
    side: str  # "customer" or "staff"
    body: str
    author_name: str = ""
    attachments: tuple[str, ...] = ()


@dataclass
class LogResult:
    conversation: Conversation | None
    added: list[Message] = field(default_factory=list)
    duplicates: int = 0


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def earlier_submission(key: str | None) -> FormSubmission | None:
    """The saved post of this very form, if it was saved already (read under `hold_customers`)."""
    if not key:
        return None
    return db.session.execute(db.select(FormSubmission).where(FormSubmission.key == key[:64])).scalar_one_or_none()


def record_submission(key: str | None, conversation: Conversation | None, customer: Customer | None) -> None:
    if not key:
        return
    db.session.execute(db.delete(FormSubmission).where(FormSubmission.created_at < utcnow() - SUBMISSIONS_KEPT))
    db.session.add(FormSubmission(key=key[:64], conversation_id=conversation.id if conversation else None,
                                  customer_id=customer.id if customer else None))
    db.session.flush()


def get_conversation(conversation_id: int) -> Conversation:
    conversation = db.get_or_404(Conversation, conversation_id)
    if conversation.deleted_at or conversation.customer.deleted_at:
        abort(404)
    return conversation


def fingerprint(channel: str, customer_id: int, sent_at: datetime, side: str, body: str, occurrence: int) -> str:
    """Stable across re-logging: minute precision, because exports and copies differ in whether they show seconds."""
    minute = sent_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M")
    text = " ".join(body.split())
    key = f"{channel}\x1f{customer_id}\x1f{minute}\x1f{side}\x1f{text}\x1f{occurrence}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def print_text(body: str, attachments) -> str:
    """The text a fingerprint is made of. Exports write the same photo as "<Media omitted>" or
    "<attached: ...jpg>": it is fingerprinted as media."""
    return "\x00media" if attachments and _is_placeholder(body) else body


def _is_placeholder(body: str) -> bool:
    text = body.strip().casefold()
    return (text.startswith("<") and text.endswith(">")) or text.endswith(("omitted", "tidak disertakan",
                                                                          "(file attached)", "(file terlampir)"))


def _fingerprints(channel: str, customer_id: int, messages: list[NewMessage]) -> list[str]:
    # Two identical "ok"s in the same minute are two messages: the occurrence number tells them apart.
    seen: Counter = Counter()
    prints = []
    for message in messages:
        key = (message.sent_at.astimezone(timezone.utc).replace(second=0, microsecond=0), message.side,
               " ".join(message.body.split()))
        seen[key] += 1
        prints.append(fingerprint(channel, customer_id, message.sent_at, message.side, message.body, seen[key]))
    return prints


def _existing(prints: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(prints), FINGERPRINT_BATCH):
        chunk = prints[start : start + FINGERPRINT_BATCH]
        rows = db.session.execute(
            db.select(Message.fingerprint, Message.conversation_id).where(Message.fingerprint.in_(chunk))
        )
        found.update({print_: conversation_id for print_, conversation_id in rows})
    return found


def conversation_near(customer_id: int, channel: str, when: datetime) -> Conversation | None:
    """The live conversation on this channel whose messages are within CONVERSATION_GAP_HOURS of `when`."""
    gap = timedelta(hours=current_app.config["CONVERSATION_GAP_HOURS"])
    return db.session.execute(
        db.select(Conversation)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.channel == channel,
            Conversation.deleted_at.is_(None),
            Conversation.last_message_at >= when - gap,
            Conversation.first_message_at <= when + gap,
        )
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def log_chat(
    customer: Customer,
    channel: str,
    messages: list[NewMessage],
    *,
    logged_by_id: int | None,
    conversation: Conversation | None = None,
) -> LogResult:
    """Add the messages not logged before to one conversation: the given one, the one an overlapping copy
    already went to, a recent one on the same channel, or a new one."""
    messages = sorted((m for m in messages if m.body.strip() or m.attachments), key=lambda m: m.sent_at)
    if not messages:
        return LogResult(conversation)
    prints = _fingerprints(channel, customer.id, messages)
    existing = _existing(prints)
    fresh = [(m, p) for m, p in zip(messages, prints, strict=False) if p not in existing]
    result = LogResult(conversation, duplicates=len(messages) - len(fresh))
    if not fresh:
        if result.conversation is None:
            result.conversation = db.session.get(Conversation, next(iter(existing.values())))
        return result
    if conversation is None:
        live_matches = [cid for cid in existing.values()
                        if (c := db.session.get(Conversation, cid)) and not c.deleted_at]
        conversation = (
            db.session.get(Conversation, live_matches[-1]) if live_matches
            else conversation_near(customer.id, channel, fresh[0][0].sent_at)
        )
    if conversation is None:
        conversation = Conversation(customer=customer, channel=channel, logged_by_id=logged_by_id)
        db.session.add(conversation)
    for new, print_ in fresh:
        message = Message(
            sent_at=new.sent_at,
            side=new.side,
            author_name=new.author_name.strip()[:200],
            body=new.body.strip(),
            attachments="\n".join(new.attachments),
            fingerprint=print_,
        )
        conversation.messages.append(message)
        result.added.append(message)
    db.session.flush()
    refresh_conversation_times(conversation)
    tag_conversation(conversation)
    audit.record("log_chat", conversation, customer.display_name, {"messages": len(result.added), "channel": channel})
    result.conversation = conversation
    return result


THREAD_WINDOW = 100  # messages on a thread's page
CUSTOMER_PAGE_MESSAGES = 6  # the last messages of each conversation on a customer's page


@dataclass
class ThreadWindow:
    """The messages of a conversation shown at once, oldest first, and whether there are more around them."""

    messages: list[Message]
    earlier: bool  # messages before the first shown
    later: bool  # messages after the last shown
    next_at: datetime | None = None  # when the first message after the last shown was sent (marks go by it)

    @property
    def ids(self) -> set[int]:
        return {m.id for m in self.messages}


def _live_messages(conversation_id: int):
    return db.select(Message).where(Message.conversation_id == conversation_id, Message.deleted_at.is_(None))


def _after(message: Message):
    return db.or_(Message.sent_at > message.sent_at,
                  db.and_(Message.sent_at == message.sent_at, Message.id > message.id))


def _before(message: Message):
    return db.or_(Message.sent_at < message.sent_at,
                  db.and_(Message.sent_at == message.sent_at, Message.id < message.id))


def thread_window(conversation: Conversation, *, before: Message | None = None, start: Message | None = None,
                  size: int = THREAD_WINDOW) -> ThreadWindow:
    """The newest `size` messages; or the `size` just before one ("earlier"); or `size` from one on (a link
    to a message, "newer"). Each is one walk along (conversation_id, sent_at): a thread of 50,000 messages
    costs what one of 50 does."""
    base = _live_messages(conversation.id)
    if start is not None:
        rows = list(db.session.execute(
            base.where(db.or_(_after(start), Message.id == start.id))
            .order_by(Message.sent_at, Message.id).limit(size + 1)).scalars())
        earlier = db.session.execute(base.where(_before(start)).limit(1)).first() is not None
        return ThreadWindow(rows[:size], earlier, len(rows) > size, rows[size].sent_at if len(rows) > size else None)
    statement = base.where(_before(before)) if before is not None else base
    rows = list(db.session.execute(
        statement.order_by(Message.sent_at.desc(), Message.id.desc()).limit(size + 1)).scalars())
    return ThreadWindow(rows[:size][::-1], len(rows) > size, before is not None,
                        before.sent_at if before is not None else None)


def last_messages_of(conversations: list[Conversation], size: int = CUSTOMER_PAGE_MESSAGES
                     ) -> dict[int, ThreadWindow]:
    """The last few messages of each conversation (a customer's page): one short walk each."""
    return {conversation.id: thread_window(conversation, size=size) for conversation in conversations}


def refresh_conversation_times(conversation: Conversation) -> None:
    """First and last message times, who wrote last and the wait, from the live messages, now (crm.kept
    does it again before the commit, with whatever else changed)."""
    from ..kept import refresh_conversations

    db.session.flush()
    refresh_conversations([conversation.id])


def refingerprint(customer: Customer) -> None:
    """After a merge the messages belong to another customer: their fingerprints follow, made the way they were
    first made (a message with its time, or one of a paste without times, chained to the one before), so the
    same chat pasted or imported again is recognised as already there."""
    before = _merged_into(customer)
    for conversation in customer.conversations:
        messages = sorted(conversation.messages, key=lambda m: (m.sent_at, m.id))
        seen: Counter = Counter()
        previous, prints = "", []
        for message in messages:
            text = print_text(message.body, message.attachments)
            key = (message.sent_at.astimezone(timezone.utc).replace(second=0, microsecond=0), message.side,
                   " ".join(text.split()))
            seen[key] += 1
            chained = previous + "\x1e" + text
            pasted = {fingerprint(conversation.channel, cid, UNTIMED, message.side, chained, 1) for cid in before}
            if message.fingerprint in pasted:
                prints.append(fingerprint(conversation.channel, customer.id, UNTIMED, message.side, chained, 1))
            else:
                prints.append(fingerprint(conversation.channel, customer.id, message.sent_at, message.side, text,
                                          seen[key]))
            previous = text
        taken = _existing(prints)
        for message, print_ in zip(messages, prints, strict=True):
            message.fingerprint = None if taken.get(print_, conversation.id) != conversation.id else print_
    db.session.flush()


def _merged_into(customer: Customer) -> set[int]:
    """The customer's id and those of every customer merged into it, however indirectly."""
    found, frontier = {customer.id}, [customer.id]
    while frontier:
        merged = db.session.execute(
            db.select(Customer.id).where(Customer.merged_into_id.in_(frontier[:500]))).scalars().all()
        frontier = frontier[500:] + [cid for cid in merged if cid not in found]
        found.update(merged)
    return found
