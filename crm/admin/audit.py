"""The audit trail: who created, changed, merged, deleted, restored, exported or backed up what, and when.

`record()` adds an event in the caller's transaction and flushes, like every service function: the view
or command commits once, so a change that is rolled back leaves no event behind. Events are only ever
added: no function here (and no route anywhere) changes or deletes one.

An event's `summary` names the target in the data's own words ("Rina", "rina@tokosari.id", a file name);
the sentence around it ("Moved to the trash") comes from ACTION_LABELS at display time, in the reader's
language. `details` is optional JSON, e.g. {"changed": {"stage": ["new_lead", "won"]}} for an edit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import g, has_app_context, has_request_context
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..formatting import CHANNEL_LABELS, SIDE_LABELS, STAGE_LABELS, local_time, rupiah, shop_zone
from ..models import AuditEvent, User
from ..orders.labels import COURIER_LABELS, PAYMENT_LABELS, STATUS_LABELS

# Well-known actions and how they read on the audit page; another area may record its own action names
# (they are shown as written until a label is added here).
ACTION_LABELS = {
    "create": _l("Created"),
    "edit": _l("Changed"),
    "merge": _l("Merged"),
    "identity_removed": _l("Removed a number or handle"),
    "log_chat": _l("Logged a chat"),
    "no_reply_needed": _l("No reply needed"),
    "reply_needed": _l("Reply needed after all"),
    "import": _l("Imported chats"),
    "delete": _l("Moved to the trash"),
    "restore": _l("Restored from the trash"),
    "empty_trash": _l("Emptied the trash"),
    "purge": _l("Deleted for good after 30 days"),
    "account_added": _l("Added an account"),
    "account_deactivated": _l("Deactivated an account"),
    "account_reactivated": _l("Reactivated an account"),
    "password_reset": _l("Set a new password"),
    "password_changed": _l("Changed own password"),
    "logged_out_everywhere": _l("Logged out everywhere"),
    "export": _l("Exported"),
    "backup": _l("Made a backup"),
    "backup_restored": _l("Restored a backup"),
    "sent_via_link": _l("Sent a reply through a link"),
    "opened_chat": _l("Opened a chat through a link"),
    "undo_sent_via_link": _l("Took back a reply sent through a link"),
    "shop_details": _l("Changed the shop details"),
    "sale": _l("Recorded a sale"),
    "stage": _l("Changed the stage"),
    "follow_up_set": _l("Set a follow-up"),
    "follow_up_done": _l("Marked a follow-up done"),
    "follow_up_snoozed": _l("Snoozed a follow-up"),
    "tag_added": _l("Added a tag"),
    "tag_edited": _l("Changed a tag or its rules"),
    "tag_deleted": _l("Deleted a tag"),
    "retag": _l("Re-tagged all conversations"),
    "starter_tags": _l("Added back the starter tags"),
    "tagged": _l("Tagged a conversation by hand"),
    "untagged": _l("Took a tag off a conversation"),
    "costs": _l("Changed the channel costs"),
    "order_created": _l("Created an order"),
    "order_status": _l("Changed an order's status"),
    "order_review_asked": _l("Asked for a review"),
    "order_repeat_reminded": _l("Reminded to buy again"),
    "suggestion_dismissed": _l("Dismissed a suggestion from the chat"),
}
TARGET_LABELS = {
    "customer": _l("Customer"),
    "conversation": _l("Conversation"),
    "message": _l("Message"),
    "user": _l("Account"),
    "trash": _l("Trash"),
    "import": _l("Import"),
    "export": _l("Export"),
    "backup": _l("Backup"),
    "quickreply": _l("Quick reply"),
    "shop": _l("Shop details"),
    "tag": _l("Tag"),
    "costs": _l("Costs"),
    "order": _l("Customer order"),
    "settings": _l("Settings"),
}
# The keys of `details` as they read on the audit page; other keys are shown as written.
DETAIL_LABELS = {
    "last_message": _l("Last message"),
    "was": _l("Before"),
    "changed": _l("Changed"),
    "display_name": _l("Name"),
    "notes": _l("Notes"),
    "assigned_to": _l("Assigned to"),
    "stage": _l("Stage"),
    "expected_value": _l("Expected value"),
    "handles": _l("Numbers and handles"),
    "handle": _l("Number or handle"),
    "merged_name": _l("Merged away"),
    "merged_id": _l("Merged customer id"),
    "messages": _l("Messages"),
    "pasted": _l("Pasted"),
    "channel": _l("Channel"),
    "customer_id": _l("Customer id"),
    "conversation_id": _l("Conversation id"),
    "sent_at": _l("Sent at"),
    "side": _l("Side"),
    "role": _l("Role"),
    "customer": _l("Customers"),
    "conversation": _l("Conversations"),
    "message": _l("Messages"),
    "files": _l("Files"),
    "conversations": _l("Conversations"),
    "messages_imported": _l("Messages imported"),
    "duplicates_skipped": _l("Duplicates skipped"),
    "customers_created": _l("Customers created"),
    "customers_matched": _l("Customers matched"),
    "system_lines_skipped": _l("System lines skipped"),
    "future_dated": _l("Dated in the future"),
    "errors": _l("Errors"),
    "group_chats_skipped": _l("Group chats skipped"),
    "unreadable_lines": _l("Unreadable lines"),
    "shortcut": _l("Shortcut"),
    "body": _l("Text"),
    "text": _l("Text"),
    "personal": _l("Only for its author"),
    "starter": _l("Starter reply"),
    "shop_name": _l("Shop name"),
    "bank_accounts": _l("Bank accounts"),
    "nudge_overdue": _l("Nudge for an overdue follow-up"),
    "nudge_hot": _l("Nudge for a hot prospect"),
    "amount": _l("Amount"),
    "sold_on": _l("Sold on"),
    "due_at": _l("Due"),
    "due_on": _l("Due"),
    "note": _l("Note"),
    "title": _l("Title"),
    "colour": _l("Colour"),
    "kind": _l("Kind"),
    "keywords": _l("Keywords"),
    "tag": _l("Tag"),
    "month": _l("Month"),
    "ads": _l("Ads (Rp)"),
    "boosts": _l("Boosts (Rp)"),
    "staff_hours": _l("Staff hours"),
    "hourly_cost": _l("Cost per staff hour (Rp)"),
    "address": _l("Address"),
    "items": _l("Items"),
    "total": _l("Total"),
    "shipping_cost": _l("Shipping"),
    "discount": _l("Discount"),
    "payment_method": _l("Payment"),
    "courier": _l("Courier"),
    "tracking_number": _l("Tracking number"),
    "recipient_name": _l("Recipient"),
    "recipient_phone": _l("Recipient's phone"),
    "status": _l("Status"),
    "at": _l("When"),
    "message_id": _l("Message id"),
    "payment_nudge_days": _l("Payment nudge after (days)"),
    "delivery_days": _l("Delivery check after (days)"),
    "review_days": _l("Review request after (days)"),
    "repeat_days": _l("Buy-again reminder after (days)"),
    "repeat_days_by_product": _l("Buy-again days per product"),
}
MONEY_KEYS = frozenset({"amount", "expected_value", "ads", "boosts", "hourly_cost", "total", "shipping_cost",
                        "discount"})
SUMMARY_LENGTH = 300
IMPORT_ERRORS_KEPT = 20
_CURRENT_USER = object()


def record(action: str, target, summary: str, details: dict | None = None, *, user=_CURRENT_USER) -> AuditEvent:
    """Add one event. `target` is a model instance (its type and id are taken), a (type, id) pair, a type
    name alone ("import", "backup"), or None. The user is whoever is logged in (None from the CLI);
    pass user= to say otherwise (user=None for something the system did by itself)."""
    if user is _CURRENT_USER:
        user = acting_user()
    target_type, target_id = _target(target)
    event = AuditEvent(
        action=action,
        target_type=target_type,
        target_id=target_id,
        summary=" ".join(str(summary).split())[:SUMMARY_LENGTH],
        details=_jsonable(details) if details is not None else None,
        user_id=user.id if user is not None else None,
        user_name=user.name if user is not None else "",
    )
    db.session.add(event)
    db.session.flush()
    return event


def acting_user() -> User | None:
    """Whoever is logged in; in a background import, the user who started it (set as g.audit_user)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user._get_current_object()
    if has_app_context():
        return g.get("audit_user")
    return None


def _target(target) -> tuple[str, int | None]:
    if target is None:
        return "", None
    if isinstance(target, str):
        return target, None
    if isinstance(target, tuple):
        kind, target_id = target
        return kind, target_id
    return type(target).__name__.lower(), target.id


def _jsonable(details: dict) -> dict:
    # Times and other values become text now, so what is stored is exactly what the page will show.
    def default(value):
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        return str(value)

    return json.loads(json.dumps(details, default=default, ensure_ascii=False))


def changes(before: dict, after: dict) -> dict:
    """{field: [before, after]} for each field that differs: the details of an edit."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}


def import_details(summary) -> dict:
    """An import's figures (crm.conversations.importing.ImportSummary), with the first few file errors."""
    details = {key: value for key, value in summary.as_dict().items() if not isinstance(value, list)}
    details["errors"] = summary.errors[:IMPORT_ERRORS_KEPT]
    return details


def detail_lines(details: dict | None) -> list[tuple[str, str]]:
    """An event's details as (label, text) lines for the page; a change reads "before → after"."""
    lines = []
    for key, value in (details or {}).items():
        if key == "changed" and isinstance(value, dict):
            for name, pair in value.items():
                before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
                lines.append((_label(name), f"{_text(name, before)} → {_text(name, after)}"))
        else:
            lines.append((_label(key), _text(key, value)))
    return lines


def _label(key: str) -> str:
    return str(DETAIL_LABELS.get(key) or CHANNEL_LABELS.get(key) or key)


def _text(key: str, value) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, list):
        return ", ".join(_text(key, item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(name)}: {_text(name, item)}" for name, item in value.items())
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if key in MONEY_KEYS and isinstance(value, int):
        return rupiah(value)
    labels = {"stage": STAGE_LABELS, "channel": CHANNEL_LABELS, "side": SIDE_LABELS, "status": STATUS_LABELS,
              "payment_method": PAYMENT_LABELS, "courier": COURIER_LABELS}.get(key)
    if labels and value in labels:
        return str(labels[value])
    if (key.endswith("_at") or key == "at") and isinstance(value, str):
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            pass
    if key.endswith("_on") and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "medium")
        except ValueError:
            pass
    return str(value)


# Reading the trail -------------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    user: str = ""  # a user id, "system" for events without a user, or "" for everybody
    action: str = ""
    target_type: str = ""
    date_from: date | None = None  # in the shop's time zone, both ends included
    date_to: date | None = None
    target_id: int | None = None


def events(filters: AuditFilters):
    """A select of events matching the filters, newest first (for db.paginate)."""
    statement = db.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if filters.user == "system":
        statement = statement.where(AuditEvent.user_id.is_(None))
    elif filters.user.isdigit():
        statement = statement.where(AuditEvent.user_id == int(filters.user))
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.target_type:
        statement = statement.where(AuditEvent.target_type == filters.target_type)
        if filters.target_id is not None:
            statement = statement.where(AuditEvent.target_id == filters.target_id)
    if filters.date_from:
        statement = statement.where(AuditEvent.created_at >= _shop_midnight(filters.date_from))
    if filters.date_to:
        statement = statement.where(AuditEvent.created_at < _shop_midnight(filters.date_to + timedelta(days=1)))
    return statement


def _shop_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=shop_zone())


def filter_choices() -> dict:
    """What the filters can be set to: the users, actions and target types found in the trail."""
    users = db.session.execute(
        db.select(AuditEvent.user_id, db.func.max(AuditEvent.user_name))
        .where(AuditEvent.user_id.is_not(None))
        .group_by(AuditEvent.user_id)
    ).all()
    current_names = dict(db.session.execute(db.select(User.id, User.name)).all())
    actions = db.session.execute(db.select(AuditEvent.action).distinct()).scalars().all()
    target_types = db.session.execute(
        db.select(AuditEvent.target_type).where(AuditEvent.target_type != "").distinct()
    ).scalars().all()
    return {
        "users": sorted(((str(uid), current_names.get(uid, name)) for uid, name in users),
                        key=lambda user: user[1].casefold()),
        "actions": sorted(actions, key=lambda a: str(ACTION_LABELS.get(a, a)).casefold()),
        "target_types": sorted(target_types, key=lambda t: str(TARGET_LABELS.get(t, t)).casefold()),
    }


def last_events(action: str, target_type: str, target_ids: list[int]) -> dict[int, AuditEvent]:
    """The latest event of one action for each target, e.g. who moved each item to the trash."""
    if not target_ids:
        return {}
    rows = db.session.execute(
        db.select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.target_type == target_type,
               AuditEvent.target_id.in_(target_ids))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).scalars()
    return {event.target_id: event for event in rows}
