"""The trash: deleting a customer, conversation, message or quick reply sets its deleted_at; the owner can restore it
for TRASH_DAYS days, after which it is deleted for good (`purge_expired`, run by `flask purge-trash` and
whenever the owner opens the trash). Emptying the trash deletes everything in it for good at once.

Every query that lists live data already leaves out rows with deleted_at set, and a customer's
conversations are hidden with the customer (their own deleted_at stays empty), so restoring a customer
brings its conversations back. Deleting for good removes the rows; the database's ON DELETE CASCADE takes
their handles, conversations, messages, tags, follow-ups and sales with them, and a message's fingerprint
goes with its row, so the same message can be logged again afterwards.

Functions add and flush, and each records its audit event in the same transaction; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import format_date

from ..conversations.services import refresh_conversation_times
from ..extensions import db
from ..formatting import CHANNEL_LABELS, to_local
from ..models import Conversation, Customer, Message, QuickReply, utcnow
from . import audit

TRASH_DAYS = 30
KINDS = {"customer": Customer, "conversation": Conversation, "message": Message, "quickreply": QuickReply}
LISTED = 100  # per kind on the trash page; the counts tell how many more there are


class ParentInTrash(ValueError):
    """A conversation or message cannot come back while what it belongs to is still in the trash."""

    def __init__(self, parent):
        super().__init__(f"{type(parent).__name__.lower()} {parent.id} is in the trash")
        self.parent = parent


def in_trash(model):
    """Rows in the trash. An import still running hides what it writes the same way; those are not the trash."""
    condition = model.deleted_at.is_not(None)
    if hasattr(model, "import_job_id"):
        condition = condition & model.import_job_id.is_(None)
    return condition


def kind_of(item) -> str:
    return type(item).__name__.lower()


def get_trashed(kind: str, item_id: int):
    """The item of that kind in the trash, or None."""
    model = KINDS.get(kind)
    item = db.session.get(model, item_id) if model else None
    if item is None or item.deleted_at is None or getattr(item, "import_job_id", None) is not None:
        return None
    return item


def describe(item) -> str:
    """What the item is, in the shop's own words: the audit summary and the trash page's line."""
    if isinstance(item, Customer):
        return item.display_name
    if isinstance(item, Conversation):
        when = format_date(to_local(item.first_message_at).date(), "medium") if item.first_message_at else ""
        channel = str(CHANNEL_LABELS.get(item.channel, item.channel))
        return " · ".join(part for part in (item.customer.display_name, channel, when) if part)
    if isinstance(item, Message):
        body = " ".join(item.body.split())
        return f"{item.conversation.customer.display_name}: {body[:120]}"
    if isinstance(item, QuickReply):
        return f"/{item.shortcut} · {item.title}"
    raise TypeError(f"{item!r} cannot go to the trash")


def move_to_trash(item) -> None:
    """Hide a customer (with its conversations), a conversation or a message until restored or purged."""
    if item.deleted_at is not None:
        return
    item.deleted_at = utcnow()
    db.session.flush()
    if isinstance(item, Message):
        _message_changed(item.conversation)
    audit.record("delete", item, describe(item), _details(item))


def restore(item) -> None:
    """Bring an item back from the trash; raises ParentInTrash if its customer or conversation is there too,
    and ShortcutTaken for a quick reply whose shortcut another one has taken meanwhile."""
    if item.deleted_at is None:
        return
    parent = _trashed_parent(item)
    if parent is not None:
        raise ParentInTrash(parent)
    if isinstance(item, QuickReply):
        from ..replies.services import check_shortcut_free

        check_shortcut_free(item)  # raises ShortcutTaken
    item.deleted_at = None
    db.session.flush()
    if isinstance(item, Message):
        _message_changed(item.conversation)
    audit.record("restore", item, describe(item), _details(item))


def _trashed_parent(item):
    conversation = item.conversation if isinstance(item, Message) else item if isinstance(item, Conversation) else None
    if conversation is None:
        return None
    if conversation is not item and conversation.deleted_at is not None:
        return conversation
    if conversation.customer.deleted_at is not None:
        return conversation.customer
    return None


def _message_changed(conversation: Conversation) -> None:
    # The thread's first/last times and who spoke last, and the automatic tags, follow the live messages.
    from ..needs.tagging import tag_conversation

    refresh_conversation_times(conversation)
    tag_conversation(conversation)


def _details(item) -> dict:
    if isinstance(item, Customer):
        return {"handles": [identity.display for identity in item.identities]}
    if isinstance(item, Conversation):
        return {"customer_id": item.customer_id, "channel": item.channel}
    if isinstance(item, QuickReply):
        return {"shortcut": item.shortcut, "title": item.title, "body": item.body, "personal": item.is_personal}
    return {"conversation_id": item.conversation_id, "sent_at": item.sent_at, "side": item.side}


# --- what is in the trash ------------------------------------------------------------------------------


@dataclass
class TrashItem:
    kind: str
    item: object
    description: str
    deleted_at: datetime
    purge_on: datetime
    deleted_by: str | None  # the name recorded when it was moved to the trash; None from the CLI
    parent_in_trash: object | None


@dataclass
class TrashContents:
    items: dict[str, list[TrashItem]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def contents(limit: int = LISTED) -> TrashContents:
    """Up to `limit` items of each kind, most recently deleted first, with who deleted them."""
    found = TrashContents()
    for kind, model in KINDS.items():
        found.counts[kind] = db.session.execute(
            db.select(db.func.count()).select_from(model).where(in_trash(model))).scalar_one()
        rows = db.session.execute(
            db.select(model).where(in_trash(model)).order_by(model.deleted_at.desc(), model.id.desc()).limit(limit)
        ).scalars().all()
        deletions = audit.last_events("delete", kind, [row.id for row in rows])
        found.items[kind] = [
            TrashItem(
                kind, row, describe(row), row.deleted_at, row.deleted_at + timedelta(days=TRASH_DAYS),
                deletions[row.id].user_name or None if row.id in deletions else None,
                _trashed_parent(row),
            )
            for row in rows
        ]
    return found


# --- deleting for good ---------------------------------------------------------------------------------


def _cutoff(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=TRASH_DAYS)


def anything_expired(now: datetime | None = None) -> bool:
    """Cheap: one indexed look per kind, so the trash page can ask every time it is shown."""
    cutoff = _cutoff(now)
    return any(
        db.session.execute(
            db.select(model.id).where(in_trash(model), model.deleted_at < cutoff).limit(1)
        ).first()
        for model in KINDS.values()
    )


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Delete for good what has been in the trash longer than TRASH_DAYS days; the system, not a user, does it."""
    if not anything_expired(now):
        return {kind: 0 for kind in KINDS}
    counts = _delete_for_good(_cutoff(now))
    audit.record("purge", "trash", "", counts, user=None)
    return counts


def empty_trash() -> dict[str, int]:
    """Delete for good everything in the trash (the owner's choice, after confirming)."""
    counts = _delete_for_good(None)
    audit.record("empty_trash", "trash", "", counts)
    return counts


def _delete_for_good(cutoff: datetime | None) -> dict[str, int]:
    db.session.flush()
    counts = {}
    for kind, model in KINDS.items():
        condition = in_trash(model)
        if cutoff is not None:
            condition = condition & (model.deleted_at < cutoff)
        ids = db.session.execute(db.select(model.id).where(condition)).scalars().all()
        counts[kind] = len(ids)
        if kind == "customer":
            ids = _with_customers_merged_into(ids)
        for start in range(0, len(ids), 500):
            db.session.execute(
                db.delete(model).where(model.id.in_(ids[start : start + 500])),
                execution_options={"synchronize_session": False},
            )
    # The database cascaded to rows this session may hold: forget them all, read afresh from here on.
    db.session.expire_all()
    return counts


def _with_customers_merged_into(customer_ids: list[int]) -> list[int]:
    # A customer merged away is an empty pointer to the survivor; once the survivor is gone for good, so is it,
    # or it would turn up again as a live customer of its own.
    found, frontier = set(customer_ids), list(customer_ids)
    while frontier:
        merged = db.session.execute(
            db.select(Customer.id).where(Customer.merged_into_id.in_(frontier[:500]))
        ).scalars().all()
        frontier = frontier[500:] + [cid for cid in merged if cid not in found]
        found.update(merged)
    return sorted(found)
