"""How orders read on a page: their timeline, the suggestions of a thread, and the panels the customer page and
the thread include (their views stay as they are; the panels fetch what they show)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..extensions import db
from ..formatting import rupiah, to_local, url_pattern
from ..models import Conversation, Customer, Message, Order, OrderStep
from ..today.display import PageTexts
from .labels import ACCEPT_LABELS, COURIER_LABELS, PAYMENT_LABELS, STATUS_LABELS, STEP_LABELS, SUGGESTION_LABELS
from .services import ENDINGS, conversation_suggestions, orders_of
from .suggestions import ChatLine, Suggestion, suggest


@dataclass(frozen=True)
class TimelineStep:
    status: str
    label: str
    at: datetime
    message: Message | None
    recorded_by: str
    detail: str


def timeline(order: Order) -> list[TimelineStep]:
    steps = []
    for step in order.steps:
        detail = ""
        if step.status == "shipped" and (order.courier or order.tracking_number):
            detail = " ".join(part for part in (str(COURIER_LABELS.get(order.courier, order.courier)),
                                                order.tracking_number) if part)
        elif step.status == "paid" and order.payment_method:
            detail = str(PAYMENT_LABELS[order.payment_method])
        steps.append(TimelineStep(step.status, str(STEP_LABELS[step.status]), step.at, step.message,
                                  step.recorded_by.name if step.recorded_by else "", detail))
    return steps


def moment_value(moment: datetime | None) -> str:
    """A datetime-local input's value in the shop's zone, with seconds (so a step keeps its message's order)."""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M:%S") if moment else ""


@dataclass(frozen=True)
class SuggestionView:
    suggestion: Suggestion
    title: str
    detail: str
    order: Order | None
    accept_url: str  # new_order: the prefilled form (GET); the others: the status change (POST)
    status: str = ""  # for the POST
    courier: str = ""
    tracking_number: str = ""
    at: str = ""


def suggestion_views(conversation: Conversation) -> list[SuggestionView]:
    suggestions = conversation_suggestions(conversation)
    orders = {o.id: o for o in db.session.execute(
        db.select(Order).where(Order.id.in_([s.order_id for s in suggestions if s.order_id]))).scalars()}
    views = []
    for s in suggestions:
        order = orders.get(s.order_id) if s.order_id else None
        if s.kind == "new_order":
            reading = s.reading
            parts = [", ".join(f"{i.quantity}× {i.name or _('(item not named)')}" + (f" ({i.variant})" if i.variant
                                                                                    else "") for i in reading.items)]
            if reading.total is not None:
                parts.append(_("total %(amount)s", amount=rupiah(reading.total)))
            if reading.missing:
                parts.append(_("not in the form: %(keys)s", keys=", ".join(_missing_label(k) for k in reading.missing)))
            views.append(SuggestionView(s, _("A format order: create the order?"), " · ".join(p for p in parts if p),
                                        None, url_for("orders.new", customer_id=conversation.customer_id,
                                                      conversation_id=conversation.id, message_id=s.key)))
            continue
        if s.kind == "paid":
            title = _("Paid? Mark the order paid")
            detail = _("A photo came with it (a transfer proof?).") if s.proof else _(
                "No photo in the chat: check the bank or e-wallet first.")
        elif s.kind == "shipped":
            courier = COURIER_LABELS.get(s.tracking.courier, "") if s.tracking.courier else ""
            title = _("Shipped? Record the tracking number")
            detail = " ".join(part for part in (str(courier) if courier else _("courier not known"),
                                                s.tracking.number) if part)
        else:
            title = _("Delivered? Mark the order delivered")
            detail = ""
        views.append(SuggestionView(
            s, title, detail, order, url_for("orders.change_status", order_id=order.id) if order else "",
            status=s.kind, courier=s.tracking.courier if s.tracking else "",
            tracking_number=s.tracking.number if s.tracking else "", at=moment_value(s.sent_at)))
    return views


@dataclass(frozen=True)
class PastedSuggestion:
    kind: str
    title: str
    detail: str
    words: tuple[str, ...]


def paste_suggestions(plan, limit: int = 2000) -> list[PastedSuggestion]:
    """What the conversation page will offer for orders once this pasted chat is saved (nothing is done here)."""
    lines = []
    for index, message in enumerate(plan.chat.messages()):
        if index >= limit:
            break
        lines.append(ChatLine(index, plan.sides.get(message.author, "customer"), message.body, message.sent_at,
                              "\n".join(message.attachments)))
    found = []
    for s in suggest(lines):
        if s.kind == "new_order":
            detail = ", ".join(f"{i.quantity}× {i.name or _('(item not named)')}" for i in s.reading.items)
            if s.reading.total is not None:
                detail = " · ".join(p for p in (detail, _("total %(amount)s", amount=rupiah(s.reading.total))) if p)
        elif s.kind == "paid":
            detail = _("with a photo") if s.proof else _("no photo in the chat")
        elif s.kind == "shipped":
            courier = COURIER_LABELS.get(s.tracking.courier, "") if s.tracking.courier else _("courier not known")
            detail = f"{courier} {s.tracking.number}"
        else:
            detail = ""
        found.append(PastedSuggestion(s.kind, str(SUGGESTION_LABELS[s.kind]), detail, s.words + s.extra_words))
    return found


def _missing_label(key: str) -> str:
    return {"name": _("name"), "address": _("address"), "phone": _("phone"), "items": _("item")}[key]


def customer_orders(customer: Customer) -> list[Order]:
    return orders_of(customer)


def conversation_orders(conversation: Conversation) -> list[Order]:
    """The orders whose steps were logged in this conversation's messages, or that belong to it."""
    stepped = db.select(OrderStep.order_id).join(Message, Message.id == OrderStep.message_id).where(
        Message.conversation_id == conversation.id)
    return list(db.session.execute(
        db.select(Order).where((Order.conversation_id == conversation.id) | Order.id.in_(stepped))
        .order_by(Order.created_at, Order.id)
    ).scalars())


def status_label(order: Order) -> str:
    if order.status == "awaiting_payment" and order.payment_method == "cod":
        return _("Ordered, pay on delivery")
    return str(STATUS_LABELS[order.status])


def is_open(order: Order) -> bool:
    return order.status not in ENDINGS + ("delivered",)


REMINDER_SECTIONS = {
    "awaiting_payment": (_l("Orders awaiting payment"),),
    "not_delivered": (_l("Shipped, not delivered yet"),),
    "review": (_l("Ask for a review"),),
    "repeat": (_l("Time to buy again?"),),
}


def reminder_hint(section: str, settings) -> str:
    if section == "awaiting_payment":
        return ngettext("Placed more than %(num)d day ago and not paid: send a reminder.",
                        "Placed more than %(num)d days ago and not paid: send a reminder.",
                        settings.payment_nudge_days)
    if section == "not_delivered":
        return ngettext("Shipped more than %(num)d day ago: check the tracking, then mark it delivered.",
                        "Shipped more than %(num)d days ago: check the tracking, then mark it delivered.",
                        settings.delivery_days)
    if section == "review":
        return ngettext("Delivered %(num)d day ago or more, nobody asked for a review yet: reviews are what the next "
                        "customer reads first.",
                        "Delivered %(num)d days ago or more, nobody asked for a review yet: reviews are what the "
                        "next customer reads first.", settings.review_days)
    return ngettext("Their last order was placed %(num)d day ago or more: remind them, it is a sale waiting.",
                    "Their last order was placed %(num)d days ago or more: remind them, it is a sale waiting.",
                    settings.repeat_days)


class ReminderTexts(PageTexts):
    """What an order reminder row says and links to, looked up once for the page (Today draws up to 80 of them
    beside its queue): Werkzeug's url_for and Flask-Babel's lookups per row cost more than the row's data."""

    def __init__(self):
        super().__init__()
        self.next = request.full_path
        self.url = {"customer": url_pattern("customers.show", customer_id=0),
                    "order": url_pattern("orders.show", order_id=0),
                    "reply": url_pattern("today.reply", conversation_id=0)}
        # The one button of a section's row: where it posts and what it says.
        self.done = {"not_delivered": (url_pattern("orders.change_status", order_id=0), _("Delivered")),
                     "review": (url_pattern("orders.review_asked", order_id=0), _("Asked")),
                     "repeat": (url_pattern("orders.repeat_reminded", order_id=0), _("Reminded"))}
        self.words.update({
            "order": _("Order #%(number)d"), "open": _("Open"), "nudge": _("Nudge"), "log_as_sent": _("Log as sent"),
            "message_to": _("Message to %(name)s"),
            "awaiting_payment": _("Waiting for payment for %(time)s"), "not_delivered": _("Shipped %(time)s ago"),
            "review": _("Delivered %(time)s ago"), "repeat": _("Last order %(time)s ago"),
        })


def reminder_texts() -> ReminderTexts:
    if "reminder_texts" not in g:
        g.reminder_texts = ReminderTexts()
    return g.reminder_texts


def register(blueprint) -> None:
    blueprint.add_app_template_global(reminder_texts, "reminder_texts")
    blueprint.add_app_template_global(timeline, "order_timeline")
    blueprint.add_app_template_global(suggestion_views, "order_suggestions")
    blueprint.add_app_template_global(paste_suggestions, "paste_order_suggestions")
    blueprint.add_app_template_global(customer_orders, "customer_orders")
    blueprint.add_app_template_global(conversation_orders, "conversation_orders")
    blueprint.add_app_template_global(status_label, "order_status_label")
    blueprint.add_app_template_global(moment_value, "moment_value")
    blueprint.add_app_template_global(STATUS_LABELS, "ORDER_STATUS_LABELS")
    blueprint.add_app_template_global(PAYMENT_LABELS, "PAYMENT_LABELS")
    blueprint.add_app_template_global(COURIER_LABELS, "COURIER_LABELS")
    blueprint.add_app_template_global(SUGGESTION_LABELS, "SUGGESTION_LABELS")
    blueprint.add_app_template_global(ACCEPT_LABELS, "ACCEPT_LABELS")
    blueprint.add_app_template_global(REMINDER_SECTIONS, "REMINDER_SECTIONS")
    blueprint.add_app_template_global(reminder_hint, "reminder_hint")
