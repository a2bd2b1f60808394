"""Quick replies: the list with usage, adding and editing them, the shop details they fill in, the "/" picker's
suggestions, and replies sent through click-to-chat links (and taking one back)."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from ..admin import audit
from ..admin.trash import TRASH_DAYS, move_to_trash
from ..auth import owner_required
from ..auth.views import _safe_next
from ..conversations.services import get_conversation
from ..customers.services import current_customer
from ..extensions import db
from ..formatting import CHANNEL_LABELS
from ..models import ChannelIdentity, Conversation, Customer
from ..shop_settings import all_settings, save_settings, shop_name_for_customers
from ..sqlite import hold_customers
from ..today.forms import NextForm
from . import display
from .filling import placeholders
from .forms import QuickReplyEditForm, SendViaLinkForm, ShopDetailsForm
from .links import chat_link
from .services import (
    ShortcutTaken,
    UndoTooLate,
    UnfilledPrompts,
    can_manage,
    create_quick_reply,
    ensure_starter_replies,
    filled,
    get_link,
    get_quick_reply,
    search_replies,
    send_via_link,
    undo_send,
    update_quick_reply,
    usage_of,
    used_reply_ids,
    visible_replies,
)

bp = Blueprint("replies", __name__, url_prefix="/replies")
display.register(bp)


def shop_replies() -> list:
    return [reply for reply in visible_replies(current_user) if not reply.is_personal]


@bp.get("")
def index():
    replies = visible_replies(current_user)
    settings = all_settings()
    return render_template(
        "replies/index.html", shop=[r for r in replies if not r.is_personal],
        mine=[r for r in replies if r.is_personal], usage=usage_of([r.id for r in replies]),
        placeholders=placeholders, can_manage=can_manage, form=NextForm(), settings=settings,
        shop_signature=shop_name_for_customers(), nudges=_nudges(replies, settings),
    )


def _nudges(replies, settings) -> dict:
    by_id = {str(reply.id): reply for reply in replies if not reply.is_personal}
    return {key: by_id.get(settings[key]) for key in ("nudge_overdue", "nudge_hot")}


def _form_for(reply=None) -> QuickReplyEditForm:
    form = QuickReplyEditForm(obj=reply)
    if request.method == "GET" and reply is not None:
        form.scope.data = "personal" if reply.is_personal else "shop"
    if not current_user.is_owner:  # staff keep replies of their own; the shop's are the owner's
        del form.scope
    return form


def _render_form(form, reply, status=200):
    return render_template("replies/form.html", form=form, reply=reply), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = _form_for()
    if request.method == "GET" and request.args.get("scope") == "personal" and "scope" in form:
        form.scope.data = "personal"
    if form.validate_on_submit():
        personal = "scope" not in form or form.scope.data == "personal"
        try:
            reply = create_quick_reply(shortcut=form.shortcut.data, title=form.title.data, body=form.body.data,
                                       personal_of=current_user if personal else None,
                                       created_by_id=current_user.id)
            db.session.commit()
        except (ShortcutTaken, IntegrityError):
            db.session.rollback()
            form.shortcut.errors.append(_("Another quick reply has this shortcut; choose another."))
        else:
            flash(_("Quick reply /%(shortcut)s added.", shortcut=reply.shortcut), "success")
            return redirect(url_for("replies.index"))
    return _render_form(form, None, 400 if request.method == "POST" else 200)


@bp.route("/<int:reply_id>/edit", methods=["GET", "POST"])
def edit(reply_id: int):
    reply = get_quick_reply(reply_id, current_user, manage=True)
    form = _form_for(reply)
    if "scope" in form and request.method == "POST":
        form.scope.data = "personal" if reply.is_personal else "shop"  # who it is for stays as it was
    if form.validate_on_submit():
        try:
            update_quick_reply(reply, shortcut=form.shortcut.data, title=form.title.data, body=form.body.data)
            db.session.commit()
        except (ShortcutTaken, IntegrityError):
            db.session.rollback()
            form.shortcut.errors.append(_("Another quick reply has this shortcut; choose another."))
        else:
            flash(_("Quick reply /%(shortcut)s saved.", shortcut=reply.shortcut), "success")
            return redirect(url_for("replies.index"))
    return _render_form(form, reply, 400 if request.method == "POST" else 200)


@bp.post("/<int:reply_id>/delete")
def delete(reply_id: int):
    reply = get_quick_reply(reply_id, current_user, manage=True)
    if not NextForm().validate_on_submit():
        abort(400)
    move_to_trash(reply)
    db.session.commit()
    flash(_("Quick reply /%(shortcut)s is in the trash; the owner can restore it within %(days)d days.",
            shortcut=reply.shortcut, days=TRASH_DAYS), "success")
    return redirect(url_for("replies.index"))


@bp.post("/starters")
@owner_required
def starters():
    if not NextForm().validate_on_submit():
        abort(400)
    added = ensure_starter_replies()
    db.session.commit()
    flash(ngettext("%(num)d starter reply added back.", "%(num)d starter replies added back.", len(added)) if added
          else _("The shop has every starter reply (or its shortcut is taken)."), "success" if added else "info")
    return redirect(url_for("replies.index"))


@bp.route("/shop", methods=["GET", "POST"])
@owner_required
def shop_details():
    """What {toko} and {rekening} are filled with, and which quick replies nudge on Today."""
    form = ShopDetailsForm(data=all_settings() if request.method == "GET" else None)
    choices = [SelectChoice("", _("No nudge"))] + [
        SelectChoice(str(reply.id), f"/{reply.shortcut} · {reply.title}") for reply in shop_replies()]
    form.nudge_overdue.choices = form.nudge_hot.choices = choices
    if form.validate_on_submit():
        changed = save_settings({
            "shop_name": " ".join((form.shop_name.data or "").split()),
            "bank_accounts": (form.bank_accounts.data or "").strip(),
            "nudge_overdue": form.nudge_overdue.data, "nudge_hot": form.nudge_hot.data,
        }, current_user.id)
        if changed:
            audit.record("shop_details", "shop", ", ".join(changed), {"changed": changed})
        db.session.commit()
        flash(_("Shop details saved."), "success")
        return redirect(url_for("replies.index"))
    return render_template("replies/shop.html", form=form), 400 if request.method == "POST" else 200


# --- the "/" picker -------------------------------------------------------------------------------------


def _reply_context():
    """The customer and conversation a reply box is for, from the picker's query string."""
    conversation_id = request.args.get("conversation_id", type=int)
    conversation = get_conversation(conversation_id) if conversation_id else None
    customer_id = request.args.get("customer_id", type=int)
    customer = conversation.customer if conversation else None
    if customer is None and customer_id:
        customer = db.session.get(Customer, customer_id)
        if customer is None or customer.deleted_at or customer.merged_into_id:
            customer = None
    name = " ".join(request.args.get("name", "").split())[:200] or None
    return customer, conversation, name


@bp.get("/pick")
def pick():
    """Suggestions for what was typed after "/", filled for this customer (JSON, for static/app.js)."""
    customer, conversation, name = _reply_context()
    replies = visible_replies(current_user)
    found = search_replies(replies, request.args.get("q", "")[:30], usage_of([r.id for r in replies]))
    query = request.args.get("q", "")
    return jsonify({
        "replies": [{
            "id": reply.id, "shortcut": reply.shortcut, "title": reply.title, "personal": reply.is_personal,
            "text": filled(reply, user=current_user, customer=customer, conversation=conversation,
                           customer_name=name),
        } for reply in found],
        "none": _("No quick reply matches /%(typed)s.", typed=query) if query else _("No quick replies yet."),
    })


# --- replies sent through a link ------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _refused(message: str, form: SendViaLinkForm, status: int = 400):
    if _wants_json():
        return jsonify({"ok": False, "error": message}), status
    flash(message, "error")
    return redirect(_safe_next(form.next.data) if form.next.data else url_for("home"))


@bp.post("/send")
def send():
    """Log the reply (or that the chat was opened), then open the chat: page scripts open the link themselves
    as the button is pressed and read this answer as JSON; without scripts this answer is the redirect."""
    form = SendViaLinkForm()
    if not form.validate_on_submit():
        return _refused(_("The reply could not be sent: reload the page and try again."), form)
    # Under the write lock: a colleague's merge or trash of this customer, or this same tap posted twice, is
    # seen whole here, never half-applied (crm.sqlite.hold_customers).
    hold_customers(db.session, [form.customer_id.data])
    customer = current_customer(db.get_or_404(Customer, form.customer_id.data))
    if customer is None:
        return _refused(_("This customer was moved to the trash meanwhile; nothing was logged."), form, 409)
    identity = db.session.get(ChannelIdentity, form.identity_id.data)
    if identity is None or identity.customer_id != customer.id:  # a merge moves the handles to the survivor
        abort(404)
    conversation = db.session.get(Conversation, form.conversation_id.data) if form.conversation_id.data else None
    if conversation is not None and (conversation.deleted_at or conversation.customer_id != customer.id):
        conversation = None  # trashed or merged meanwhile: the reply goes to the customer's current conversation
    text = form.text.data or ""
    try:
        link = send_via_link(customer, identity, text, user=current_user, conversation=conversation,
                             quick_reply_ids=used_reply_ids(request.form.getlist("quick_reply"), current_user))
    except UnfilledPrompts as error:
        return _refused(_("Fill in %(blanks)s before sending.", blanks=", ".join(f"{{?{name}}}" for name in
                                                                                error.names)), form)
    db.session.commit()
    channel = CHANNEL_LABELS[identity.channel]
    if link.text:
        message = _("Reply to %(name)s logged as sent on %(channel)s.", name=customer.display_name, channel=channel)
    else:
        message = _("Opened the chat with %(name)s on %(channel)s.", name=customer.display_name, channel=channel)
    flash(message, "success")
    url = chat_link(identity.channel, identity.handle, text.strip())
    if _wants_json():
        return jsonify({"ok": True, "url": url, "message": message,
                        "next": _safe_next(form.next.data) if form.next.data else None})
    return redirect(url, code=303)


@bp.post("/sent/<int:link_id>/undo")
def undo(link_id: int):
    form = NextForm()
    if not form.validate_on_submit():
        abort(400)
    link = get_link(link_id)
    if link.user_id != current_user.id and not current_user.is_owner:
        abort(403)
    hold_customers(db.session, [link.customer_id])
    link = get_link(link_id)
    try:
        undo_send(link, current_user)
    except UndoTooLate:
        flash(_("Too late to take this reply back; delete the message from the thread instead."), "error")
    else:
        db.session.commit()
        flash(_("Taken back: the reply to %(name)s is no longer logged.", name=link.customer.display_name),
              "success")
    back = url_for("conversations.show", conversation_id=link.conversation_id) if link.conversation_id \
        else url_for("customers.show", customer_id=link.customer_id)
    return redirect(_safe_next(form.next.data) if form.next.data else back)
