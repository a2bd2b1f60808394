

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..admin import audit
from ..admin.trash import TRASH_DAYS, move_to_trash
from ..customers.services import IdentityInput, create_customer, current_customer, find_identity, usual_channels
from ..extensions import db
from ..formatting import shop_zone
from ..identities import InvalidHandle, normalise_handle
from ..importers import ParseError, parse_text
from ..models import Conversation, Customer, FormSubmission, ImportJob, Message, utcnow
from ..replies.services import record_posted_uses
from ..sqlite import hold_customers
from ..today.display import PageTexts
from . import display, import_jobs
from .chat_plans import ImportProblem, need_tags_for, plan_chat, preview_rows, reading_options
from .forms import ImportForm, LogChatForm, MessagesForm, too_large_message, upload_name
from .importing import ImportRun, ImportSummary, preview_notes, save_chat
from .services import (
    NewMessage,
    earlier_submission,
    get_conversation,
    log_chat,
    new_submission_key,
    record_submission,
    thread_window,
)

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


def _customer_now(chosen: Customer | None) -> tuple[Customer | None, str | None]:
    """The chosen customer as they are now, read under `hold_customers`: a colleague may have merged them into
    another (the chat goes there, and the page says so) or moved them to the trash (refused, with the reason)."""
    customer = current_customer(chosen) if chosen is not None else None
    if customer is not None:
        if customer.id != chosen.id:
            flash(_("%(name)s was merged into %(other)s meanwhile: the chat is logged there.",
                    name=chosen.display_name, other=customer.display_name), "info")
        return customer, None
    if chosen is not None and chosen.deleted_at:
        return None, _("%(name)s was moved to the trash meanwhile: choose another customer, or ask the owner to "
                       "restore them. Nothing was saved yet.", name=chosen.display_name)
    return None, _("This customer no longer exists; choose another.")


def _saved_before(earlier: FormSubmission):
    """The answer to the second post of a form saved already: where the first one went."""
    db.session.rollback()
    flash(_("This chat was saved already (the form was sent twice); nothing more was added."), "info")
    conversation = db.session.get(Conversation, earlier.conversation_id) if earlier.conversation_id else None
    if conversation is not None and not conversation.deleted_at:
        return redirect(url_for("conversations.show", conversation_id=conversation.id))
    if earlier.customer_id:
        return redirect(url_for("customers.show", customer_id=earlier.customer_id))
    return redirect(url_for("conversations.log"))


def _chosen_customer(form: LogChatForm) -> Customer | None:
    """The customer picked in the form, or one made from the new name (or found by the handle typed)."""
    if form.customer_id.data:
        chosen = db.session.get(Customer, form.customer_id.data)
        customer, problem = _customer_now(chosen)
        if problem:
            form.customer_id.errors.append(problem)
        return customer
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
    if request.method == "GET" and preset is not None:
        form.channel.data = usual_channels([preset]).get(preset.id, form.channel.data)
    pasted = request.method == "POST" and (form.pasted.data or "").strip()
    if pasted and "add_row" not in request.form:
        return _log_pasted(form, preset, save="preview" not in request.form)
    if request.method == "POST" and not _wants_more_rows(form) and form.validate_on_submit():
        messages = _new_messages(form)
        if not messages:
            form.messages.errors.append(_("Write at least one message."))
        else:
            # Checked and saved under the write lock: a double "Save chat" or a colleague's merge or trash of
            # this customer at the same moment is seen here, never half-applied.
            hold_customers(db.session, [form.customer_id.data] if form.customer_id.data else [])
            earlier = earlier_submission(form.submission.data)
            if earlier is not None:
                return _saved_before(earlier)
            customer = _chosen_customer(form)
            if customer is not None:
                result = log_chat(customer, form.channel.data, messages, logged_by_id=current_user.id)
                record_posted_uses(result, request.form.getlist("quick_reply"), current_user)
                record_submission(form.submission.data, result.conversation, customer)
                db.session.commit()
                flash(
                    ngettext("%(num)d message logged for %(name)s.", "%(num)d messages logged for %(name)s.",
                             len(result.added), name=customer.display_name)
                    if result.added else _("These messages were logged before; nothing added."),
                    "success",
                )
                if result.conversation is None or result.conversation.deleted_at:
                    # Logged before, in a conversation that is in the trash now.
                    return redirect(url_for("customers.show", customer_id=customer.id))
                return redirect(url_for("conversations.show", conversation_id=result.conversation.id))
            db.session.rollback()
    status = 400 if request.method == "POST" and "add_row" not in request.form else 200
    _give_key(form)
    return render_template("conversations/log.html", form=form, preset=preset), status


def _give_key(form: MessagesForm) -> None:
    if not form.submission.data:
        form.submission.data = new_submission_key()


DATE_ORDERS = {"day": True, "month": False}


def _parse_paste(form: LogChatForm, preset: Customer | None):
    """The pasted text read with the date order chosen in the preview, if one was."""
    day_first = DATE_ORDERS.get(request.form.get("date_order", ""))
    options = reading_options(form.channel.data, customer=preset, day_first=day_first)
    return parse_text(form.pasted.data, source=_("pasted text"), options=options)


def _paste_plan(form: LogChatForm, chat, preset: Customer | None):
    """Decide who is who in the parsed paste, with the choices made in the preview applied."""
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
            chat = _parse_paste(form, preset)
            if save:
                # Who the customer is gets decided under the write lock (see log()), after the parsing.
                hold_customers(db.session, [preset.id] if preset else [])
                earlier = earlier_submission(form.submission.data)
                if earlier is not None:
                    return _saved_before(earlier)
                if preset is not None:
                    preset, problem = _customer_now(preset)
            if not problem:
                plan = _paste_plan(form, chat, preset)
        except (ParseError, ImportProblem) as error:
            problem = str(error)
    if plan is not None and plan.undecided:
        problem = _("Which name in the chat is the shop? Choose “us” for it below.")
    if plan is not None and save and not problem:
        run = ImportRun(logged_by_id=current_user.id, read_first=True)
        save_chat(plan, run)
        summary = run.summary
        last = db.session.get(Conversation, summary.last_conversation_id) if summary.last_conversation_id else None
        record_submission(form.submission.data, last, last.customer if last else None)
        if summary.messages_imported:
            audit.record("log_chat", ("conversation", summary.last_conversation_id), plan.customer_name,
                         {"messages": summary.messages_imported, "channel": plan.channel, "pasted": True})
        db.session.commit()
        if summary.messages_imported:
            flash(ngettext("%(num)d message logged for %(name)s.", "%(num)d messages logged for %(name)s.",
                           summary.messages_imported, name=plan.customer_name), "success")
        else:
            flash(_("These messages were logged before; nothing added."), "info")
        if summary.future_dated:
            flash(ngettext("%(num)d message is dated in the future: check the day and the month, and the phone’s "
                           "clock.", "%(num)d messages are dated in the future: check the day and the month, and "
                           "the phone’s clock.", summary.future_dated), "error")
        if summary.last_conversation_id is None:
            flash(_("There was no message to log in the pasted text."), "error")
            return redirect(url_for("conversations.log"))
        # A paste spanning more than the conversation gap went into several conversations: the page says so.
        parts = list(dict.fromkeys(summary.conversation_ids))
        split = {"split": ",".join(map(str, parts))} if len(parts) > 1 else {}
        return redirect(url_for("conversations.show", conversation_id=summary.last_conversation_id, **split))
    preview = {"plan": plan, "problem": problem, "rows": preview_rows(plan) if plan else [],
               "need_tags": need_tags_for(plan) if plan else [], "notes": preview_notes(plan) if plan else None,
               "date_order_choice": request.form.get("date_order", "")}
    if request.headers.get("HX-Request"):
        return render_template("conversations/_paste_preview.html", form=form, **preview)
    if save:
        db.session.rollback()
    status = 400 if problem else 200
    _give_key(form)
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
    """Upload an export: it is imported in the background, all of it or nothing, while staff keep working."""
    form = ImportForm()
    job = None
    if form.validate_on_submit():
        job = import_jobs.create_job(
            source_name=upload_name(form.export.data.filename), upload=form.export.data, dry_run=form.dry_run.data,
            options={"format": form.format.data, "channel": form.channel.data or None, "confirm_dates": True},
            user=current_user, locale=str(get_locale() or ""),
        )
        db.session.commit()
        import_jobs.start_worker(current_app._get_current_object())
        job = import_jobs.wait_for(job.id, current_app.config["IMPORT_WAIT_SECONDS"])
        if not request.headers.get("HX-Request"):
            return redirect(url_for("conversations.import_job", job_id=job.id), 303)
        response = make_response(render_template("conversations/_import_panel.html", form=ImportForm(formdata=None),
                                                 job=job, **_job_context(job)))
        response.headers["HX-Push-Url"] = url_for("conversations.import_job", job_id=job.id)
        return response
    status = 400 if request.method == "POST" else 200
    if request.method == "GET":
        import_jobs.recover_dead_jobs()
    if request.headers.get("HX-Request"):
        return render_template("conversations/_import_panel.html", form=form, job=None), status
    return render_template("conversations/import.html", form=form, job=None, recent=_recent_jobs()), status


def _window(conversation):
    """The messages the thread page shows: the newest, or around the message named in the URL."""
    def message_in_url(name):
        message_id = request.args.get(name, type=int)
        message = db.session.get(Message, message_id) if message_id else None
        return message if message is not None and message.conversation_id == conversation.id else None

    return thread_window(conversation, before=message_in_url("before"), start=message_in_url("from"))


@bp.errorhandler(413)
def upload_too_large(error):
    if request.endpoint != "conversations.import_chats":
        from ..errors import render_http_error

        return render_http_error(error)
    form = ImportForm(formdata=None)
    form.export.errors = [too_large_message(current_app.config["MAX_CONTENT_LENGTH"])]
    template = "conversations/_import_panel.html" if request.headers.get("HX-Request") else "conversations/import.html"
    return render_template(template, form=form, job=None, recent=_recent_jobs()), 413


def _recent_jobs(limit: int = 10) -> list[ImportJob]:
    return db.session.execute(db.select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)).scalars().all()


def _job_context(job: ImportJob) -> dict:
    summary = ImportSummary.from_dict(job.summary) if job.summary else None
    may_act = current_user.is_owner or job.created_by_id == current_user.id
    file_kept = import_jobs.file_kept(job)
    authors, problems = [], summary.errors if summary else []
    if summary and summary.undecided and may_act and file_kept and job.status != "confirm":
        for chat in summary.undecided:
            authors += [name for name in chat["authors"] if name not in authors]
        asked = {chat["file"] for chat in summary.undecided}
        problems = [error for error in summary.errors if error["file"] not in asked]
    return {"summary": summary, "undecided_authors": authors[:30], "problems": problems, "file_kept": file_kept,
            "may_act": may_act}


@bp.context_processor
def import_display():
    return {"date_order": display.date_order, "note_text": display.note_text, "job_headline": display.job_headline,
            "job_outcome": display.job_outcome,
            "max_message_chars": current_app.config["IMPORT_MAX_MESSAGE_CHARS"]}


def _get_job(job_id: int, acting: bool = False) -> ImportJob:
    job = db.get_or_404(ImportJob, job_id)
    if acting and not (current_user.is_owner or job.created_by_id == current_user.id):
        abort(403)
    return job


def _show_job(job: ImportJob, status: int = 200):
    context = {"job": job, **_job_context(job)}
    if request.headers.get("HX-Request"):
        response = make_response(render_template("conversations/_import_job.html", **context), status)
        response.headers["HX-Push-Url"] = url_for("conversations.import_job", job_id=job.id)
        return response
    return render_template("conversations/import_job.html", **context), status


@bp.get("/import/<int:job_id>")
def import_job(job_id: int):
    """One import: its progress while it runs (the page asks again every second), then its summary."""
    job = _get_job(job_id)
    if job.status == "running":
        import_jobs.recover_dead_jobs()
        db.session.refresh(job)
    return _show_job(job)


@bp.post("/import/<int:job_id>/again")
def import_again(job_id: int):
    """Do more with the same file: import it after a check, read its dates the other way, or import it with the
    shop's names chosen on the page."""
    job = _get_job(job_id, acting=True)
    form = FlaskForm()
    if not form.validate_on_submit() or not import_jobs.file_kept(job):
        flash(_("This file is no longer kept: upload it again."), "error")
        return redirect(url_for("conversations.import_chats"))
    what = request.form.get("what")
    changes: dict = {}
    if what == "import":
        dry_run = False
    elif what in ("day_first", "month_first"):
        dry_run = job.dry_run
        changes["day_first"] = what == "day_first"
    elif what == "shop":
        dry_run = job.dry_run
        ours = [request.form.get(f"author-{index}", "") for index in range(60)
                if request.form.get(f"side-{index}") == "staff"]
        ours = [name for name in ours if name.strip()]
        if not ours:
            flash(_("Choose “us” for the shop's name in the chat."), "error")
            return _show_job(job, 400)
        changes["me"] = sorted({*(job.options.get("me") or []), *ours})
    elif what == "retry":
        dry_run = job.dry_run
    else:
        abort(400)
    waiting = job.status == "confirm"
    new = import_jobs.follow_up(job, user=current_user, dry_run=dry_run, **changes)
    db.session.commit()
    if waiting:  # read the other way instead: what this one wrote goes
        import_jobs.discard(db.session.get(ImportJob, job_id))
    import_jobs.start_worker(current_app._get_current_object())
    return _show_job(import_jobs.wait_for(new.id, current_app.config["IMPORT_WAIT_SECONDS"]))


@bp.post("/import/<int:job_id>/publish")
def import_publish(job_id: int):
    """The dates were read right: show what the import saved."""
    job = _get_job(job_id, acting=True)
    if FlaskForm().validate_on_submit() and job.status == "confirm":
        import_jobs.publish(job)
        db.session.commit()
    return _show_job(db.session.get(ImportJob, job_id))


@bp.post("/import/<int:job_id>/discard")
def import_discard(job_id: int):
    job = _get_job(job_id, acting=True)
    if FlaskForm().validate_on_submit() and job.status == "confirm":
        import_jobs.discard(job)
    return _show_job(db.session.get(ImportJob, job_id))


@bp.get("/<int:conversation_id>")
def show(conversation_id: int):
    conversation = get_conversation(conversation_id)
    form = MessagesForm()
    _alternate_sides(form, first="staff")
    _give_key(form)
    return render_template("conversations/show.html", conversation=conversation, form=form,
                           window=_window(conversation), T=PageTexts(), split=_split_paste(conversation))


def _split_paste(conversation: Conversation) -> list[Conversation]:
    """The conversations one paste went into (?split=3,4,5), when there were several: each is linked."""
    ids = [int(part) for part in request.args.get("split", "").split(",")[:50] if part.isdigit()]
    if len(ids) < 2:
        return []
    parts = db.session.execute(
        db.select(Conversation).where(Conversation.id.in_(ids), Conversation.customer_id == conversation.customer_id,
                                      Conversation.deleted_at.is_(None))
        .order_by(Conversation.first_message_at, Conversation.id)
    ).scalars().all()
    return parts if len(parts) > 1 else []


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
    conversation = db.get_or_404(Conversation, conversation_id)  # in the trash meanwhile: see _log_elsewhere
    form = MessagesForm()
    if not _wants_more_rows(form) and form.validate_on_submit():
        messages = _new_messages(form)
        if messages:
            hold_customers(db.session, [conversation.customer_id])
            earlier = earlier_submission(form.submission.data)
            if earlier is not None:
                return _saved_before(earlier)
            if conversation.deleted_at or current_customer(conversation.customer) is None:
                return _log_elsewhere(conversation)
            result = log_chat(
                conversation.customer, conversation.channel, messages,
                logged_by_id=current_user.id, conversation=conversation,
            )
            record_posted_uses(result, request.form.getlist("quick_reply"), current_user)
            record_submission(form.submission.data, result.conversation, conversation.customer)
            db.session.commit()
            flash(ngettext("%(num)d message logged.", "%(num)d messages logged.", len(result.added))
                  if result.added else _("These messages were logged before; nothing added."), "success")
            return redirect(url_for("conversations.show", conversation_id=conversation.id, _anchor="latest"))
        form.messages.errors.append(_("Write at least one message."))
    if conversation.deleted_at or current_customer(conversation.customer) is None:
        return _log_elsewhere(conversation)
    status = 200 if "add_row" in request.form else 400
    _give_key(form)
    return render_template("conversations/show.html", conversation=conversation, form=form,
                           window=thread_window(conversation), T=PageTexts()), status


def _log_elsewhere(conversation: Conversation):
    """The conversation (or its customer) went to the trash while the reply was typed: nothing is saved into it,
    and the typed messages come back on Log chat, for its customer if they are still there."""
    db.session.rollback()
    form = LogChatForm(formdata=request.form)
    form.channel.data = conversation.channel
    customer = current_customer(conversation.customer)
    if customer is not None:
        form.customer_id.data = customer.id
        flash(_("This conversation was moved to the trash meanwhile. Your messages are kept below: save them to "
                "log them as a new conversation with %(name)s.", name=customer.display_name), "error")
    else:
        form.customer_id.data = None
        flash(_("%(name)s was moved to the trash meanwhile. Your messages are kept below: choose who to log them "
                "for.", name=conversation.customer.display_name), "error")
    return render_template("conversations/log.html", form=form, preset=customer), 409
