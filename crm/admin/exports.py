"""The owner's exports: customers (with their orders' figures) and quick replies as CSV for Excel, conversations
with their messages and orders as JSON Lines.

Both are generators read in batches (yield_per, one partition at a time), so a shop with a million messages
streams them with flat memory. Deleted rows and customers merged into another are left out.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import and_, case, func
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..formatting import shop_zone
from ..identities import CHANNELS
from ..models import (
    ChannelIdentity,
    Conversation,
    ConversationTag,
    Customer,
    Message,
    Order,
    OrderStep,
    QuickReply,
    QuickReplyUse,
    ReplyLink,
    Tag,
    User,
)
from ..orders.services import is_paid

CUSTOMER_BATCH = 500
CONVERSATION_BATCH = 100
MESSAGE_BATCH = 1000
CHUNK_CHARS = 64 * 1024
# Excel on Windows reads a CSV as the ANSI code page unless it starts with a byte order mark.
BOM = "\ufeff"
CUSTOMER_COLUMNS = ("id", "name", "stage", "expected_value", "assigned_to", *CHANNELS, "notes",
                    "created_at", "updated_at", "address", "orders", "paid_orders", "paid_total_idr", "last_order_at")
# A cell starting with = + - @ is a formula to Excel ("=HYPERLINK(...)" typed as a customer's name);
# a quote in front keeps it text. Phone numbers like +6281234567890 stay as they are: no formula in them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HARMLESS = re.compile(r"[+-]?[\d\s.()-]*")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(shop_zone()).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    if text.startswith(_FORMULA_START) and not _HARMLESS.fullmatch(text):
        return "'" + text
    return text


def _active_customers():
    return (Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))


def customer_rows(batch: int = CUSTOMER_BATCH) -> Iterator[list[str]]:
    """One row per customer that is neither deleted nor merged away, handles in one column per channel."""
    statement = (
        db.select(Customer.id, Customer.display_name, Customer.stage, Customer.expected_value,
                  User.name.label("assigned_to"), Customer.notes, Customer.created_at, Customer.updated_at,
                  Customer.address)
        .outerjoin(User, Customer.assigned_to_id == User.id)
        .where(*_active_customers())
        .order_by(Customer.id)
        .execution_options(yield_per=batch)
    )
    for customers in db.session.execute(statement).partitions():
        handles: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        identities = db.session.execute(
            db.select(ChannelIdentity.customer_id, ChannelIdentity.channel, ChannelIdentity.handle)
            .where(ChannelIdentity.customer_id.in_([c.id for c in customers]))
            .order_by(ChannelIdentity.id)
        )
        for customer_id, channel, handle in identities:
            handles[customer_id][channel].append(handle)
        orders = _order_figures([c.id for c in customers])
        for c in customers:
            by_channel = handles[c.id]
            yield [_cell(v) for v in (
                c.id, c.display_name, c.stage, c.expected_value, c.assigned_to,
                *("; ".join(by_channel.get(channel, ())) for channel in CHANNELS),
                c.notes, c.created_at, c.updated_at, c.address, *orders.get(c.id, (0, 0, 0, None)),
            )]


def _order_figures(customer_ids: list[int]) -> dict[int, tuple]:
    """Each customer's orders (cancelled ones left out), paid orders and their total, and when they last ordered."""
    placed = db.aliased(OrderStep)
    rows = db.session.execute(
        db.select(Order.customer_id, func.count(Order.id),
                  func.sum(case((is_paid(), 1), else_=0)),
                  func.coalesce(func.sum(case((is_paid(), Order.total), else_=0)), 0), func.max(placed.at))
        .join(placed, and_(placed.order_id == Order.id, placed.status == "awaiting_payment"))
        .where(Order.customer_id.in_(customer_ids), Order.status != "cancelled")
        .group_by(Order.customer_id)
    )
    return {customer_id: (count, paid or 0, total or 0, last) for customer_id, count, paid, total, last in rows}


def customers_csv(delimiter: str = ",", batch: int = CUSTOMER_BATCH) -> Iterator[str]:
    """The CSV text in pieces: a BOM and the header, then a piece per batch of customers."""
    return _csv(CUSTOMER_COLUMNS, customer_rows(batch), delimiter)


QUICK_REPLY_COLUMNS = ("id", "shortcut", "title", "text", "for", "uses", "last_used_at", "created_at", "updated_at")


def quick_reply_rows() -> Iterator[list[str]]:
    """Every live quick reply, the shop's and each person's ("for": "shop" or the person's name), with its uses."""
    uses = (db.select(QuickReplyUse.quick_reply_id, db.func.count().label("uses"),
                      db.func.max(QuickReplyUse.used_at).label("last_used_at"))
            .group_by(QuickReplyUse.quick_reply_id).subquery())
    rows = db.session.execute(
        db.select(QuickReply.id, QuickReply.shortcut, QuickReply.title, QuickReply.body, User.name, uses.c.uses,
                  uses.c.last_used_at, QuickReply.created_at, QuickReply.updated_at)
        .outerjoin(User, QuickReply.personal_of_id == User.id)
        .outerjoin(uses, uses.c.quick_reply_id == QuickReply.id)
        .where(QuickReply.deleted_at.is_(None))
        .order_by(QuickReply.personal_of_id.is_not(None), User.name, QuickReply.shortcut, QuickReply.id)
    )
    for id_, shortcut, title, body, person, count, last_used, created, updated in rows:
        yield [_cell(v) for v in (id_, shortcut, title, body, person or "shop", count or 0,
                                  last_used, created, updated)]


def quick_replies_csv(delimiter: str = ",") -> Iterator[str]:
    return _csv(QUICK_REPLY_COLUMNS, quick_reply_rows(), delimiter)


def _csv(header: Iterable[str], rows: Iterable[list[str]], delimiter: str) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _message_json(m) -> str:
    return json.dumps({
        "id": m.id, "sent_at": _time(m.sent_at), "side": m.side, "author": m.author_name, "body": m.body,
        "attachments": m.attachments.split("\n") if m.attachments else [],
        "sent_via_link": m.sent_via_link is not None,
    }, ensure_ascii=False)


def _orders_of(conversation_ids: list[int]) -> dict[int, list[dict]]:
    """The orders made in these conversations, with their items and dated steps."""
    found: dict[int, list[dict]] = defaultdict(list)
    orders = db.session.execute(
        db.select(Order).where(Order.conversation_id.in_(conversation_ids))
        .options(selectinload(Order.items), selectinload(Order.steps)).order_by(Order.id)
    ).scalars()
    for o in orders:
        found[o.conversation_id].append({
            "id": o.id, "status": o.status, "total": o.total, "shipping_cost": o.shipping_cost,
            "discount": o.discount, "payment_method": o.payment_method, "courier": o.courier,
            "tracking_number": o.tracking_number, "recipient_name": o.recipient_name,
            "recipient_phone": o.recipient_phone, "address": o.address, "note": o.note,
            "items": [{"name": i.name, "variant": i.variant, "quantity": i.quantity, "unit_price": i.unit_price}
                      for i in o.items],
            "steps": [{"status": s.status, "at": _time(s.at), "message_id": s.message_id} for s in o.steps],
        })
    return found


def _messages_of(conversation_ids: list[int], batch: int) -> Iterator:
    statement = (
        db.select(Message.conversation_id, Message.id, Message.sent_at, Message.side, Message.author_name,
                  Message.body, Message.attachments, ReplyLink.id.label("sent_via_link"))
        .outerjoin(ReplyLink, ReplyLink.message_id == Message.id)
        .where(Message.conversation_id.in_(conversation_ids), Message.deleted_at.is_(None))
        .order_by(Message.conversation_id, Message.sent_at, Message.id)
        .execution_options(yield_per=batch)
    )
    for rows in db.session.execute(statement).partitions():
        yield from rows


def conversation_lines(batch: int = CONVERSATION_BATCH, message_batch: int = MESSAGE_BATCH) -> Iterator[str]:
    """JSON Lines, one conversation per line with its messages in order. A line is written in pieces, so even
    a conversation of 100,000 imported messages is never held whole."""
    statement = (
        db.select(Conversation.id, Conversation.channel, Conversation.customer_id,
                  Customer.display_name.label("customer_name"), User.name.label("logged_by"),
                  Conversation.first_message_at, Conversation.last_message_at, Conversation.created_at)
        .join(Customer, Conversation.customer_id == Customer.id)
        .outerjoin(User, Conversation.logged_by_id == User.id)
        .where(Conversation.deleted_at.is_(None), *_active_customers())
        .order_by(Conversation.id)
        .execution_options(yield_per=batch)
    )
    for conversations in db.session.execute(statement).partitions():
        ids = [c.id for c in conversations]
        tags: dict[int, list[str]] = defaultdict(list)
        for conversation_id, name in db.session.execute(
            db.select(ConversationTag.conversation_id, Tag.name).join(Tag, ConversationTag.tag_id == Tag.id)
            .where(ConversationTag.conversation_id.in_(ids), ConversationTag.removed_at.is_(None))
            .order_by(ConversationTag.conversation_id, Tag.name)
        ):
            tags[conversation_id].append(name)
        orders = _orders_of(ids)
        messages = _messages_of(ids, message_batch)
        pending = next(messages, None)
        for c in conversations:
            head = json.dumps({
                "id": c.id, "channel": c.channel, "customer": {"id": c.customer_id, "name": c.customer_name},
                "logged_by": c.logged_by, "first_message_at": _time(c.first_message_at),
                "last_message_at": _time(c.last_message_at), "created_at": _time(c.created_at),
                "tags": tags[c.id], "orders": orders.get(c.id, []),
            }, ensure_ascii=False)
            pieces = [head[:-1], ', "messages": [']
            size = 0
            first = True
            while pending is not None and pending.conversation_id == c.id:
                piece = ("" if first else ", ") + _message_json(pending)
                pieces.append(piece)
                size += len(piece)
                first = False
                if size >= CHUNK_CHARS:
                    yield "".join(pieces)
                    pieces, size = [], 0
                pending = next(messages, None)
            pieces.append("]}\n")
            yield "".join(pieces)


def in_chunks(pieces: Iterable[str], size: int = CHUNK_CHARS) -> Iterator[bytes]:
    """Gather small pieces into writes of about `size` characters, as UTF-8."""
    gathered, length = [], 0
    for piece in pieces:
        gathered.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(gathered).encode("utf-8")
            gathered, length = [], 0
    if gathered:
        yield "".join(gathered).encode("utf-8")
