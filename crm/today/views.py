from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.views import _safe_next
from ..conversations.services import NewMessage, get_conversation, log_chat
from ..customers.services import current_customer, get_customer
from ..extensions import db
from ..identities import CHANNELS
from ..kept import fresh_scores
from ..models import Conversation, Tag, User, utcnow
from ..needs.tagging import all_tags
from ..orders.reminders import order_reminders
from ..replies.services import record_posted_uses
from ..sqlite import hold_customers
from . import display
from .display import RowTexts, customer_panel, due_text, follow_up_form, staff_choices
from .forms import FollowUpForm, NextForm, QuickReplyForm, SnoozeForm, StageForm
from .queue import (
    PAGED_SECTIONS,
    SECTION_LIMIT,
    QueueFilters,
    QueueRow,
    fill_rows,
    follow_up_queue,
    follow_up_rows,
    section_statement,
    shop_day,
    waiting_rows,
)
from .services import (
    add_follow_up,
    due_at_for,
    get_follow_up,
    mark_done,
    no_reply_needed,
    record_sale,
    reply_needed,
    set_stage,
    snooze,
)

bp = Blueprint("today", __name__)
display.register(bp)


def _filters() -> QueueFilters:
    staff = request.args.get("staff", "")
    user_id = current_user.id if staff == "me" else (int(staff) if staff.isdigit() else None)
    channel = request.args.get("channel") if request.args.get("channel") in CHANNELS else None
    tag_id = None
    if request.args.get("tag"):
        tag_id = db.session.execute(db.select(Tag.id).where(Tag.name == request.args["tag"])).scalar_one_or_none()
    return QueueFilters(user_id=user_id, channel=channel, tag_id=tag_id)


def _filter_choices() -> dict:
    users = db.session.execute(db.select(User).where(User.active.is_(True)).order_by(User.name)).scalars()
    return {
        "staff": [SelectChoice("", _("Everyone")), SelectChoice("me", _("Mine"))]
        + [SelectChoice(str(u.id), u.name) for u in users if u.id != current_user.id],
        "tags": all_tags(),
    }


def _page_context() -> dict:
    """The filter choices, and the forms each row posts, which lead back to this very page."""
    here = request.full_path.rstrip("?")
    return {
        "T": RowTexts(here), "next_form": NextForm(formdata=None, next=here), "args": request.args,
        "choices": _filter_choices(),
        "filter_args": filter_args(),
    }


def filter_args() -> dict:
    """Today's filters as they came in the URL, for links that keep them."""
    return {key: request.args[key] for key in ("staff", "channel", "tag") if request.args.get(key)}


def queue_page():
    """The home page: who to follow up today."""
    fresh_scores()
    filters = _filters()
    limit = current_app.config.get("QUEUE_SECTION_LIMIT", SECTION_LIMIT)
    queue = follow_up_queue(filters, limit=limit)
    return render_template("today/index.html", queue=queue, order_reminders=order_reminders(filters, limit=limit),
                           **_page_context())


@bp.get("/queue/<section>")
def section(section: str):
    """One section of the queue in full, page by page."""
    if section not in PAGED_SECTIONS:
        abort(404)
    fresh_scores()
    filters, day = _filters(), shop_day()
    page = db.paginate(section_statement(section, day, filters), per_page=current_app.config["PER_PAGE"])
    items = list(page.items)
    if section == "hot":
        rows = [QueueRow("hot", customer) for customer in items]
    elif section in ("waiting", "older", "thanks"):
        rows = waiting_rows(items, section)
    else:
        rows = follow_up_rows(items, section)
    return render_template("today/section.html", section=section, rows=fill_rows(rows, day), page=page,
                           **_page_context())


def _back(default: str) -> str:
    target = request.form.get("next") or ""
    return _safe_next(target) if target else default


# --- follow-ups ----------------------------------------------------------------------------------------


@bp.route("/follow-ups/new", methods=["GET", "POST"])
def add():
    """Quick add posts here from a customer or conversation; this page is where a mistake is corrected."""
    if request.method == "GET":
        customer = get_customer(request.args.get("customer_id", type=int) or 0)
        conversation_id = request.args.get("conversation_id", type=int)
        conversation = get_conversation(conversation_id) if conversation_id else None
        form = follow_up_form(customer, conversation, when="date")
        form.next.data = request.args.get("next") or url_for("customers.show", customer_id=customer.id)
        return render_template("today/follow_up_form.html", form=form, customer=customer)
    form = FollowUpForm()
    form.assigned_to_id.choices = staff_choices()
    customer = get_customer(form.customer_id.data or 0) if form.customer_id.data else None
    if customer is None:
        abort(400)
    conversation = None
    if form.conversation_id.data:
        conversation = get_conversation(form.conversation_id.data)
        if conversation.customer_id != customer.id:
            abort(400)
    if form.validate_on_submit():
        due_at, has_time = due_at_for(form.when.data, shop_day(), form.due_date.data, form.due_time.data)
        follow_up = add_follow_up(
            customer, due_at=due_at, has_time=has_time, note=form.note.data or "",
            assigned_to_id=form.assigned_to_id.data or None, conversation=conversation, created_by_id=current_user.id,
        )
        db.session.commit()
        flash(_("Follow-up for %(name)s set for %(when)s.", name=customer.display_name, when=due_text(follow_up)),
              "success")
        return redirect(_back(url_for("customers.show", customer_id=customer.id)))
    return render_template("today/follow_up_form.html", form=form, customer=customer), 400


@bp.post("/follow-ups/<int:follow_up_id>/done")
def done(follow_up_id: int):
    follow_up = get_follow_up(follow_up_id)
    form = NextForm()
    if not form.validate_on_submit():
        abort(400)
    mark_done(follow_up)
    db.session.commit()
    flash(_("Done: follow-up for %(name)s.", name=follow_up.customer.display_name), "success")
    return redirect(_back(url_for("home")))


@bp.route("/follow-ups/<int:follow_up_id>/snooze", methods=["GET", "POST"])
def snooze_follow_up(follow_up_id: int):
    follow_up = get_follow_up(follow_up_id)
    if follow_up.done_at:
        flash(_("This follow-up is done already."), "info")
        return redirect(url_for("customers.show", customer_id=follow_up.customer_id))
    if request.method == "GET":
        form = SnoozeForm(formdata=None, when="date", next=request.args.get("next", ""))
        return render_template("today/snooze_form.html", form=form, follow_up=follow_up)
    form = SnoozeForm()
    if form.validate_on_submit():
        snooze(follow_up, form.when.data, form.due_date.data)
        db.session.commit()
        flash(_("Follow-up for %(name)s moved to %(when)s.", name=follow_up.customer.display_name,
                when=due_text(follow_up)), "success")
        return redirect(_back(url_for("home")))
    return render_template("today/snooze_form.html", form=form, follow_up=follow_up), 400


# --- log a reply from the queue ------------------------------------------------------------------------


@bp.post("/queue/conversations/<int:conversation_id>/reply")
def reply(conversation_id: int):
    """Log what we answered (in WhatsApp, Instagram...) without leaving the queue."""
    conversation = db.get_or_404(Conversation, conversation_id)  # in the trash meanwhile: said below
    form = QuickReplyForm()
    if form.validate_on_submit():
        hold_customers(db.session, [conversation.customer_id])
        if conversation.deleted_at or current_customer(conversation.customer) is None:
            db.session.rollback()
            form.body.errors.append(_("This conversation was moved to the trash meanwhile; nothing was saved. "
                                      "Copy the reply and log it on Log chat."))
            return render_template("today/reply_form.html", form=form, conversation=conversation), 409
        result = log_chat(conversation.customer, conversation.channel,
                          [NewMessage(utcnow(), "staff", form.body.data.strip(), author_name=current_user.name)],
                          logged_by_id=current_user.id, conversation=conversation)
        record_posted_uses(result, request.form.getlist("quick_reply"), current_user)
        db.session.commit()
        flash(_("Reply to %(name)s logged.", name=conversation.customer.display_name), "success")
        return redirect(_back(url_for("conversations.show", conversation_id=conversation.id)))
    return render_template("today/reply_form.html", form=form, conversation=conversation), 400


# --- closing a wait without a reply --------------------------------------------------------------------


@bp.post("/queue/conversations/<int:conversation_id>/no-reply")
def mark_no_reply(conversation_id: int):
    """Nothing to answer (the customer said thanks, or the chat is over): the wait closes, audited."""
    conversation = get_conversation(conversation_id)
    if not NextForm().validate_on_submit():
        abort(400)
    if no_reply_needed(conversation):
        flash(_("No reply needed for %(name)s.", name=conversation.customer.display_name), "success")
    db.session.commit()
    return redirect(_back(url_for("conversations.show", conversation_id=conversation.id)))


@bp.post("/queue/conversations/<int:conversation_id>/reply-needed")
def mark_reply_needed(conversation_id: int):
    """Undo "no reply needed", or a wait that closed by itself on thanks: it waits on us again, audited."""
    conversation = get_conversation(conversation_id)
    if not NextForm().validate_on_submit():
        abort(400)
    if reply_needed(conversation):
        flash(_("%(name)s waits on us again.", name=conversation.customer.display_name), "success")
    db.session.commit()
    return redirect(_back(url_for("conversations.show", conversation_id=conversation.id)))


# --- pipeline stage and sales --------------------------------------------------------------------------


@bp.route("/customers/<int:customer_id>/pipeline", methods=["GET", "POST"])
def pipeline(customer_id: int):
    """Stage and expected value; a sale (amount, date, channel) when they buy, which makes them won."""
    customer = get_customer(customer_id)
    if request.method == "GET":
        form = customer_panel(customer).stage_form
        return render_template("today/pipeline_form.html", form=form, customer=customer)
    form = StageForm(needs_sale=customer.stage != "won")
    if form.validate_on_submit():
        set_stage(customer, form.stage.data, form.expected_value.data)
        if form.wants_sale:
            record_sale(customer, amount=form.amount.data, sold_on=form.sold_on.data, channel=form.channel.data,
                        created_by_id=current_user.id)
            flash(_("Sale recorded: %(name)s is won.", name=customer.display_name), "success")
        else:
            flash(_("Saved."), "success")
        db.session.commit()
        return redirect(url_for("customers.show", customer_id=customer.id))
    return render_template("today/pipeline_form.html", form=form, customer=customer), 400
