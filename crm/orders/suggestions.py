"""What a conversation suggests doing with its orders: pure, no database. The shop confirms each one; nothing here
changes anything.

    suggest(lines, orders, used=..., dismissed=...)

- "new_order": a message holding a format order (reading.read_order_form), with the total, shipping and discount
  of a later message ("total 370rb + ongkir 15rb") until the next format order;
- "paid": a customer saying they paid ("sudah transfer kak", "bukti tf"), for their latest order placed before it
  that is not paid yet; `proof` says whether a photo came with it or right before or after it (a transfer
  screenshot): without one the page says to check the bank first (a copied WhatsApp chat carries no photos);
- "shipped": a tracking number (tracking.tracking_numbers) for their latest order placed before it and not shipped;
- "delivered": a customer saying the parcel came, for their latest shipped order.

A suggestion someone accepted (its message is the order's source, or a step's message) or dismissed is not made
again. "paid", "shipped" and "delivered" with no order to go to are still made, with order_id None, so the page
can say to create the order first.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from .reading import OrderFormReading, Said, delivery_said, has_image, payment_said, read_order_form, read_totals
from .tracking import TrackingNumber, tracking_numbers

KINDS = ("new_order", "paid", "shipped", "delivered")
PROOF_WINDOW = timedelta(minutes=10)  # a screenshot sent this close to "sudah transfer" is its proof


@dataclass(frozen=True)
class ChatLine:
    key: int  # the message's id (or its place in a pasted chat)
    side: str
    body: str
    sent_at: datetime | None
    attachments: str = ""


@dataclass(frozen=True)
class OrderState:
    id: int
    status: str
    ordered_at: datetime
    payment_method: str | None = None
    tracking_number: str = ""
    paid: bool = False


@dataclass(frozen=True)
class Suggestion:
    kind: str
    key: int  # the message it comes from
    words: tuple[str, ...]  # what in the message made it, as written
    excerpt: str
    order_id: int | None = None
    reading: OrderFormReading | None = None  # new_order
    tracking: TrackingNumber | None = None  # shipped
    proof: bool = False  # paid: a photo came with it
    sent_at: datetime | None = None
    extra_words: tuple[str, ...] = field(default=())  # new_order: the later message's total and shipping


_OPEN = ("awaiting_payment", "paid", "packed")


def suggest(lines: Sequence[ChatLine], orders: Iterable[OrderState] = (), *,
            used: frozenset[tuple[str, int]] | set = frozenset(),
            dismissed: frozenset[tuple[str, int]] | set = frozenset()) -> list[Suggestion]:
    """Every suggestion of the conversation, in the order of its messages (see the module's docstring)."""
    orders = sorted(orders, key=lambda o: (o.ordered_at, o.id))
    skip = set(used) | set(dismissed)
    found: list[Suggestion] = []
    pending: Suggestion | None = None  # the latest format order, until a total fills it
    for index, line in enumerate(lines):
        body = line.body or ""
        reading = read_order_form(body)
        if reading is not None:
            pending = None
            if ("new_order", line.key) not in skip:
                pending = Suggestion("new_order", line.key, reading.keys, _excerpt(body), reading=reading,
                                     sent_at=line.sent_at)
                found.append(pending)
            continue
        if pending is not None and line.side == "staff":
            totals = read_totals(body)
            if totals.total is not None or totals.shipping_cost is not None:
                filled = replace(
                    pending.reading,
                    total=pending.reading.total if pending.reading.total is not None else totals.total,
                    shipping_cost=(pending.reading.shipping_cost if pending.reading.shipping_cost is not None
                                   else totals.shipping_cost),
                    discount=pending.reading.discount if pending.reading.discount is not None else totals.discount)
                updated = replace(pending, reading=filled, extra_words=pending.extra_words + totals.words)
                found[found.index(pending)] = updated
                pending = updated if totals.total is None else None
        if line.side == "customer":
            said = payment_said(body)
            if said and ("paid", line.key) not in skip:
                target = _latest(orders, line.sent_at, lambda o: not o.paid and o.status in _OPEN + ("shipped",)
                                 and o.payment_method != "cod")
                proof = _proof(lines, index)
                found.append(_said_suggestion("paid", line, said, target, proof=proof))
                continue
            said = delivery_said(body)
            if said and ("delivered", line.key) not in skip:
                target = _latest(orders, line.sent_at, lambda o: o.status == "shipped")
                if target is not None or any(o.status not in ("delivered", "returned", "cancelled") for o in orders):
                    found.append(_said_suggestion("delivered", line, said, target))
                continue
        for number in tracking_numbers(body):
            if ("shipped", line.key) in skip or any(o.tracking_number == number.number for o in orders):
                continue
            target = _latest(orders, line.sent_at, lambda o: o.status in _OPEN)
            found.append(Suggestion("shipped", line.key, number.words + (number.number,), _excerpt(body),
                                    order_id=target.id if target else None, tracking=number, sent_at=line.sent_at))
            break  # one parcel per message: a second number is most often the same one again
    return found


def _said_suggestion(kind: str, line: ChatLine, said: Said, target: OrderState | None, proof: bool = False):
    return Suggestion(kind, line.key, (said.word,), said.excerpt, order_id=target.id if target else None,
                      proof=proof, sent_at=line.sent_at)


def _latest(orders: list[OrderState], moment: datetime | None, wanted) -> OrderState | None:
    """The latest order placed before the message (or any, for a message without a time) that `wanted` takes."""
    for order in reversed(orders):
        if (moment is None or order.ordered_at <= moment + timedelta(minutes=1)) and wanted(order):
            return order
    return None


def _proof(lines: Sequence[ChatLine], index: int) -> bool:
    line = lines[index]
    if has_image(line.attachments, line.body):
        return True
    for near in (index - 1, index + 1):
        if 0 <= near < len(lines):
            other = lines[near]
            close = (line.sent_at is None or other.sent_at is None
                     or abs(other.sent_at - line.sent_at) <= PROOF_WINDOW)
            if other.side == "customer" and close and has_image(other.attachments, other.body):
                return True
    return False


def _excerpt(body: str, width: int = 120) -> str:
    text = " ".join(body.split())
    return text if len(text) <= width else text[: width - 1] + "…"
