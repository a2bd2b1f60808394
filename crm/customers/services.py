"""Customers and their channel identities. Functions add and flush; the caller commits once."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, redirect, url_for
from sqlalchemy import func, or_

from ..admin import audit
from ..extensions import db
from ..identities import InvalidHandle, normalise_handle, phone_fragment_digits
from ..models import ChannelIdentity, Conversation, Customer, FollowUp, Order, User, utcnow


class IdentityTaken(ValueError):
    def __init__(self, identity: ChannelIdentity):
        super().__init__(f"{identity.display} belongs to {identity.customer.display_name} already")
        self.identity = identity


@dataclass
class IdentityInput:
    channel: str
    handle: str


def live_customers():
    return db.select(Customer).where(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))


def get_customer(customer_id: int) -> Customer:
    """The customer, or 404; a customer merged away leads to the one it was merged into."""
    customer = db.get_or_404(Customer, customer_id)
    if customer.merged_into_id:
        abort(redirect(url_for("customers.show", customer_id=customer.merged_into_id), 301))
    if customer.deleted_at:
        abort(404)
    return customer


def last_activity():
    """When a customer last wrote or was written to; their creation time before any chat."""
    latest_chat = (
        db.select(func.max(Conversation.last_message_at))
        .where(Conversation.customer_id == Customer.id, Conversation.deleted_at.is_(None))
        .correlate(Customer)
        .scalar_subquery()
    )
    return func.coalesce(latest_chat, Customer.created_at)


def customers_by_activity():
    activity = last_activity().label("last_activity")
    return live_customers().add_columns(activity).order_by(activity.desc(), Customer.id.desc())


def find_identity(channel: str, raw_handle: str) -> ChannelIdentity | None:
    try:
        handle = normalise_handle(channel, raw_handle)
    except InvalidHandle:
        return None
    return db.session.execute(
        db.select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.handle == handle)
    ).scalar_one_or_none()


def add_identity(customer: Customer, channel: str, raw_handle: str) -> ChannelIdentity:
    """Attach a handle; raises InvalidHandle for a malformed one and IdentityTaken if another customer has it."""
    handle = normalise_handle(channel, raw_handle)
    existing = db.session.execute(
        db.select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.handle == handle)
    ).scalar_one_or_none()
    if existing:
        if existing.customer_id == customer.id:
            return existing
        raise IdentityTaken(existing)
    identity = ChannelIdentity(channel=channel, handle=handle)
    customer.identities.append(identity)
    db.session.flush()
    return identity


def create_customer(
    display_name: str, *, notes: str = "", identities: list[IdentityInput] = (), assigned_to_id: int | None = None,
    audited: bool = True,
) -> Customer:
    """A new customer; audited=False when the caller adds more first and then calls record_customer_created."""
    customer = Customer(display_name=" ".join(display_name.split()), notes=notes or "", assigned_to_id=assigned_to_id)
    db.session.add(customer)
    db.session.flush()
    for identity in identities:
        add_identity(customer, identity.channel, identity.handle)
    if audited:
        record_customer_created(customer)
    return customer


def record_customer_created(customer: Customer) -> None:
    db.session.flush()
    fields = {key: value for key, value in audited_fields(customer).items()
              if key != "display_name" and value not in (None, "", [], "none")}
    audit.record("create", customer, customer.display_name, fields)


def _handles(customer: Customer) -> list[str]:
    return [identity.display for identity in customer.identities]


def audited_fields(customer: Customer) -> dict:
    """What an edit can change, as it reads: taken before an edit and compared after it."""
    assigned = db.session.get(User, customer.assigned_to_id) if customer.assigned_to_id else None
    return {
        "display_name": customer.display_name,
        "notes": customer.notes,
        "address": customer.address,
        "assigned_to": assigned.name if assigned else None,
        "stage": customer.stage,
        "expected_value": customer.expected_value,
        "handles": _handles(customer),
    }


def record_customer_edit(customer: Customer, before: dict) -> None:
    """The audit event of an edit, with each changed field before and after; nothing if nothing changed."""
    db.session.flush()
    changed = audit.changes(before, audited_fields(customer))
    if changed:
        audit.record("edit", customer, customer.display_name, {"changed": changed})


def remove_channel_identity(identity: ChannelIdentity) -> None:
    customer = identity.customer
    shown = identity.display
    customer.identities.remove(identity)
    db.session.flush()
    audit.record("identity_removed", customer, customer.display_name, {"handle": shown})


def find_customers(query: str, limit: int = 10) -> list[Customer]:
    """Customers whose name or any handle contains what was typed; phone fragments match any way they are written."""
    text = " ".join(query.split())
    if not text:
        return []
    conditions = [Customer.display_name.ilike(f"%{_escape_like(text)}%", escape="\\")]
    handle_text = text.removeprefix("@").lower()
    handle_match = ChannelIdentity.handle.ilike(f"%{_escape_like(handle_text)}%", escape="\\")
    digits = phone_fragment_digits(text)
    if digits:
        handle_match = or_(handle_match, ChannelIdentity.handle.like(f"+%{digits}%"))
    conditions.append(
        Customer.id.in_(db.select(ChannelIdentity.customer_id).where(handle_match))
    )
    statement = customers_by_activity().where(or_(*conditions)).limit(limit)
    return list(db.session.execute(statement).scalars())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def merge_customers(survivor: Customer, merged: Customer) -> Customer:
    """Move everything of `merged` onto `survivor`; the merged row stays as a pointer, so nothing is lost."""
    if survivor.id == merged.id:
        raise ValueError("a customer cannot be merged into itself")
    for identity in list(merged.identities):
        identity.customer_id = survivor.id
    db.session.flush()
    db.session.expire(merged, ["identities"])
    db.session.expire(survivor, ["identities", "conversations"])
    for model in (Conversation, FollowUp, Order):
        db.session.execute(
            db.update(model).where(model.customer_id == merged.id).values(customer_id=survivor.id)
        )
    if merged.notes.strip():
        joined = f"{survivor.notes.rstrip()}\n\n{merged.display_name}: {merged.notes.strip()}".strip()
        survivor.notes = joined
    if survivor.assigned_to_id is None:
        survivor.assigned_to_id = merged.assigned_to_id
    merged.merged_into_id = survivor.id
    survivor.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "merge", survivor, f"{merged.display_name} → {survivor.display_name}",
        {"merged_id": merged.id, "merged_name": merged.display_name, "handles": _handles(survivor)},
    )
    return survivor
