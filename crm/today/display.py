"""How prospects, tags and follow-ups read on a page: translated sentences and the panels that the customer
and conversation pages include (their views stay as they are; the panels fetch what they show in batches)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, request
from flask_babel import format_date, format_time, format_timedelta, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..formatting import STAGE_LABELS, to_local
from ..models import Conversation, Customer, FollowUp, Tag, User
from ..needs.forms import ConversationTagForm
from ..needs.tagging import ShownTag, all_tags, removed_tags_of, tag_title, tags_of
from .forms import FollowUpForm, SnoozeForm, StageForm
from .queue import is_waiting_on_us, prospect_scores, shop_day, waiting_since
from .scoring import Reason, Score
from .services import default_sale_channel, open_follow_ups, sales_of


def _titles() -> dict[str, str]:
    if "tag_titles" not in g:
        g.tag_titles = {tag.name: tag_title(tag) for tag in db.session.execute(db.select(Tag)).scalars()}
    return g.tag_titles


def reason_text(reason: Reason) -> str:
    """"+25 asked about Price 2 days ago", in the reader's language."""
    days = reason.age_days or 0
    tag = _titles().get(reason.tag or "", reason.tag or "")
    if reason.code == "intent":
        sentence = _("asked about %(tag)s today", tag=tag) if not days else ngettext(
            "asked about %(tag)s %(num)d day ago", "asked about %(tag)s %(num)d days ago", days, tag=tag)
    elif reason.code == "complaint":
        sentence = _("complained today") if not days else ngettext(
            "complained %(num)d day ago", "complained %(num)d days ago", days)
    elif reason.code == "stage":
        sentence = _("stage is %(stage)s", stage=STAGE_LABELS.get(reason.tag, reason.tag))
    elif reason.code == "recent":
        sentence = _("last message today") if not days else ngettext(
            "last message %(num)d day ago", "last message %(num)d days ago", days)
    elif reason.code == "waiting":
        sentence = _("waiting for our reply since today") if not days else ngettext(
            "waiting for our reply for %(num)d day", "waiting for our reply for %(num)d days", days)
    elif reason.code == "overdue":
        sentence = _("follow-up overdue since today") if not days else ngettext(
            "follow-up overdue for %(num)d day", "follow-up overdue for %(num)d days", days)
    elif reason.code == "won":
        sentence = _("won, no longer a prospect")
    elif reason.code == "lost":
        sentence = _("lost")
    else:
        sentence = reason.code
    points = f"{reason.points:+d}" if reason.points else "0"
    return f"{points} {sentence}"


def waited(since: datetime | None) -> str:
    """How long ago, roughly: "2 hours", "3 days"."""
    if since is None:
        return ""
    return format_timedelta(shop_day().now - since, threshold=1.1)


def waiting_text(since: datetime | None) -> str:
    """"Waiting on us for 3 hours"; under a minute (or dated ahead by a phone's clock) "Just wrote: waiting on us",
    never "for 0 seconds"."""
    if since is None:
        return ""
    if shop_day().now - since < timedelta(minutes=1):
        return _("Just wrote: waiting on us")
    return _("Waiting on us for %(time)s", time=waited(since))


def due_text(follow_up: FollowUp) -> str:
    local = to_local(follow_up.due_at)
    day = shop_day()
    when = format_date(local.date(), "medium")
    if local.date() == day.today:
        when = _("today")
    elif (local.date() - day.today).days == 1:
        when = _("tomorrow")
    elif (day.today - local.date()).days == 1:
        when = _("yesterday")
    return f"{when} {format_time(follow_up.due_at, 'short')}" if follow_up.has_time else when



def staff_choices():
    users = db.session.execute(db.select(User).where(User.active.is_(True)).order_by(User.name)).scalars()
    return [SelectChoice(0, _("Nobody"))] + [SelectChoice(user.id, user.name) for user in users]


def follow_up_form(customer: Customer, conversation: Conversation | None = None, **data) -> FollowUpForm:
    form = FollowUpForm(formdata=None, customer_id=customer.id,
                        conversation_id=conversation.id if conversation else None,
                        assigned_to_id=customer.assigned_to_id or current_user.id, next=request.full_path, **data)
    form.assigned_to_id.choices = staff_choices()
    return form


@dataclass
class CustomerPanel:
    score: Score
    stage_form: StageForm
    sales: list
    follow_ups: list[FollowUp]
    follow_up_form: FollowUpForm
    snooze_form: SnoozeForm
    tags: dict[int, list[ShownTag]]
    needs: list[Tag]
    waiting: dict[int, datetime]


def customer_panel(customer: Customer, conversations: list[Conversation] = ()) -> CustomerPanel:
    """Score and reasons, stage and sales, open follow-ups and the quick-add form, tags of the shown chats."""
    day = shop_day()
    score = prospect_scores([customer], day)[customer.id]
    sales = sales_of(customer)
    stage_form = StageForm(formdata=None, obj=customer, channel=default_sale_channel(customer), sold_on=day.today,
                           needs_sale=not sales)
    live_ids = db.session.execute(
        db.select(Conversation.id).where(Conversation.customer_id == customer.id, Conversation.deleted_at.is_(None))
    ).scalars().all()
    all_tags_by_conversation = tags_of(live_ids)
    needs: dict[int, Tag] = {}
    for shown in (s for rows in all_tags_by_conversation.values() for s in rows):
        needs.setdefault(shown.tag.id, shown.tag)
    waiting_ids = db.session.execute(
        db.select(Conversation.id).where(Conversation.customer_id == customer.id, is_waiting_on_us())
    ).scalars().all()
    return CustomerPanel(
        score=score, stage_form=stage_form, sales=sales, follow_ups=open_follow_ups(customer),
        follow_up_form=follow_up_form(customer), snooze_form=SnoozeForm(formdata=None, next=request.full_path),
        tags={c.id: all_tags_by_conversation.get(c.id, []) for c in conversations},
        needs=sorted(needs.values(), key=lambda t: (t.kind != "need", tag_title(t))),
        waiting=waiting_since(waiting_ids),
    )


@dataclass
class ConversationPanel:
    tags: list[ShownTag]
    removed: list[Tag]
    add_form: ConversationTagForm
    waiting_since: datetime | None
    follow_up_form: FollowUpForm
    score: Score


def conversation_panel(conversation: Conversation) -> ConversationPanel:
    day = shop_day()
    shown = tags_of([conversation.id], with_reasons=True).get(conversation.id, [])
    have = {s.tag.id for s in shown}
    add_form = ConversationTagForm(formdata=None)
    add_form.tag_id.choices = [SelectChoice(t.id, tag_title(t)) for t in all_tags() if t.id not in have]
    return ConversationPanel(
        tags=shown, removed=removed_tags_of(conversation.id), add_form=add_form,
        waiting_since=waiting_since([conversation.id]).get(conversation.id),
        follow_up_form=follow_up_form(conversation.customer, conversation),
        score=prospect_scores([conversation.customer], day)[conversation.customer.id],
    )


QUEUE_SECTIONS = {
    "overdue": (_l("Overdue"), _l("Follow-ups past their date, oldest first.")),
    "today": (_l("Due today"), _l("Follow-ups for today.")),
    "waiting": (_l("Waiting on us"), _l("The customer wrote last and nobody logged a reply; longest wait first.")),
    "hot": (_l("Hot prospects without a follow-up"),
            _l("Warm customers we answered, with nothing planned: set a follow-up before they go cold.")),
}


def format_day(value) -> str:
    return format_date(value, "medium") if value else ""


def register(blueprint) -> None:
    """The template filters and globals these pages draw with, for every page of the app."""
    blueprint.add_app_template_filter(reason_text, "reason_text")
    blueprint.add_app_template_filter(waited, "waited")
    blueprint.add_app_template_filter(waiting_text, "waiting_text")
    blueprint.add_app_template_filter(due_text, "due_text")
    blueprint.add_app_template_filter(format_day, "format_day")
    blueprint.add_app_template_global(customer_panel, "customer_panel")
    blueprint.add_app_template_global(conversation_panel, "conversation_panel")
    blueprint.add_app_template_global(tag_title, "tag_title")
    blueprint.add_app_template_global(QUEUE_SECTIONS, "QUEUE_SECTIONS")
