"""Quick replies and replies sent through click-to-chat links, the database side. Functions add and flush;
the view commits once. Each change records its audit event in the same transaction.

A reply sent through a link is logged with crm.conversations.services.log_chat, like a typed one, so it ends the
wait, counts as the first response and is tagged like any other message; its reply_links row only says that it
went out through a link (the thread's "sent via link") and lets the sender undo it for UNDO_MINUTES.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import abort, current_app, g
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value

from ..admin import audit
from ..conversations.services import NewMessage, log_chat, refresh_conversation_times
from ..extensions import db
from ..identities import CHANNELS
from ..models import (
    ChannelIdentity,
    Conversation,
    ConversationTag,
    Customer,
    Message,
    QuickReply,
    QuickReplyUse,
    ReplyLink,
    Tag,
    User,
    utcnow,
)
from ..needs.matching import Rule, compile_rules, normalise, parse_keywords
from ..shop_settings import setting, shop_name_for_customers
from .filling import Facts, fill, needs_conversation, prompts
from .links import chat_link, logs_replies, prefills
from .starter import starter_reply_rows

UNDO_MINUTES = 10
PICKED = 8  # suggestions the "/" picker shows at once
MENTION_MESSAGES = 50  # the newest messages of a conversation read for {produk} and {harga}
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,29}$")


class ShortcutTaken(ValueError):
    def __init__(self, shortcut: str):
        super().__init__(f"/{shortcut} is taken")
        self.shortcut = shortcut


class UnfilledPrompts(ValueError):
    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


class UndoTooLate(ValueError):
    pass


def normalise_shortcut(text: str | None) -> str:
    """"/Rek", " rek " and "REK" are the shortcut "rek"; spaces become "-"."""
    return "-".join((text or "").strip().lstrip("/").lower().split())


# --- which quick replies a person sees and manages ---------------------------------------------------


def visible_replies(user: User) -> list[QuickReply]:
    """The live shop-wide replies and the person's own, their own first."""
    return list(db.session.execute(
        db.select(QuickReply)
        .where(QuickReply.deleted_at.is_(None),
               db.or_(QuickReply.personal_of_id.is_(None), QuickReply.personal_of_id == user.id))
        .order_by(QuickReply.personal_of_id.is_(None), QuickReply.shortcut, QuickReply.id)
    ).scalars())


def can_manage(user: User, reply: QuickReply) -> bool:
    """Shop-wide replies are the owner's; a personal one is its person's."""
    return reply.personal_of_id == user.id if reply.is_personal else user.is_owner


def get_quick_reply(reply_id: int, user: User, manage: bool = False) -> QuickReply:
    """The live quick reply this person may see (404 otherwise), and change if `manage` (403 otherwise)."""
    reply = db.get_or_404(QuickReply, reply_id)
    if reply.deleted_at or (reply.is_personal and reply.personal_of_id != user.id):
        abort(404)
    if manage and not can_manage(user, reply):
        abort(403)
    return reply


def check_shortcut_free(reply: QuickReply) -> None:
    """Refuse a shortcut another live reply of the same scope has. Two people saving /rek at the same moment
    both pass this; the partial unique indexes then refuse the second commit (the view says the same)."""
    scope = (QuickReply.personal_of_id.is_(None) if reply.personal_of_id is None
             else QuickReply.personal_of_id == reply.personal_of_id)
    clash = db.session.execute(
        db.select(QuickReply.id).where(QuickReply.shortcut == reply.shortcut, QuickReply.deleted_at.is_(None),
                                       scope, QuickReply.id != (reply.id or 0)).limit(1)
    ).first()
    if clash:
        raise ShortcutTaken(reply.shortcut)


def _fields(reply: QuickReply) -> dict:
    return {"shortcut": reply.shortcut, "title": reply.title, "body": reply.body}


def describe(reply: QuickReply) -> str:
    return f"/{reply.shortcut} · {reply.title}"


def create_quick_reply(*, shortcut: str, title: str, body: str, personal_of: User | None,
                       created_by_id: int | None) -> QuickReply:
    reply = QuickReply(shortcut=normalise_shortcut(shortcut), title=" ".join(title.split()), body=body.strip(),
                       personal_of_id=personal_of.id if personal_of else None, created_by_id=created_by_id)
    check_shortcut_free(reply)
    db.session.add(reply)
    db.session.flush()
    audit.record("create", reply, describe(reply), {**_fields(reply), "personal": reply.is_personal})
    return reply


def update_quick_reply(reply: QuickReply, *, shortcut: str, title: str, body: str) -> None:
    before = _fields(reply)
    with db.session.no_autoflush:
        reply.shortcut, reply.title, reply.body = normalise_shortcut(shortcut), " ".join(title.split()), body.strip()
        check_shortcut_free(reply)
    db.session.flush()
    changed = {key: [before[key], value] for key, value in _fields(reply).items() if before[key] != value}
    if changed:
        audit.record("edit", reply, describe(reply), {"changed": changed})


def ensure_starter_replies() -> list[QuickReply]:
    """Add back the starter replies the shop no longer has (deleted, not in the trash), where their shortcut
    is free; the ones it has, edited or not, stay as they are."""
    live = db.session.execute(
        db.select(QuickReply.starter, QuickReply.shortcut)
        .where(QuickReply.deleted_at.is_(None), QuickReply.personal_of_id.is_(None))
    ).all()
    starters, shortcuts = {row.starter for row in live}, {row.shortcut for row in live}
    added = [QuickReply(**row) for row in starter_reply_rows()
             if row["starter"] not in starters and row["shortcut"] not in shortcuts]
    db.session.add_all(added)
    db.session.flush()
    for reply in added:
        audit.record("create", reply, describe(reply), {**_fields(reply), "starter": reply.starter})
    return added


# --- searching by shortcut or title ------------------------------------------------------------------


def match_rank(query: str, shortcut: str, title: str) -> int | None:
    """How well a typed query ("rek", "Rekening", "bayar") finds a reply; lower is better, None not at all.
    Folded like the need rules (case, accents), so "REK" and "rék" find /rek."""
    query = normalise(query).lstrip("/")
    if not query:
        return 5
    shortcut, title = normalise(shortcut), normalise(title)
    if shortcut == query:
        return 0
    if shortcut.startswith(query):
        return 1
    if any(word.startswith(query) for word in re.split(r"[\W_]+", title)) or title.startswith(query):
        return 2
    if query in shortcut:
        return 3
    if query in title:
        return 4
    return None


def search_replies(replies: list[QuickReply], query: str, usage: dict[int, Usage] | None = None,
                   limit: int = PICKED) -> list[QuickReply]:
    """The replies the query finds, best first: exact shortcut, then shortcut start, title word start, inside;
    among equals one's own before the shop's, then the most used, then by shortcut."""
    usage = usage or {}
    ranked = []
    for reply in replies:
        rank = match_rank(query, reply.shortcut, reply.title)
        if rank is not None:
            used = usage.get(reply.id)
            ranked.append(((rank, not reply.is_personal, -(used.count if used else 0), reply.shortcut), reply))
    ranked.sort(key=lambda pair: pair[0])
    return [reply for _, reply in ranked[:limit]]


# --- usage ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    count: int
    last_used_at: datetime | None


def usage_of(reply_ids: list[int]) -> dict[int, Usage]:
    """How often each reply went into a saved or sent reply, and when last (counted, never kept twice)."""
    if not reply_ids:
        return {}
    rows = db.session.execute(
        db.select(QuickReplyUse.quick_reply_id, db.func.count(), db.func.max(QuickReplyUse.used_at))
        .where(QuickReplyUse.quick_reply_id.in_(reply_ids))
        .group_by(QuickReplyUse.quick_reply_id)
    ).all()
    return {reply_id: Usage(count, last) for reply_id, count, last in rows}


def used_reply_ids(values: list[str], user: User) -> list[int]:
    """The quick replies a posted form says it used (hidden fields the picker adds), those this person sees."""
    wanted = {int(value) for value in values if str(value).isdigit()}
    return [reply.id for reply in visible_replies(user) if reply.id in wanted] if wanted else []


def record_uses(reply_ids: list[int], *, user_id: int | None, conversation_id: int | None,
                reply_link_id: int | None = None) -> None:
    db.session.add_all(QuickReplyUse(quick_reply_id=reply_id, user_id=user_id, conversation_id=conversation_id,
                                     reply_link_id=reply_link_id) for reply_id in reply_ids)
    db.session.flush()


def record_posted_uses(result, values: list[str], user: User) -> None:
    """The quick replies the "/" picker put into a chat that was just logged (it adds their ids to the form)."""
    if result.added:
        record_uses(used_reply_ids(values, user), user_id=user.id,
                    conversation_id=result.conversation.id if result.conversation else None)


# --- filling a reply for a customer ----------------------------------------------------------------------


def latest_conversation(customer: Customer, channel: str | None = None) -> Conversation | None:
    statement = db.select(Conversation).where(Conversation.customer_id == customer.id,
                                              Conversation.deleted_at.is_(None))
    if channel:
        statement = statement.where(Conversation.channel == channel)
    return db.session.execute(
        statement.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1)
    ).scalar_one_or_none()


def _live_tag_names(conversation_id: int) -> set[str]:
    return set(db.session.execute(
        db.select(Tag.name).join(ConversationTag, ConversationTag.tag_id == Tag.id)
        .where(ConversationTag.conversation_id == conversation_id, ConversationTag.removed_at.is_(None))
    ).scalars())


@lru_cache(maxsize=8)
def _product_matcher(rules: tuple[tuple[str, str], ...]):
    return compile_rules(Rule(name, parse_keywords(keywords)) for name, keywords in rules)


def mentioned(conversation: Conversation) -> tuple[str | None, str | None]:
    """(product, price) the conversation last mentioned, where the need tagger found product or price talk."""
    from .mentions import last_price, last_product

    tags = _live_tag_names(conversation.id) & {"product", "price"}
    if not tags:
        return None, None
    rows = db.session.execute(
        db.select(Message.side, Message.body)
        .where(Message.conversation_id == conversation.id, Message.deleted_at.is_(None))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(MENTION_MESSAGES)
    ).all()[::-1]
    if "product_rules" not in g:
        g.product_rules = tuple((name, keywords or "") for name, keywords in db.session.execute(
            db.select(Tag.name, Tag.keywords).where(Tag.name.in_(("product", "price"))).order_by(Tag.name)))
    matcher = _product_matcher(g.product_rules)
    product = last_product([body for side, body in rows if side == "customer"], matcher)
    price = last_price([body for _, body in rows]) if "price" in tags else None
    return product, price


def facts_for(text: str, *, user: User | None, customer: Customer | None = None,
              conversation: Conversation | None = None, customer_name: str | None = None) -> Facts:
    product = price = None
    if needs_conversation(text):
        conversation = conversation or (latest_conversation(customer) if customer else None)
        if conversation is not None:
            product, price = mentioned(conversation)
    return Facts(
        customer_name=customer.display_name if customer else customer_name,
        shop=shop_name_for_customers(), staff_name=user.name if user else None,
        bank=setting("bank_accounts").strip() or None, product=product, price=price,
    )


def filled(reply: QuickReply, *, user: User | None, customer: Customer | None = None,
           conversation: Conversation | None = None, customer_name: str | None = None) -> str:
    return fill(reply.body, facts_for(reply.body, user=user, customer=customer, conversation=conversation,
                                      customer_name=customer_name))


# --- where a reply can go: the customer's handles and their links ---------------------------------------


@dataclass(frozen=True)
class ReplyTarget:
    """One of the customer's numbers or handles, and how a reply reaches it."""

    identity: ChannelIdentity
    link: str  # without our text
    prefills: bool  # the link carries the text (WhatsApp, e-mail); else the text is copied first
    logs: bool  # a reply sent this way is logged (every chat channel; not a phone call)

    @property
    def channel(self) -> str:
        return self.identity.channel


def _identities_of(customer: Customer) -> list[ChannelIdentity]:
    """The customer's handles; the first customer asked about on a page brings the handles of every customer the
    page has loaded, in one query (Today draws up to 80 rows, each with its "Reply on WhatsApp")."""
    if "identities" not in sa_inspect(customer).unloaded:
        return customer.identities
    waiting = {c.id: c for c in list(db.session.identity_map.values())
               if isinstance(c, Customer) and "identities" in sa_inspect(c).unloaded}
    waiting[customer.id] = customer
    found: dict[int, list[ChannelIdentity]] = {customer_id: [] for customer_id in waiting}
    ids = list(waiting)
    for start in range(0, len(ids), 500):
        for identity in db.session.execute(
            db.select(ChannelIdentity).where(ChannelIdentity.customer_id.in_(ids[start:start + 500]))
            .order_by(ChannelIdentity.id)
        ).scalars():
            found[identity.customer_id].append(identity)
    for customer_id, identities in found.items():
        set_committed_value(waiting[customer_id], "identities", identities)
    return customer.identities


def reply_targets(customer: Customer, channel: str | None = None) -> list[ReplyTarget]:
    """The customer's handles with a link, on one channel or on all (in the order the customer has them)."""
    targets = []
    for identity in _identities_of(customer):
        if channel and identity.channel != channel:
            continue
        link = chat_link(identity.channel, identity.handle)
        if link:
            targets.append(ReplyTarget(identity, link, prefills(identity.channel), logs_replies(identity.channel)))
    return targets


# --- sending through a link ------------------------------------------------------------------------------


def current_conversation(customer: Customer, channel: str) -> Conversation | None:
    """The conversation a reply on this channel belongs to: the latest one if it waits on us or is recent
    (within CONVERSATION_GAP_HOURS); None means a new conversation starts (log_chat decides)."""
    from ..today.queue import is_waiting_on_us

    latest = latest_conversation(customer, channel)
    if latest is None:
        return None
    gap = timedelta(hours=current_app.config["CONVERSATION_GAP_HOURS"])
    if latest.last_message_at and latest.last_message_at >= utcnow() - gap:
        return latest
    waiting = db.session.execute(
        db.select(Conversation.id).where(Conversation.id == latest.id, is_waiting_on_us())
    ).first()
    return latest if waiting else None


def send_via_link(customer: Customer, identity: ChannelIdentity, text: str, *, user: User,
                  conversation: Conversation | None = None, quick_reply_ids: list[int] = ()) -> ReplyLink:
    """Log `text` as our message in the customer's conversation on the identity's channel and remember that it
    went out through a link; without a text only that the chat was opened. Raises UnfilledPrompts while a
    {?prompt} is left in the text."""
    if identity.customer_id != customer.id:
        raise ValueError("the handle is not this customer's")
    text = (text or "").replace("\r\n", "\n").strip()
    left = prompts(text)
    if left:
        raise UnfilledPrompts(left)
    channel = identity.channel
    if conversation is not None and (conversation.customer_id != customer.id or conversation.channel != channel):
        conversation = None
    conversation = conversation or current_conversation(customer, channel)
    now = utcnow()
    sends_text = bool(text) and logs_replies(channel)
    repeated = _same_send(customer, identity, text if sends_text else "", user, now)
    if repeated is not None:  # a double tap, or the page posted twice: one reply
        return repeated
    link = ReplyLink(customer_id=customer.id, channel=channel, handle=identity.handle, user_id=user.id,
                     opened_at=now, text=text if sends_text else "",
                     conversation_id=conversation.id if conversation else None)
    if sends_text:
        result = log_chat(customer, channel, [NewMessage(now, "staff", text, author_name=user.name)],
                          logged_by_id=user.id, conversation=conversation)
        link.conversation_id = result.conversation.id if result.conversation else None
        link.message_id = result.added[0].id if result.added else None
    db.session.add(link)
    db.session.flush()
    if sends_text:
        record_uses(list(quick_reply_ids), user_id=user.id, conversation_id=link.conversation_id,
                    reply_link_id=link.id)
    audit.record("sent_via_link" if sends_text else "opened_chat", ("customer", customer.id), customer.display_name,
                 {"channel": channel, "handle": identity.display, "conversation_id": link.conversation_id,
                  "text": text[:300] if sends_text else ""})
    return link


def _same_send(customer: Customer, identity: ChannelIdentity, text: str, user: User, now: datetime):
    return db.session.execute(
        db.select(ReplyLink).where(
            ReplyLink.customer_id == customer.id, ReplyLink.user_id == user.id,
            ReplyLink.channel == identity.channel, ReplyLink.handle == identity.handle, ReplyLink.text == text,
            ReplyLink.undone_at.is_(None), ReplyLink.opened_at >= now - timedelta(minutes=1))
        .order_by(ReplyLink.id.desc()).limit(1)
    ).scalar_one_or_none()


def undo_deadline(link: ReplyLink) -> datetime:
    return link.opened_at + timedelta(minutes=UNDO_MINUTES)


def can_undo(link: ReplyLink, user: User, now: datetime | None = None) -> bool:
    """The sender (or the owner) may take a reply sent through a link back for a few minutes after."""
    return (link.message_id is not None and link.undone_at is None and (now or utcnow()) <= undo_deadline(link)
            and (link.user_id == user.id or user.is_owner))


def undo_send(link: ReplyLink, user: User) -> None:
    """It was not sent after all: the logged message goes for good (so the customer waits again, and the same
    text can be sent later), the quick replies it used are no longer counted; the row and the audit trail keep
    what the text was."""
    if link.undone_at is not None:
        return
    if not can_undo(link, user):
        raise UndoTooLate()
    message = db.session.get(Message, link.message_id)
    if message is not None:
        conversation = message.conversation
        db.session.delete(message)
        db.session.flush()
        left = db.session.execute(
            db.select(Message.id).where(Message.conversation_id == conversation.id).limit(1)).first()
        if left is None:  # the conversation began with this reply: it goes with it
            link.conversation_id = None
            db.session.delete(conversation)
            db.session.flush()
        else:
            from ..needs.tagging import tag_conversation

            db.session.expire(conversation, ["messages"])
            refresh_conversation_times(conversation)
            tag_conversation(conversation)
    link.undone_at, link.message_id = utcnow(), None
    db.session.execute(db.delete(QuickReplyUse).where(QuickReplyUse.reply_link_id == link.id))
    db.session.flush()
    audit.record("undo_sent_via_link", ("customer", link.customer_id), link.customer.display_name,
                 {"channel": link.channel, "text": link.text[:300]})


def get_link(link_id: int) -> ReplyLink:
    link = db.get_or_404(ReplyLink, link_id)
    if link.customer.deleted_at:
        abort(404)
    return link


def undoable_sends(user: User) -> list[ReplyLink]:
    """This person's replies sent through links that can still be taken back, newest first."""
    return list(db.session.execute(
        db.select(ReplyLink).where(
            ReplyLink.user_id == user.id, ReplyLink.undone_at.is_(None), ReplyLink.message_id.is_not(None),
            ReplyLink.opened_at >= utcnow() - timedelta(minutes=UNDO_MINUTES))
        .order_by(ReplyLink.opened_at.desc(), ReplyLink.id.desc()).limit(3)
    ).scalars())


@dataclass
class ThreadMarks:
    """What the thread says about links: which messages were sent via a link (and which of those the reader may
    still take back), and the chats opened without a text."""

    sent: dict[int, ReplyLink]  # message id -> its link
    opened: list[ReplyLink]
    undoable: set[int]  # link ids

    def timeline(self, messages: list[Message], earlier: bool = False, next_at: datetime | None = None
                 ) -> list[tuple[str, object]]:
        """The messages, oldest first, with each "opened in WhatsApp" mark after the message before it. On a page
        of a long thread a mark goes with the page of that message: `earlier` says messages come before these
        (marks before the first are on the page before), `next_at` when the page after begins."""
        marks = sorted(self.opened, key=lambda link: link.opened_at)
        if messages and earlier:
            marks = [link for link in marks if link.opened_at >= messages[0].sent_at]
        if next_at is not None:
            marks = [link for link in marks if link.opened_at < next_at]
        items: list[tuple[str, object]] = []
        for message in messages:
            while marks and marks[0].opened_at < message.sent_at:
                items.append(("opened", marks.pop(0)))
            items.append(("message", message))
        items.extend(("opened", link) for link in marks)
        return items


def thread_marks(conversation: Conversation, user: User | None = None) -> ThreadMarks:
    links = db.session.execute(
        db.select(ReplyLink).where(ReplyLink.conversation_id == conversation.id, ReplyLink.undone_at.is_(None))
        .order_by(ReplyLink.opened_at, ReplyLink.id)
    ).scalars().all()
    now = utcnow()
    return ThreadMarks(
        {link.message_id: link for link in links if link.message_id is not None},
        [link for link in links if link.message_id is None and not link.text],
        {link.id for link in links if user is not None and can_undo(link, user, now)},
    )


# --- the report's figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyFigures:
    sent_via_links: int = 0  # replies logged through a link, not taken back
    quick_replies: int = 0  # quick replies put into saved or sent replies


def staff_reply_figures(start: datetime, end: datetime) -> dict[int | None, ReplyFigures]:
    """Per staff member (their user id), what they sent through links and how many quick replies they used,
    from `start` (inclusive) to `end` (exclusive)."""
    links = dict(db.session.execute(
        db.select(ReplyLink.user_id, db.func.count())
        .where(ReplyLink.opened_at >= start, ReplyLink.opened_at < end, ReplyLink.undone_at.is_(None),
               ReplyLink.text != "")
        .group_by(ReplyLink.user_id)
    ).all())
    uses = dict(db.session.execute(
        db.select(QuickReplyUse.user_id, db.func.count())
        .where(QuickReplyUse.used_at >= start, QuickReplyUse.used_at < end)
        .group_by(QuickReplyUse.user_id)
    ).all())
    return {user_id: ReplyFigures(links.get(user_id, 0), uses.get(user_id, 0)) for user_id in {*links, *uses}}


def channel_of(value: str | None) -> str | None:
    return value if value in CHANNELS else None
