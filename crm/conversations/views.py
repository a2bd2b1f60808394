
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..admin import audit
from ..admin.trash import TRASH_DAYS, move_to_trash
from ..customers.services import IdentityInput, create_customer, find_identity
from ..extensions import db
from ..formatting import shop_zone
from ..identities import InvalidHandle, normalise_handle
from ..importers import ParseError, parse_text
from ..models import Customer, Message, utcnow
from ..replies.services import record_posted_uses
from .forms import ImportForm, LogChatForm, MessagesForm
from .importing import ImportProblem, ImportSummary, import_path, need_tags_for, plan_chat, preview_rows, save_chat
from .services import NewMessage, get_conversation, log_chat

bp = Blueprint("conversations", __name__, url_prefix="/conversations")


def _new_messages(form: MessagesForm) -> list[NewMessage]:
    now = utcnow()
    zone = shop_zone()
    return [
        NewMessage(
            sent_at=entry.sent_at.data.replace(tzinfo=zone) if entry.sent_at.data else now,
            side=entry.side.data if entry.side.data in ("customer", "staff") else "customer",
            body=entry.body.data.strip(),
            author_name=current_user.name if entry.side.data == "staff" else "",
        )
        for entry in form.filled_messages()
    ]


def _alternate_sides(form: MessagesForm, first: str) -> None:
    # A chat usually goes back and forth, so the empty rows start out that way.
    sides = (first, "staff" if first == "customer" else "customer")
    for index, entry in enumerate(form.messages):
        entry.form.side.data = sides[index % 2]


def _wants_more_rows(form: MessagesForm) -> bool:
    # Without JavaScript, "Add a message" posts the form back with one more empty row; what was typed stays.
    if "add_row" in request.form:
        form.messages.append_entry()
        return True
    return False


def _chosen_customer(form: LogChatForm) -> Customer | None:
    """The customer picked in the form, or one made from the new name (or found by the handle typed)."""
    if form.customer_id.data:
        customer = db.session.get(Customer, form.customer_id.data)
        if customer and not customer.deleted_at and not customer.merged_into_id:
            return customer
        form.customer_id.errors.append(_("This customer no longer exists; choose another."))
        return None
    handle = (form.new_customer_handle.data or "").strip()
    if handle:
        try:
            normalise_handle(form.channel.data, handle)
        except InvalidHandle as error:
            form.new_customer_handle.errors.append(_("Not valid: %(reason)s.", reason=str(error)))
            return None
        identity = find_identity(form.channel.data, handle)
        if identity and identity.customer.deleted_at:
            form.new_customer_handle.errors.append(
                _("%(handle)s belongs to %(name)s, who is in the trash; the owner can restore them.",
                  handle=identity.display, name=identity.customer.display_name))
            return None
        if identity:
            flash(_("%(handle)s is %(name)s: the chat is logged there.", handle=identity.display,
                    name=identity.customer.display_name), "info")
            return identity.customer
    name = " ".join((form.new_customer_name.data or "").split())
    if not name:
        form.customer_id.errors.append(_("Choose a customer or type the name of a new one."))
        return None
    identities = [IdentityInput(form.channel.data, handle)] if handle else []
    return create_customer(name or handle, identities=identities)


@bp.route("/log", methods=["GET", "POST"])
def log():
    form = LogChatForm()
    if request.method == "GET":
        form.customer_id.data = request.args.get("customer_id", type=int)
        _alternate_sides(form, first="customer")
    preset = db.session.get(Customer, form.customer_id.data) if form.customer_id.data else None
    pasted = request.method == "POST" and (form.pasted.data or "").strip()
    if pasted and "add_row" not in request.form:
        return _log_pasted(form, preset, save="preview" not in request.form)
    if request.method == "POST" and not _wants_more_rows(form) and form.validate_on_submit():
        messages = _new_messages(form)
        if not messages:
            form.messages.errors.append(_("Write at least one message."))
        else:
            customer = _chosen_customer(form)
            if customer is not None:
                result = log_chat(customer, form.channel.data, messages, logged_by_id=current_user.id)
                record_posted_uses(result, request.form.getlist("quick_reply"), current_user)
                db.session.commit()
                flash(
                    _("%(count)d messages logged for %(name)s.", count=len(result.added), name=customer.display_name)
                    if result.added else _("These messages were logged before; nothing added."),
                    "success",
                )
                if result.conversation is None or result.conversation.deleted_at:
                    # Logged before, in a conversation that is in the trash now.
                    return redirect(url_for("customers.show", customer_id=customer.id))
                return redirect(url_for("conversations.show", conversation_id=result.conversation.id))
            db.session.rollback()
    status = 400 if request.method == "POST" and "add_row" not in request.form else 200
    return render_template("conversations/log.html", form=form, preset=preset), status


def _paste_plan(form: LogChatForm, preset: Customer | None):
    """Parse the pasted text and decide who is who, with the choices made in the preview applied."""
    chat = parse_text(form.pasted.data, source=_("pasted text"))
    sides = {}
    for index, author in enumerate(chat.authors):
        side = request.form.get(f"side-{index}")
        if side in ("customer", "staff") and request.form.get(f"author-{index}") == author:
            sides[author] = side
    name = " ".join((form.new_customer_name.data or "").split()) or None
    return plan_chat(chat, channel=form.channel.data, sides=sides, customer=preset, customer_name=name, strict=False)


def _log_pasted(form: LogChatForm, preset: Customer | None, save: bool):
    problem = plan = None
    if not form.validate():
        problem = _("Please correct the marked fields; nothing was saved yet.")
    else:
        try:
            plan = _paste_plan(form, preset)
        except (ParseError, ImportProblem) as error:
            problem = str(error)
    if plan is not None and plan.undecided:
        problem = _("Which name in the chat is the shop? Choose “us” for it below.")
    if plan is not None and save and not problem:
        summary = ImportSummary()
        save_chat(plan, logged_by_id=current_user.id, summary=summary)
        if summary.messages_imported:
            audit.record("log_chat", ("conversation", summary.last_conversation_id), plan.customer_name,
                         {"messages": summary.messages_imported, "channel": plan.channel, "pasted": True})
        db.session.commit()
        if summary.messages_imported:
            flash(_("%(count)d messages logged for %(name)s.", count=summary.messages_imported,
                    name=plan.customer_name), "success")
        else:
            flash(_("These messages were logged before; nothing added."), "info")
        if summary.last_conversation_id is None:
            flash(_("There was no message to log in the pasted text."), "error")
            return redirect(url_for("conversations.log"))
        return redirect(url_for("conversations.show", conversation_id=summary.last_conversation_id))
    preview = {"plan": plan, "problem": problem, "rows": preview_rows(plan) if plan else [],
               "need_tags": need_tags_for(plan) if plan else []}
    if request.headers.get("HX-Request"):
        return render_template("conversations/_paste_preview.html", form=form, **preview)
    status = 400 if problem else 200
    return render_template("conversations/log.html", form=form, preset=preset, **preview), status


@bp.post("/log/preview")
def paste_preview():
    """What saving the pasted chat would do, shown as it is typed (htmx partial)."""
    form = LogChatForm()
    preset = db.session.get(Customer, form.customer_id.data) if form.customer_id.data else None
    if not (form.pasted.data or "").strip():
        return ""
    return _log_pasted(form, preset, save=False)


@bp.route("/import", methods=["GET", "POST"])
def import_chats():
    """Upload an export; everything in it is imported in one transaction, or nothing is."""
    form = ImportForm()
    summary = None
    if form.validate_on_submit():
        upload = form.export.data
        with tempfile.TemporaryDirectory(prefix="obrolan-import-") as folder:
            # The name tells the format and the chat ("WhatsApp Chat - Rina.zip"); keep it, minus any folders.
            name = Path((upload.filename or "").replace("\\", "/")).name
            if name in ("", ".", ".."):
                name = "export.txt"
            path = Path(folder) / name
            upload.save(path)
            me = [part.strip() for part in (form.me.data or "").split(",") if part.strip()]
            summary = import_path(path, format=form.format.data, channel=form.channel.data or None, me=me,
                                  logged_by_id=current_user.id)
        # A dry run rolls back, and this event with it.
        audit.record("import", "import", name, audit.import_details(summary))
        if form.dry_run.data:
            db.session.rollback()
        else:
            db.session.commit()
    elif request.method == "POST":
        return render_template("conversations/import.html", form=form, summary=None), 400
    partial = request.headers.get("HX-Request")
    template = "conversations/_import_summary.html" if partial else "conversations/import.html"
    return render_template(template, form=form, summary=summary)


@bp.get("/<int:conversation_id>")
def show(conversation_id: int):
    conversation = get_conversation(conversation_id)
    form = MessagesForm()
    _alternate_sides(form, first="staff")
    return render_template("conversations/show.html", conversation=conversation, form=form)


@bp.post("/<int:conversation_id>/delete")
def delete(conversation_id: int):
    """Anyone may delete: the conversation goes to the trash, where the owner can restore it."""
    conversation = get_conversation(conversation_id)
    move_to_trash(conversation)
    db.session.commit()
    flash(_("The conversation is in the trash; the owner can restore it within %(days)d days.", days=TRASH_DAYS),
          "success")
    return redirect(url_for("customers.show", customer_id=conversation.customer_id))


@bp.post("/<int:conversation_id>/messages/<int:message_id>/delete")
def delete_message(conversation_id: int, message_id: int):
    conversation = get_conversation(conversation_id)
    message = db.get_or_404(Message, message_id)
    if message.conversation_id != conversation.id or message.deleted_at:
        abort(404)
    move_to_trash(message)
    db.session.commit()
    flash(_("The message is in the trash; the owner can restore it within %(days)d days.", days=TRASH_DAYS),
          "success")
    return redirect(url_for("conversations.show", conversation_id=conversation.id))


@bp.post("/<int:conversation_id>/messages")
def add_messages(conversation_id: int):
    """Log the reply (and anything else said since) onto this conversation."""
    conversation = get_conversation(conversation_id)
    form = MessagesForm()
    if not _wants_more_rows(form) and form.validate_on_submit():
        messages = _new_messages(form)
        if messages:
            result = log_chat(
                conversation.customer, conversation.channel, messages,
                logged_by_id=current_user.id, conversation=conversation,
            )
            record_posted_uses(result, request.form.getlist("quick_reply"), current_user)
            db.session.commit()
            flash(_("%(count)d messages logged.", count=len(result.added)), "success")
            return redirect(url_for("conversations.show", conversation_id=conversation.id, _anchor="latest"))
        form.messages.errors.append(_("Write at least one message."))
    status = 200 if "add_row" in request.form else 400
    return render_template("conversations/show.html", conversation=conversation, form=form), status
