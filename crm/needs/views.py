"""Tags: the owner edits tags and their keyword rules and re-tags everything; staff add and remove tags."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..admin import audit
from ..auth import owner_required
from ..conversations.forms import MessagesForm
from ..conversations.services import get_conversation
from ..extensions import db
from ..models import ConversationTag, Tag
from ..today.forms import NextForm
from .forms import COLOURS, ConversationTagForm, TagForm
from .matching import parse_keywords
from .tagging import (
    add_tag_by_hand,
    all_tags,
    ensure_starter_tags,
    remove_tag_by_hand,
    retag_all,
    slug_for,
    tag_title,
)

bp = Blueprint("needs", __name__)


def _usage() -> dict[int, int]:
    rows = db.session.execute(
        db.select(ConversationTag.tag_id, db.func.count())
        .where(ConversationTag.removed_at.is_(None))
        .group_by(ConversationTag.tag_id)
    )
    return dict(rows.all())


@bp.get("/tags")
@owner_required
def index():
    return render_template("needs/index.html", tags=all_tags(), usage=_usage(), form=NextForm())


def _unique_name(title: str) -> str:
    base = slug_for(title)
    name, n = base, 1
    while db.session.execute(db.select(Tag.id).where(Tag.name == name)).first():
        n += 1
        name = f"{base[:56]}-{n}"
    return name


def _rules(tag: Tag) -> dict:
    """What the audit trail keeps of a tag: how it reads and the rules that put it on chats."""
    return {"title": tag.title, "colour": tag.colour, "kind": tag.kind,
            "keywords": tag.keywords.split("\n") if tag.keywords else []}


def _apply(tag: Tag, form: TagForm) -> None:
    tag.title = " ".join(form.title.data.split())
    tag.colour = form.colour.data.lower()
    tag.kind = form.kind.data
    tag.keywords = "\n".join(parse_keywords(form.keywords.data or ""))


@bp.route("/tags/new", methods=["GET", "POST"])
@owner_required
def new():
    form = TagForm()
    if form.validate_on_submit():
        tag = Tag(name=_unique_name(form.title.data))
        _apply(tag, form)
        db.session.add(tag)
        db.session.flush()
        audit.record("tag_added", tag, tag.title, _rules(tag))
        db.session.commit()
        flash(_("Tag %(title)s added. Re-tag all conversations to apply its rules to chats logged before.",
                title=tag.title), "success")
        return redirect(url_for("needs.index"))
    return render_template("needs/form.html", form=form, tag=None), 400 if request.method == "POST" else 200


@bp.route("/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@owner_required
def edit(tag_id: int):
    tag = db.get_or_404(Tag, tag_id)
    form = TagForm(obj=tag)
    if tag.colour not in COLOURS:  # set outside the UI: keep it choosable
        form.colour.choices = [*form.colour.choices, SelectChoice(tag.colour, tag.colour)]
    if request.method == "GET":
        form.title.data = tag_title(tag)
    if form.validate_on_submit():
        before = (tag.kind, tag.keywords)
        recorded = _rules(tag)
        _apply(tag, form)
        changed = before != (tag.kind, tag.keywords)
        if edits := audit.changes(recorded, _rules(tag)):
            audit.record("tag_edited", tag, tag.title, {"changed": edits})
        db.session.commit()
        flash(_("Saved. Re-tag all conversations to apply the new rules to chats logged before.") if changed
              else _("Saved."), "success")
        return redirect(url_for("needs.index"))
    return render_template("needs/form.html", form=form, tag=tag), 400 if request.method == "POST" else 200


@bp.post("/tags/<int:tag_id>/delete")
@owner_required
def delete(tag_id: int):
    tag = db.get_or_404(Tag, tag_id)
    if not NextForm().validate_on_submit():
        abort(400)
    title = tag_title(tag)
    audit.record("tag_deleted", tag, title, {**_rules(tag), "conversations": _usage().get(tag.id, 0)})
    db.session.delete(tag)
    db.session.commit()
    flash(_("Tag %(title)s deleted from every conversation.", title=title), "success")
    return redirect(url_for("needs.index"))


@bp.post("/tags/retag")
@owner_required
def retag():
    if not NextForm().validate_on_submit():
        abort(400)
    count = retag_all()
    audit.record("retag", "tag", "", {"conversations": count})
    db.session.commit()
    flash(ngettext("%(num)d conversation re-tagged. Tags removed by hand stayed removed.",
                   "%(num)d conversations re-tagged. Tags removed by hand stayed removed.", count), "success")
    return redirect(url_for("needs.index"))


@bp.post("/tags/restore")
@owner_required
def restore():
    if not NextForm().validate_on_submit():
        abort(400)
    added = ensure_starter_tags()
    if added:
        audit.record("starter_tags", "tag", ", ".join(tag.title for tag in added))
    db.session.commit()
    flash(_("Starter tags added back: %(titles)s.", titles=", ".join(tag_title(t) for t in added)) if added
          else _("All starter tags are there already."), "success")
    return redirect(url_for("needs.index"))


# --- by hand, on a conversation (staff and owner) -------------------------------------------------------


@bp.post("/conversations/<int:conversation_id>/tags")
def add_to_conversation(conversation_id: int):
    conversation = get_conversation(conversation_id)
    form = ConversationTagForm()
    form.tag_id.choices = [SelectChoice(t.id, tag_title(t)) for t in all_tags()]
    if not form.validate_on_submit():
        flash(_("Choose a tag to add."), "error")
        messages = MessagesForm(formdata=None)
        for entry in messages.messages:
            entry.form.side.data = "staff"
        from ..conversations.services import thread_window
        from ..today.display import PageTexts

        return render_template("conversations/show.html", conversation=conversation, form=messages,
                               window=thread_window(conversation), T=PageTexts()), 400
    tag = db.session.get(Tag, form.tag_id.data)
    add_tag_by_hand(conversation, tag, current_user.id)
    audit.record("tagged", conversation, conversation.customer.display_name, {"tag": tag.title})
    db.session.commit()
    flash(_("Tagged %(title)s.", title=tag_title(tag)), "success")
    return redirect(url_for("conversations.show", conversation_id=conversation.id, _anchor="tags"))


@bp.post("/conversations/<int:conversation_id>/tags/<int:tag_id>/remove")
def remove_from_conversation(conversation_id: int, tag_id: int):
    conversation = get_conversation(conversation_id)
    tag = db.get_or_404(Tag, tag_id)
    if not NextForm().validate_on_submit():
        abort(400)
    remove_tag_by_hand(conversation, tag, current_user.id)
    audit.record("untagged", conversation, conversation.customer.display_name, {"tag": tag.title})
    db.session.commit()
    flash(_("%(title)s removed; re-tagging will not add it back.", title=tag_title(tag)), "success")
    return redirect(url_for("conversations.show", conversation_id=conversation.id, _anchor="tags"))
