"""Tags on conversations, the database side: the starter set, automatic tagging, tags by hand, re-tagging.

The matching itself is `crm.needs.matching` (pure); this module reads the customer's messages, runs the shop's
rules over them and keeps `conversation_tags` in step. A row there is one of:

- automatic (source "auto"): the rules found it; reason_message/word/keyword say why;
- by hand (source "manual"): a staff member added it; the rules never touch it;
- removed by hand (removed_at set, either source): a tombstone, so the rules never add it back.

Functions add and flush; the caller commits once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterable

from flask_babel import get_locale

from ..extensions import db
from ..models import Conversation, ConversationTag, Message, Tag, utcnow
from .matching import STARTER_TAGS, Rule, compile_rules, parse_keywords

RETAG_BATCH = 500
_STARTER = {t.name: t for t in STARTER_TAGS}


def starter_tag_rows() -> list[dict]:
    """The starter tags as rows for the tags table (used by migration 0003 and `ensure_starter_tags`)."""
    return [
        {"name": t.name, "title": t.title_en, "colour": t.colour, "kind": t.kind, "keywords": "\n".join(t.keywords)}
        for t in STARTER_TAGS
    ]


def ensure_starter_tags() -> list[Tag]:
    """Add the starter tags the shop does not have (by name); the ones it has, edited or not, stay as they are."""
    have = set(db.session.execute(db.select(Tag.name)).scalars())
    added = [Tag(**row) for row in starter_tag_rows() if row["name"] not in have]
    db.session.add_all(added)
    db.session.flush()
    return added


def tag_title(tag: Tag) -> str:
    """The tag's title in the reader's language: a starter tag nobody renamed speaks Indonesian too."""
    return _title_in_reader_language(tag.name, tag.title)


def _title_in_reader_language(name: str, title: str) -> str:
    starter = _STARTER.get(name)
    if starter and title == starter.title_en and str(get_locale() or "en").startswith("id"):
        return starter.title_id
    return title


class TagTitle:
    """A tag's title, put in the reader's language only when printed (for figures made before the reader is
    known). Plain text to Jinja, so it is escaped: flask_babel's LazyString passes for safe HTML, and printed
    a title like '<i hx-post=/logout hx-trigger=load>' as markup."""

    __slots__ = ("name", "title")

    def __init__(self, tag: Tag):
        self.name, self.title = tag.name, tag.title

    def __str__(self) -> str:
        return _title_in_reader_language(self.name, self.title)


def keywords_of(tag: Tag) -> tuple[str, ...]:
    return parse_keywords(tag.keywords or "")


def slug_for(title: str) -> str:
    """A tag's stable name from its first title: "Size question" -> "size-question"."""
    from .matching import normalise

    return re.sub(r"[^a-z0-9]+", "-", normalise(title)).strip("-")[:60] or "tag"


# --- automatic tagging ---------------------------------------------------------------------------------


def current_matcher():
    """The shop's rules, compiled once per set of rules (tags change rarely; chats are logged all day)."""
    rules = db.session.execute(
        db.select(Tag.id, Tag.keywords).where(Tag.kind == "need").order_by(Tag.id)
    ).all()
    return _compiled(tuple((tag_id, keywords or "") for tag_id, keywords in rules))


@lru_cache(maxsize=8)
def _compiled(rules: tuple[tuple[int, str], ...]):
    return compile_rules(Rule(str(tag_id), parse_keywords(keywords)) for tag_id, keywords in rules)


def tag_conversation(conversation: Conversation, matcher=None) -> None:
    """Bring the automatic tags of one conversation in line with the rules and the customer's messages."""
    _retag({conversation.id: _customer_messages([conversation.id]).get(conversation.id, [])},
           matcher or current_matcher())


def tag_conversations(conversation_ids: Iterable[int]) -> int:
    """Tag the conversations an import touched: one call after saving, batched like `retag_all`."""
    return retag_all(conversation_ids)


def retag_all(conversation_ids: Iterable[int] | None = None) -> int:
    """Re-run the rules over every live conversation (or the given ones), in batches; returns how many."""
    matcher = current_matcher()
    if conversation_ids is None:
        conversation_ids = db.session.execute(
            db.select(Conversation.id).where(Conversation.deleted_at.is_(None)).order_by(Conversation.id)
        ).scalars().all()
    ids = list(conversation_ids)
    for start in range(0, len(ids), RETAG_BATCH):
        batch = ids[start : start + RETAG_BATCH]
        messages = _customer_messages(batch)
        _retag({cid: messages.get(cid, []) for cid in batch}, matcher)
    return len(ids)


def _customer_messages(conversation_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    rows = db.session.execute(
        db.select(Message.conversation_id, Message.id, Message.body)
        .where(Message.conversation_id.in_(conversation_ids), Message.side == "customer",
               Message.deleted_at.is_(None))
        .order_by(Message.conversation_id, Message.sent_at, Message.id)
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for conversation_id, message_id, body in rows:
        found.setdefault(conversation_id, []).append((message_id, body))
    return found


def _retag(messages_by_conversation: dict[int, list[tuple[int, str]]], matcher) -> None:
    existing: dict[int, dict[int, ConversationTag]] = {}
    rows = db.session.execute(
        db.select(ConversationTag).where(ConversationTag.conversation_id.in_(list(messages_by_conversation)))
    ).scalars()
    for row in rows:
        existing.setdefault(row.conversation_id, {})[row.tag_id] = row
    for conversation_id, messages in messages_by_conversation.items():
        matches = matcher.first_matches([body for _, body in messages])
        rows_here = existing.get(conversation_id, {})
        for key, match in matches.items():
            tag_id = int(key)
            message_id = messages[match.message_index][0]
            row = rows_here.get(tag_id)
            if row is None:
                db.session.add(ConversationTag(
                    conversation_id=conversation_id, tag_id=tag_id, source="auto", reason_message_id=message_id,
                    reason_word=match.word, reason_keyword=match.keyword,
                ))
            elif row.source == "auto" and row.removed_at is None:
                # Older messages logged later can move the first match; the reason follows it.
                row.reason_message_id, row.reason_word, row.reason_keyword = message_id, match.word, match.keyword
        for tag_id, row in rows_here.items():
            # The rules no longer find it (rules changed, message deleted): an automatic tag goes.
            # Tags by hand and tombstones of tags removed by hand stay.
            if row.source == "auto" and row.removed_at is None and str(tag_id) not in matches:
                db.session.delete(row)
    db.session.flush()


# --- by hand -------------------------------------------------------------------------------------------


def add_tag_by_hand(conversation: Conversation, tag: Tag, user_id: int | None) -> ConversationTag:
    row = db.session.get(ConversationTag, (conversation.id, tag.id))
    if row is None:
        row = ConversationTag(conversation_id=conversation.id, tag_id=tag.id, source="manual", created_by_id=user_id)
        db.session.add(row)
    elif row.removed_at is not None:
        row.removed_at = None
        row.source, row.created_by_id, row.created_at = "manual", user_id, utcnow()
        row.reason_message_id = row.reason_word = row.reason_keyword = None
    db.session.flush()
    return row


def remove_tag_by_hand(conversation: Conversation, tag: Tag, user_id: int | None) -> None:
    """Keep the row, marked removed: the rules will not put the tag back on this conversation."""
    row = db.session.get(ConversationTag, (conversation.id, tag.id))
    if row is None:
        row = ConversationTag(conversation_id=conversation.id, tag_id=tag.id, source="manual")
        db.session.add(row)
    if row.removed_at is None:
        row.removed_at = utcnow()
        row.created_by_id = user_id
    db.session.flush()


# --- reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownTag:
    tag: Tag
    source: str  # auto | manual
    word: str | None = None
    keyword: str | None = None
    message: Message | None = None
    added_by: str | None = None
    added_at: datetime | None = None

    def excerpt(self, width: int = 48) -> tuple[str, str, str]:
        """(before, word, after) of the reason message, so a template can mark the word and escape all."""
        body = " ".join(self.message.body.split()) if self.message else ""
        word = " ".join((self.word or "").split())
        at = body.find(word) if word else -1
        if at < 0:
            return (_clip_end(body, width * 2), "", "")
        before, after = body[:at], body[at + len(word):]
        return (_clip_start(before, width), word, _clip_end(after, width))


def _clip_start(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text[-width:]
    space = cut.find(" ")
    return "…" + (cut[space + 1:] if 0 <= space < width // 2 else cut)


def _clip_end(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text[:width]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut) + "…"


def tags_of(conversation_ids: Iterable[int], with_reasons: bool = False) -> dict[int, list[ShownTag]]:
    """Active tags per conversation, needs first, then by title; one query (two with reasons)."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    from ..models import User

    statement = (
        db.select(ConversationTag, Tag, User.name)
        .join(Tag, Tag.id == ConversationTag.tag_id)
        .outerjoin(User, User.id == ConversationTag.created_by_id)
        .where(ConversationTag.conversation_id.in_(ids), ConversationTag.removed_at.is_(None))
        .order_by(ConversationTag.conversation_id, Tag.kind.desc(), Tag.title)
    )
    rows = db.session.execute(statement).all()
    messages: dict[int, Message] = {}
    if with_reasons:
        message_ids = [row.reason_message_id for row, _, _ in rows if row.reason_message_id]
        if message_ids:
            messages = {m.id: m for m in db.session.execute(
                db.select(Message).where(Message.id.in_(message_ids))).scalars()}
    found: dict[int, list[ShownTag]] = {}
    for row, tag, added_by in rows:
        found.setdefault(row.conversation_id, []).append(ShownTag(
            tag=tag, source=row.source, word=row.reason_word, keyword=row.reason_keyword,
            message=messages.get(row.reason_message_id) if row.reason_message_id else None,
            added_by=added_by if row.source == "manual" else None, added_at=row.created_at,
        ))
    return found


def removed_tags_of(conversation_id: int) -> list[Tag]:
    return list(db.session.execute(
        db.select(Tag).join(ConversationTag, ConversationTag.tag_id == Tag.id)
        .where(ConversationTag.conversation_id == conversation_id, ConversationTag.removed_at.is_not(None))
        .order_by(Tag.title)
    ).scalars())


def all_tags() -> list[Tag]:
    return list(db.session.execute(db.select(Tag).order_by(Tag.kind.desc(), Tag.title)).scalars())
