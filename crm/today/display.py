"""How prospects, tags and follow-ups read on a page: translated sentences and the panels that the customer
and conversation pages include (their views stay as they are; the panels fetch what they show in batches)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, request, url_for
from flask_babel import format_date, format_time, format_timedelta, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..formatting import STAGE_LABELS, to_local
from ..models import Conversation, ConversationTag, Customer, FollowUp, Tag, User
from ..needs.forms import ConversationTagForm
from ..needs.tagging import ShownTag, all_tags, removed_tags_of, tag_title, tags_of
from .forms import FollowUpForm, SnoozeForm, StageForm
from .queue import oldest_wait, prospect_scores, shop_day, tag_chips, waiting_window_start
from .scoring import HOT_THRESHOLD, Reason, Score
from .services import default_sale_channel, open_follow_ups


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


def wait_text(since: datetime | None) -> str:
    """"Waiting on us for 2 hours"; a wait older than Today's window says since when: "since 3 Jan 2025";
    under a minute (or dated ahead by a phone's clock) "Just wrote: waiting on us", never "for 0 seconds"."""
    if since is None:
        return ""
    day = shop_day()
    if day.now - since < timedelta(minutes=1):
        return _("Just wrote: waiting on us")
    if since < waiting_window_start(day):
        return _("Waiting on us since %(date)s (%(time)s)", date=format_date(to_local(since).date(), "medium"),
                 time=waited(since))
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
    follow_ups: list[FollowUp]
    follow_up_form: FollowUpForm
    snooze_form: SnoozeForm
    tags: dict[int, list[Tag]]
    needs: list[Tag]
    oldest_wait: Conversation | None


def customer_panel(customer: Customer, conversations: list[Conversation] = ()) -> CustomerPanel:
    """Score and reasons, stage, open follow-ups and the quick-add form, tags of the shown chats, every tag the
    customer's chats carry, and their oldest open wait (their sales are the orders panel's)."""
    day = shop_day()
    score = prospect_scores([customer], day)[customer.id]
    stage_form = StageForm(formdata=None, obj=customer, channel=default_sale_channel(customer), sold_on=day.today,
                           needs_sale=customer.stage != "won")
    needs = db.session.execute(
        db.select(Tag).where(Tag.id.in_(
            db.select(ConversationTag.tag_id).join(Conversation, Conversation.id == ConversationTag.conversation_id)
            .where(Conversation.customer_id == customer.id, Conversation.deleted_at.is_(None),
                   ConversationTag.removed_at.is_(None))))
    ).scalars()
    return CustomerPanel(
        score=score, stage_form=stage_form, follow_ups=open_follow_ups(customer),
        follow_up_form=follow_up_form(customer), snooze_form=SnoozeForm(formdata=None, next=request.full_path),
        tags=tag_chips(c.id for c in conversations),
        needs=sorted(needs, key=lambda t: (t.kind != "need", tag_title(t))),
        oldest_wait=oldest_wait(customer.id),
    )


def no_signal_text(panel_needs: list[Tag]) -> str:
    """Why a score has no reasons, in words that agree with the tags shown under it."""
    if panel_needs:
        return _("No recent signals: the needs below were asked about more than 30 days ago, and nothing else "
                 "counts yet.")
    return _("No signals yet: no need tags, no recent messages.")


@dataclass
class ConversationPanel:
    tags: list[ShownTag]
    removed: list[Tag]
    add_form: ConversationTagForm
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
        follow_up_form=follow_up_form(conversation.customer, conversation),
        score=prospect_scores([conversation.customer], day)[conversation.customer.id],
    )


class PageTexts:
    """Names, times, money and waits in the reader's language with every lookup done once for the page:
    with dozens of rows, Flask-Babel's and Werkzeug's lookups per row cost more than the page's queries."""

    def __init__(self):
        from babel.dates import format_date as babel_date
        from babel.dates import format_time as babel_time
        from babel.dates import format_timedelta as babel_timedelta
        from flask_babel import get_locale, get_timezone
        from flask_wtf.csrf import generate_csrf

        from ..formatting import page_labels, short_time_formatter

        locale, zone = get_locale(), get_timezone()
        self.day = shop_day()
        self.window_start = waiting_window_start(self.day)
        self.short_time = short_time_formatter()
        self._date = lambda value: babel_date(value, "medium", locale=locale)
        self._time = lambda value: babel_time(value, "short", tzinfo=zone, locale=locale)
        self._delta = lambda value: babel_timedelta(value, threshold=1.1, locale=locale)
        self._indonesian = str(locale) == "id"
        self.labels = page_labels()
        self.tags = _titles()
        self.csrf = generate_csrf()
        self.me = current_user.id
        self.hot = HOT_THRESHOLD
        self.words = {
            "for": _("Waiting on us for %(time)s"), "since": _("Waiting on us since %(date)s (%(time)s)"),
            "just_wrote": _("Just wrote: waiting on us"),
        }

    @property
    def message_words(self) -> dict:
        """For templates/conversations/_messages.html."""
        if not hasattr(self, "_message_words"):
            delete = url_for("conversations.delete_message", conversation_id=987654321, message_id=987654322)
            self._message_words = {
                "delete_url": delete.replace("%", "%%").replace("987654321", "%d").replace("987654322", "%d"),
                "delete": _("Delete"), "confirm": _("Move this message to the trash?"),
                "sent_via_link": _("sent via link"), "undo_sent": _("Undo: it was not sent"),
            }
        return self._message_words

    def rupiah(self, amount: int | None) -> str:
        """crm.formatting.rupiah, for a row."""
        if amount is None:
            return ""
        return "Rp " + (f"{amount:,}".replace(",", ".") if self._indonesian else f"{amount:,}")

    def waited(self, since: datetime) -> str:
        return self._delta(self.day.now - since)

    def local_day(self, moment: datetime | None) -> str:
        """The shop's day of a moment ("Jun 4, 2024"): what "customer since" says everywhere."""
        return self._date(to_local(moment).date()) if moment else ""

    def wait(self, since: datetime | None) -> str:
        """wait_text, for a row."""
        if since is None:
            return ""
        if self.day.now - since < timedelta(minutes=1):
            return self.words["just_wrote"]
        if since < self.window_start:
            return self.words["since"] % {"date": self._date(to_local(since).date()), "time": self.waited(since)}
        return self.words["for"] % {"time": self.waited(since)}


class RowTexts(PageTexts):
    """What the rows of Today say and link to (up to 80 rows)."""

    def __init__(self, here: str):
        from ..formatting import url_pattern

        super().__init__()
        self.next = here
        self.url = {
            "customer": url_pattern("customers.show", customer_id=0),
            "conversation": url_pattern("conversations.show", conversation_id=0),
            "reply": url_pattern("today.reply", conversation_id=0),
            "no_reply": url_pattern("today.mark_no_reply", conversation_id=0),
            "reply_needed": url_pattern("today.mark_reply_needed", conversation_id=0),
            "snooze": url_pattern("today.snooze_follow_up", follow_up_id=0),
            "done": url_pattern("today.done", follow_up_id=0),
            "follow_up": url_for("today.add"),
        }
        self.words.update({
            "due": _("Due %(when)s"), "open": _("Open"), "log_reply": _("Log reply"),
            "reply_to": _("Our reply to %(name)s"),
            "what_we_answered": _("What we answered"), "save_reply": _("Save reply"), "snooze": _("Snooze:"),
            "plus_1d": _("+1 day"), "plus_3d": _("+3 days"), "pick": _("pick"), "done": _("Done"),
            "no_conversation": _("No conversation logged yet."), "follow_up": _("Follow up:"), "1d": _("1 day"),
            "3d": _("3 days"), "7d": _("next week"), "pick_date": _("pick a date"),
            "no_reply_needed": _("No reply needed"),
            "ended_with_thanks": _("No reply needed: the chat ended with thanks."),
            "marked": _("No reply needed (said by hand)."), "reply_needed": _("Reply needed after all"),
            "undo": _("Undo"), "today": _("today"), "tomorrow": _("tomorrow"), "yesterday": _("yesterday"),
            "score": _("Prospect score: open the customer for its reasons"),
        })

    def due(self, follow_up: FollowUp) -> str:
        """due_text, for a row."""
        local = to_local(follow_up.due_at)
        days = (local.date() - self.day.today).days
        when = {0: self.words["today"], 1: self.words["tomorrow"], -1: self.words["yesterday"]}.get(days) \
            or self._date(local.date())
        return f"{when} {self._time(follow_up.due_at)}" if follow_up.has_time else when


QUEUE_SECTIONS = {
    "overdue": (_l("Overdue"), _l("Follow-ups past their date, oldest first.")),
    "today": (_l("Due today"), _l("Follow-ups for today.")),
    "waiting": (_l("Waiting on us"), _l("The customer wrote last and nobody logged a reply; longest wait first.")),
    "older": (_l("Waiting on us for longer"),
              _l("Waits that started before the days Today shows, oldest first: answer them, or say no reply is "
                 "needed.")),
    "thanks": (_l("Ended with thanks"),
               _l("The customer's last messages only thanked us or said OK, so no reply is needed; if one needs "
                  "an answer after all, say so.")),
    "hot": (_l("Hot prospects without a follow-up"),
            _l("Warm customers we answered, with nothing planned: set a follow-up before they go cold.")),
}


def format_day(value) -> str:
    return format_date(value, "medium") if value else ""


def register(blueprint) -> None:
    """The template filters and globals these pages draw with, for every page of the app."""
    blueprint.add_app_template_filter(reason_text, "reason_text")
    blueprint.add_app_template_filter(waited, "waited")
    blueprint.add_app_template_filter(wait_text, "wait_text")
    blueprint.add_app_template_global(no_signal_text, "no_signal_text")
    blueprint.add_app_template_filter(due_text, "due_text")
    blueprint.add_app_template_filter(format_day, "format_day")
    blueprint.add_app_template_global(customer_panel, "customer_panel")
    blueprint.add_app_template_global(conversation_panel, "conversation_panel")
    blueprint.add_app_template_global(tag_title, "tag_title")
    blueprint.add_app_template_global(QUEUE_SECTIONS, "QUEUE_SECTIONS")
