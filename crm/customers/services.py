"""Customers and their channel identities. Functions add and flush; the caller commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, redirect, url_for
from flask_babel import gettext
from sqlalchemy import func, or_

from ..admin import audit
from ..extensions import db
from ..identities import InvalidHandle, normalise_handle, phone_fragment_digits
from ..kept import mark_customers
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


def customer_since(customer: Customer) -> datetime:
    """Their first message, or when they were added if that was earlier: an import made today of a chat that
    began in March makes a customer since March. Kept (crm.kept) as `since_at`, which the list orders by."""
    return customer.since_at or customer.created_at


def customers_by_activity():
    return live_customers().order_by(Customer.last_activity_at.desc(), Customer.id.desc())


def usual_channels(customers: list[Customer]) -> dict[int, str]:
    """The channel a new chat with each customer is most likely on: that of their latest conversation, or,
    before any, their only kind of number or handle. Customers with neither (or several kinds) are left out."""
    ids = [customer.id for customer in customers]
    if not ids:
        return {}
    latest = (
        db.select(Conversation.customer_id, Conversation.channel,
                  func.row_number().over(partition_by=Conversation.customer_id,
                                         order_by=(Conversation.last_message_at.desc().nulls_last(),
                                                   Conversation.id.desc())).label("rank"))
        .where(Conversation.customer_id.in_(ids), Conversation.deleted_at.is_(None))
        .subquery()
    )
    found = dict(db.session.execute(db.select(latest.c.customer_id, latest.c.channel).where(latest.c.rank == 1)).all())
    for customer in customers:
        kinds = {identity.channel for identity in customer.identities}
        if customer.id not in found and len(kinds) == 1:
            found[customer.id] = kinds.pop()
    return found


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


@dataclass
class IdentityRow:
    """A row of the Edit page: a saved identity (identity_id) changed, emptied or ticked "remove"; or a new one."""

    identity_id: int | None
    channel: str
    handle: str
    remove: bool = False


@dataclass
class IdentityProblem:
    message: str
    taken_by: Customer | None = None  # who has the number already, for a link to them
    handle: str = ""


def save_identities(customer: Customer, rows: list[IdentityRow]) -> dict[int, IdentityProblem]:
    """Change, remove and add the customer's numbers and handles as the rows say, all or nothing: the problems
    by row index, and nothing changed, if any row is refused. A changed number replaces the old one."""
    own = {identity.id: identity for identity in customer.identities}
    problems: dict[int, IdentityProblem] = {}
    wanted: dict[tuple[str, str], int] = {}  # (channel, handle) -> the row that keeps it
    changes: list[tuple[ChannelIdentity, tuple[str, str]]] = []
    removed: list[ChannelIdentity] = []
    for index, row in enumerate(rows):
        identity = own.get(row.identity_id) if row.identity_id else None
        text = (row.handle or "").strip()
        if identity is not None and (row.remove or not text):
            removed.append(identity)
            continue
        if not text or row.remove:
            continue
        channel = identity.channel if identity is not None else row.channel
        try:
            key = (channel, normalise_handle(channel, text))
        except InvalidHandle as error:
            problems[index] = IdentityProblem(gettext("Not valid: %(reason)s.", reason=str(error)))
            continue
        if key in wanted:  # the same number twice on the page: one is enough
            if identity is not None:
                removed.append(identity)
            continue
        wanted[key] = index
        if identity is None or (identity.channel, identity.handle) != key:
            changes.append((identity, key))
    for _identity, (channel, handle) in changes:
        taken = db.session.execute(
            db.select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.handle == handle,
                                             ChannelIdentity.customer_id != customer.id)
        ).scalar_one_or_none()
        if taken is not None:
            problems[wanted[(channel, handle)]] = _taken_problem(taken)
    if problems:
        return problems
    for identity in removed:
        customer.identities.remove(identity)
    db.session.flush()
    # Changed ones step aside first, so two numbers swapped between rows never meet in the unique index.
    changed = [identity for identity, _key in changes if identity is not None]
    for identity in changed:
        identity.handle = f" moving {identity.id}"  # no stored handle starts with a space
    db.session.flush()
    for identity, (channel, handle) in changes:
        if identity is None:
            customer.identities.append(ChannelIdentity(channel=channel, handle=handle))
        else:
            identity.handle = handle
    db.session.flush()
    return {}


def _taken_problem(taken: ChannelIdentity) -> IdentityProblem:
    other = taken.customer
    if other.deleted_at:
        return IdentityProblem(gettext(
            "%(handle)s belongs to %(name)s, who is in the trash; the owner can restore them.",
            handle=taken.display, name=other.display_name))
    return IdentityProblem(gettext("%(handle)s belongs to %(name)s already.", handle=taken.display,
                                   name=other.display_name), taken_by=other, handle=taken.display)


def find_customers(query: str, limit: int = 10) -> list[Customer]:
    """Customers whose name or any handle contains what was typed; phone fragments match any way they are written."""
    if not " ".join(query.split()):
        return []
    statement = customers_by_activity().where(name_or_handle_matches(query)).limit(limit)
    return list(db.session.execute(statement).scalars())


def name_or_handle_matches(query: str):
    """The condition: the name or a handle contains the text (a phone number however it is typed)."""
    text = " ".join(query.split())
    conditions = [Customer.display_name.ilike(f"%{_escape_like(text)}%", escape="\\")]
    handle_text = text.removeprefix("@").lower()
    handle_match = ChannelIdentity.handle.ilike(f"%{_escape_like(handle_text)}%", escape="\\")
    digits = phone_fragment_digits(text)
    if digits:
        handle_match = or_(handle_match, ChannelIdentity.handle.like(f"+%{digits}%"))
    conditions.append(Customer.id.in_(db.select(ChannelIdentity.customer_id).where(handle_match)))
    return or_(*conditions)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def current_customer(customer: Customer) -> Customer | None:
    """The customer as they are now: the one they were merged into (meanwhile, by a colleague), or None if they
    are in the trash. Read after `hold_customers`, this stays true until the caller commits."""
    seen = set()
    while customer is not None and customer.merged_into_id and customer.id not in seen:
        seen.add(customer.id)
        customer = db.session.get(Customer, customer.merged_into_id)
    if customer is None or customer.deleted_at or customer.merged_into_id:
        return None
    return customer


def merge_refusal(survivor: Customer, merged: Customer) -> tuple[str, Customer | None] | None:
    """Why these two cannot be merged now (a colleague merged or trashed one of them meanwhile), with the
    customer to show instead; None if they can. Checked after `hold_customers`, so it holds until commit."""
    for customer in (survivor, merged):
        if customer.deleted_at:
            return gettext("%(name)s was moved to the trash meanwhile; nothing was merged.",
                           name=customer.display_name), current_customer(survivor)
        if customer.merged_into_id:
            into = current_customer(customer)
            return gettext("%(name)s was merged into %(other)s meanwhile; nothing else was merged.",
                           name=customer.display_name, other=into.display_name if into else "?"), into
    if survivor.id == merged.id:
        return gettext("A customer cannot be merged into themselves."), survivor
    return None


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
    mark_customers([survivor.id, merged.id])  # UPDATEs bypass the session's own marking
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
