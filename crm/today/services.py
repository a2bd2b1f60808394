"""Follow-ups, pipeline stage and sales (paid orders). Functions add and flush; the view commits once."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort

from ..admin import audit
from ..extensions import db
from ..formatting import shop_zone
from ..models import STAGES, Conversation, Customer, FollowUp, Message, Order, User, utcnow
from ..orders.services import record_paid_order
from .queue import ShopDay, latest_conversations, shop_day

# Quick choices: in how many days ("next week" is a week from today, not next Monday).
QUICK_DAYS = {"1d": 1, "3d": 3, "7d": 7}


def get_follow_up(follow_up_id: int) -> FollowUp:
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    if follow_up.customer.deleted_at or follow_up.customer.merged_into_id:
        abort(404)
    return follow_up


def due_at_for(when: str, day: ShopDay, picked: date | None = None, at: time | None = None,
               keep_time: time | None = None) -> tuple[datetime, bool]:
    """(due_at, has_time) for a quick choice ("1d", "3d", "7d") or a picked date with an optional time.

    A date without a time is stored as that day's 00:00 in the shop's zone: due all day."""
    if when in QUICK_DAYS:
        target, at = day.today + timedelta(days=QUICK_DAYS[when]), keep_time
    elif when == "date" and picked is not None:
        target, at = picked, at or keep_time
    else:
        raise ValueError(f"unknown follow-up time {when!r}")
    return datetime.combine(target, at or time(0), tzinfo=shop_zone()), at is not None


def add_follow_up(customer: Customer, *, due_at: datetime, has_time: bool, note: str = "",
                  assigned_to_id: int | None = None, conversation: Conversation | None = None,
                  created_by_id: int | None = None) -> FollowUp:
    follow_up = FollowUp(
        customer_id=customer.id, conversation_id=conversation.id if conversation else None, due_at=due_at,
        has_time=has_time, note=" ".join((note or "").split())[:500], assigned_to_id=assigned_to_id,
        created_by_id=created_by_id,
    )
    db.session.add(follow_up)
    db.session.flush()
    assigned = db.session.get(User, assigned_to_id) if assigned_to_id else None
    audit.record("follow_up_set", customer, customer.display_name, {
        **_due(follow_up), "note": follow_up.note, "assigned_to": assigned.name if assigned else None,
        "conversation_id": follow_up.conversation_id})
    return follow_up


def _due(follow_up: FollowUp) -> dict:
    """When it is due, as the audit trail shows it: a day, or a day and a time."""
    if follow_up.has_time:
        return {"due_at": follow_up.due_at}
    return {"due_on": follow_up.due_at.astimezone(shop_zone()).date()}


def mark_done(follow_up: FollowUp) -> None:
    if follow_up.done_at is None:
        follow_up.done_at = utcnow()
        audit.record("follow_up_done", follow_up.customer, follow_up.customer.display_name,
                     {**_due(follow_up), "note": follow_up.note})
    db.session.flush()


def snooze(follow_up: FollowUp, when: str, picked: date | None = None, day: ShopDay | None = None) -> None:
    """Move the due date from today (not from the old date: a week-old follow-up snoozed a day is due
    tomorrow); a timed follow-up keeps its time of day."""
    day = day or shop_day()
    kept = follow_up.due_at.astimezone(shop_zone()).time() if follow_up.has_time else None
    before = _due(follow_up)
    follow_up.due_at, follow_up.has_time = due_at_for(when, day, picked, keep_time=kept)
    db.session.flush()
    after = _due(follow_up)
    audit.record("follow_up_snoozed", follow_up.customer, follow_up.customer.display_name,
                 {"changed": {key: [before.get(key), after.get(key)] for key in {*before, *after}},
                  "note": follow_up.note})


def no_reply_needed(conversation: Conversation) -> bool:
    """Close the conversation's open wait by hand; it holds until the conversation's last message changes
    (a message logged meanwhile by a colleague keeps it open). False if it was not waiting."""
    if conversation.waiting_since is None:
        return False
    conversation.no_reply, conversation.no_reply_through = "marked", conversation.last_message_at
    db.session.flush()
    audit.record("no_reply_needed", conversation, conversation.customer.display_name,
                 {"last_message": _last_words(conversation)})
    return True


def reply_needed(conversation: Conversation) -> bool:
    """Undo: "no reply needed" said by hand, or a wait closed by itself on thanks, opens again. False if
    there was nothing to undo."""
    if conversation.no_reply not in ("marked", "thanks") or conversation.last_side != "customer":
        return False
    was = conversation.no_reply
    conversation.no_reply, conversation.no_reply_through = "needed", conversation.last_message_at
    db.session.flush()
    audit.record("reply_needed", conversation, conversation.customer.display_name,
                 {"was": was, "last_message": _last_words(conversation)})
    return True


def _last_words(conversation: Conversation) -> str:
    body = db.session.execute(
        db.select(Message.body).where(Message.conversation_id == conversation.id, Message.deleted_at.is_(None))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)
    ).scalar_one_or_none()
    return " ".join((body or "").split())[:120]


def open_follow_ups(customer: Customer) -> list[FollowUp]:
    return list(db.session.execute(
        db.select(FollowUp).where(FollowUp.customer_id == customer.id, FollowUp.done_at.is_(None))
        .order_by(FollowUp.due_at, FollowUp.id)
    ).scalars())


def set_stage(customer: Customer, stage: str, expected_value: int | None) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    before = {"stage": customer.stage, "expected_value": customer.expected_value}
    customer.stage = stage
    customer.expected_value = expected_value
    db.session.flush()
    changed = audit.changes(before, {"stage": stage, "expected_value": expected_value})
    if changed:
        audit.record("stage", customer, customer.display_name, {"changed": changed})


def record_sale(customer: Customer, *, amount: int | None, sold_on: date, channel: str,
                created_by_id: int | None = None) -> Order:
    """A sale makes the customer won: an order placed and paid that day (crm.orders), where "won" is counted.
    Its audit event is the sale's, on the customer (the order's own events would say the same thrice)."""
    stage_before = customer.stage
    order = record_paid_order(customer, amount=amount, paid_on=sold_on, channel=channel,
                              created_by_id=created_by_id, audited=False)
    details = {"amount": amount, "sold_on": sold_on, "channel": channel}
    if stage_before != "won":
        details["changed"] = {"stage": [stage_before, "won"]}
    audit.record("sale", customer, customer.display_name, details)
    return order


def default_sale_channel(customer: Customer) -> str:
    """The channel of the customer's latest conversation, else their first handle's, else "other"."""
    latest = latest_conversations([customer.id]).get(customer.id)
    if latest:
        return latest.channel
    return customer.identities[0].channel if customer.identities else "other"
