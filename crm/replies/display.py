"""How replies through links look on a page: the "Reply on WhatsApp" box that Today, the customer page and the
thread include, the thread's "sent via link" marks, the undo bar, and Today's nudges. Registered for every page."""
from __future__ import annotations

from dataclasses import dataclass

from flask import g
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..models import Conversation, Customer, QuickReply
from ..shop_settings import setting
from .filling import prompts
from .services import (
    ReplyTarget,
    can_undo,
    filled,
    reply_targets,
    thread_marks,
    undo_deadline,
    undoable_sends,
)

REPLY_LABELS = {
    "whatsapp": _l("Reply on WhatsApp"), "instagram": _l("Reply on Instagram"),
    "facebook": _l("Reply on Messenger"), "tiktok": _l("Reply on TikTok"), "x": _l("Reply on X"),
    "telegram": _l("Reply on Telegram"), "email": _l("Reply by e-mail"),
}
# The button that sends: a channel whose link carries the text opens with it; the others copy it first.
SEND_LABELS = {
    "whatsapp": _l("Open WhatsApp"), "email": _l("Open the e-mail"),
    "instagram": _l("Copy and open Instagram"), "facebook": _l("Copy and open Messenger"),
    "tiktok": _l("Copy and open TikTok"), "x": _l("Copy and open X"), "telegram": _l("Copy and open Telegram"),
}
NUDGE_LABELS = {
    "whatsapp": _l("Nudge on WhatsApp"), "email": _l("Nudge by e-mail"),
    "instagram": _l("Copy nudge, open Instagram"), "facebook": _l("Copy nudge, open Messenger"),
    "tiktok": _l("Copy nudge, open TikTok"), "x": _l("Copy nudge, open X"),
    "telegram": _l("Copy nudge, open Telegram"),
}
OPENED_LABELS = {
    "whatsapp": _l("Opened in WhatsApp"), "instagram": _l("Opened in Instagram"),
    "facebook": _l("Opened in Messenger"), "tiktok": _l("Opened in TikTok"), "x": _l("Opened in X"),
    "telegram": _l("Opened in Telegram"), "email": _l("Opened in e-mail"),
}
# How the page's script puts our text into each link (the server builds the same: crm.replies.links).
PREFILL_PARAMETERS = {"whatsapp": "text", "email": "body"}


def reply_box(customer: Customer, conversation: Conversation | None = None,
              channel: str | None = None) -> list[ReplyTarget]:
    """Where a reply from this box can go: the customer's handles on the conversation's channel (or on the given
    one, or on every channel), the ones a reply through a link is logged for."""
    channel = channel or (conversation.channel if conversation else None)
    return [target for target in reply_targets(customer, channel) if target.logs]


@dataclass(frozen=True)
class Nudge:
    reply: QuickReply
    text: str  # filled for the customer
    target: ReplyTarget

    @property
    def ready(self) -> bool:
        """Sent in one click: nothing left to fill in."""
        return not prompts(self.text)


def _nudge_reply(kind: str) -> QuickReply | None:
    cache = g.setdefault("nudge_replies", {})
    if kind not in cache:
        reply_id = setting(f"nudge_{kind}")
        reply = db.session.get(QuickReply, int(reply_id)) if reply_id.isdigit() else None
        cache[kind] = reply if reply is not None and not reply.deleted_at and not reply.is_personal else None
    return cache[kind]


def nudge_for(kind: str, customer: Customer, conversation: Conversation | None = None) -> Nudge | None:
    """The nudge the owner chose for overdue follow-ups ("overdue") or hot prospects ("hot"), filled for the
    customer, going to their handle on the conversation's channel (else their first handle with a link)."""
    reply = _nudge_reply(kind)
    if reply is None:
        return None
    targets = reply_box(customer, conversation) or reply_box(customer)
    if not targets:
        return None
    return Nudge(reply, filled(reply, user=current_user, customer=customer, conversation=conversation), targets[0])


def reply_words() -> dict[str, str]:
    """The fixed words of a reply box, translated once a page (Today draws a box or two on each of its rows)."""
    if "reply_words" not in g:
        g.reply_words = {
            "failed": _("The chat opened, but the reply was not logged: log it by hand."),
            "blank": _("Fill in the blank first:"),
            "placeholder": _("Type / for a quick reply, or write the reply"),
            "quick_replies": _("Quick replies"), "copied": _("Copied"), "copy_reply": _("Copy"),
            "logged": _("The reply is logged as sent; you can take it back for a few minutes."),
            "copied_logged": _("The reply is copied: paste it in the chat. It is logged as sent; you can take it "
                               "back for a few minutes."),
        }
    return g.reply_words


def undo_until(link) -> str:
    """"10:12 AM": when the undo of a reply sent through a link goes away."""
    return format_time(undo_deadline(link), "short")


def register(blueprint) -> None:
    blueprint.add_app_template_global(reply_box, "reply_box")
    blueprint.add_app_template_global(nudge_for, "nudge_for")
    blueprint.add_app_template_global(thread_marks, "thread_marks")
    blueprint.add_app_template_global(undoable_sends, "undoable_sends")
    blueprint.add_app_template_global(can_undo, "can_undo")
    blueprint.add_app_template_global(undo_until, "undo_until")
    blueprint.add_app_template_global(reply_words, "reply_words")
    for name, labels in (("REPLY_LABELS", REPLY_LABELS), ("SEND_LABELS", SEND_LABELS),
                         ("NUDGE_LABELS", NUDGE_LABELS), ("OPENED_LABELS", OPENED_LABELS),
                         ("PREFILL_PARAMETERS", PREFILL_PARAMETERS)):
        blueprint.add_app_template_global(labels, name)
