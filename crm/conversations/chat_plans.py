"""Who is who in a parsed chat, and which customer it belongs to: the decisions shown in the paste preview and
the Import page, then carried out by crm.conversations.importing.

The shop's side: names given now, names remembered per channel, staff names, "Me"/"Saya". The customer: the
number or handle the export gives, else a name their chats were imported under before (kept after a rename,
followed after a merge), else a display name only one customer has. Group chats are refused: one customer
per chat.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from flask import current_app
from flask_babel import gettext, ngettext

from ..customers.services import find_identity
from ..extensions import db
from ..importers import Limits, ParsedChat, ParsedMessage, ParseOptions
from ..importers._common import MiB
from ..models import Customer, ImportedName, OurName, Tag, User
from ..needs.tagging import all_tags, current_matcher

# Names a chat app uses for the person who exported or copied the chat: always the shop.
SELF_NAMES = frozenset({"me", "saya", "you", "anda", "aku"})
FORMAT_CHANNELS = {"whatsapp": "whatsapp", "telegram": "telegram", "telegram_copy": "telegram",
                   "messenger": "facebook", "instagram": "instagram", "line": "other", "plain": "other"}


class ImportProblem(ValueError):
    """The chat cannot be saved as it is; the message says what to choose."""


class ChooseTheShop(ImportProblem):
    """Nobody in the chat is known to be the shop: the user picks (the preview's and the Import page's picker)."""

    def __init__(self, message: str, authors: list[str]):
        super().__init__(message)
        self.authors = authors


class GroupChat(ImportProblem):
    """A group chat: one customer per chat, so it is not imported."""


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- reading -------------------------------------------------------------------------------------------------


def import_limits() -> Limits:
    """The limits of one upload, from the IMPORT_MAX_* settings."""
    config = current_app.config
    return Limits(
        max_upload_bytes=int(config["IMPORT_MAX_UNZIPPED_MB"] * MiB),
        max_zip_members=int(config["IMPORT_MAX_ZIP_FILES"]),
        max_json_bytes=int(config["IMPORT_MAX_JSON_MB"] * MiB),
        max_messages=int(config["IMPORT_MAX_MESSAGES"]),
        max_message_chars=int(config["IMPORT_MAX_MESSAGE_CHARS"]),
    )


def reading_options(channel: str | None = None, me: Iterable[str] = (), *, day_first: bool | None = None,
                    customer: Customer | None = None) -> ParseOptions:
    """How the parsers read for this shop: its date order where a file leaves it open, the names it knows
    (the shop's, and the chosen customer's, which make a plain paste's speakers), and the limits."""
    known = list(me)
    known += db.session.execute(db.select(User.name)).scalars().all()
    query = db.select(OurName.name)
    if channel:
        query = query.where(OurName.channel == channel)
    known += db.session.execute(query).scalars().all()
    if customer is not None:
        known.append(customer.display_name)
    return ParseOptions(prefer_day_first=bool(current_app.config["IMPORT_DAY_FIRST"]), day_first=day_first,
                        known_names=tuple(dict.fromkeys(name for name in known if name and name.strip())),
                        limits=import_limits())


# --- deciding -----------------------------------------------------------------------------------------------


@dataclass
class ChatPlan:
    """What saving a chat will do: shown in the preview, then carried out unchanged."""

    chat: ParsedChat
    channel: str
    sides: dict[str, str]
    customer: Customer | None
    customer_name: str
    matched_by: str | None  # "handle", "name", "chosen" or None for a new customer
    handle: str | None = None
    author: str | None = None  # the customer's name in the chat, remembered for the next import

    @property
    def undecided(self) -> bool:
        """Nobody in a chat of several people is marked as the shop yet."""
        return len(self.chat.authors) > 1 and "staff" not in self.sides.values()


def our_name_keys(channel: str) -> set[str]:
    remembered = db.session.execute(db.select(OurName.name_key).where(OurName.channel == channel)).scalars()
    staff = db.session.execute(db.select(User.name)).scalars()
    return set(remembered) | {name_key(name) for name in staff} | SELF_NAMES


def remember_our_names(channel: str, names: Iterable[str]) -> None:
    known = set(db.session.execute(db.select(OurName.name_key).where(OurName.channel == channel)).scalars())
    for name in names:
        key = name_key(name)
        if key and key not in known and key not in SELF_NAMES:
            db.session.add(OurName(channel=channel, name=name.strip()[:200], name_key=key[:200]))
            known.add(key)
    db.session.flush()


def remember_customer_names(entries: Iterable[tuple[int, str, str]]) -> None:
    """(customer id, channel, name in the chat): the names a later import of the same chat finds them by."""
    for customer_id, channel, name in set(entries):
        key = name_key(name)[:200]
        if not key or key in SELF_NAMES:
            continue
        known = db.session.execute(db.select(ImportedName.id).where(
            ImportedName.customer_id == customer_id, ImportedName.channel == channel,
            ImportedName.name_key == key)).first()
        if known is None:
            db.session.add(ImportedName(customer_id=customer_id, channel=channel, name_key=key))
    db.session.flush()


def guess_sides(chat: ParsedChat, channel: str, me: Iterable[str] = ()) -> dict[str, str]:
    """Ours: names given now, names remembered for this channel, staff names, 'Me'/'Saya'.
    In a one-to-one chat where only one side is known, the other person is the customer; where neither is,
    the chat's title (WhatsApp's 'WhatsApp Chat - Rina', Telegram's chat name) names the customer."""
    ours = our_name_keys(channel) | {name_key(name) for name in me}
    sides = {author: "staff" if name_key(author) in ours else "customer" for author in chat.authors}
    if chat.authors and all(side == "customer" for side in sides.values()) and chat.title:
        title = name_key(chat.title)
        titled = [a for a in chat.authors if name_key(a) in title or title in name_key(a)]
        if len(titled) == 1 and len(chat.authors) == 2:
            sides = {author: "customer" if author == titled[0] else "staff" for author in chat.authors}
    return sides


def customer_author(chat: ParsedChat, sides: dict[str, str]) -> str | None:
    customers = [author for author in chat.authors if sides.get(author) == "customer"]
    if len(customers) == 1:
        return customers[0]
    if chat.title:
        titled = [a for a in customers if name_key(a) == name_key(chat.title)]
        if len(titled) == 1:
            return titled[0]
    return None


def group_problem(chat: ParsedChat) -> GroupChat:
    people = max(chat.participant_count, len(chat.authors))
    names = ", ".join(chat.authors[:5]) + (", …" if len(chat.authors) > 5 else "")
    return GroupChat(ngettext(
        "this is a group chat with %(num)d person (%(names)s)",
        "this is a group chat with %(num)d people (%(names)s)", people, names=names or "?")
        + ": " + gettext("Obrolan keeps one customer per chat, so group chats are not imported. Export (or copy) "
                         "your own chat with the customer instead, and import that."))


def plan_chat(
    chat: ParsedChat,
    *,
    channel: str | None = None,
    me: Iterable[str] = (),
    sides: dict[str, str] | None = None,
    customer: Customer | None = None,
    customer_name: str | None = None,
    strict: bool = True,
    find: Callable[[str, str, str | None], tuple] | None = None,
) -> ChatPlan:
    """Decide sides, customer and channel. Raises GroupChat for a group; ChooseTheShop (or ImportProblem)
    when the user has to choose, unless not strict: then the plan is a best guess for the user to correct in
    the preview (see `undecided`). `find` looks the customer up (an import also knows the ones it made)."""
    if chat.is_group:
        raise group_problem(chat)
    channel = channel or chat.channel or FORMAT_CHANNELS.get(chat.format, "other")
    sides = {**guess_sides(chat, channel, me), **(sides or {})}
    if strict and not any(side == "staff" for side in sides.values()) and len(chat.authors) > 1:
        raise ChooseTheShop(gettext("cannot tell which of %(names)s is the shop: choose who is the shop",
                                    names=", ".join(chat.authors[:5])), list(chat.authors))
    author = customer_author(chat, sides)
    handle = chat.handles.get(author) if author else None
    if customer is not None:
        return ChatPlan(chat, channel, sides, customer, customer.display_name, "chosen", handle, author)
    fallback = "" if strict or not chat.authors else chat.authors[0]
    name = (customer_name or author or chat.title or fallback).strip()
    if not name:
        raise ImportProblem(gettext(
            "cannot tell who the customer is among %(names)s: choose the customer",
            names=", ".join(chat.authors[:5]) or gettext("no authors")))
    found, matched_by = (find or match_customer)(name, channel, handle)
    shown = found.display_name if isinstance(found, Customer) else name
    return ChatPlan(chat, channel, sides, found if isinstance(found, Customer) else None, shown, matched_by,
                    handle, author)


def survivor(customer: Customer | None) -> Customer | None:
    """The customer that `customer` was merged into, followed to the end; None if that one is in the trash."""
    seen = set()
    while customer is not None and customer.merged_into_id and customer.id not in seen:
        seen.add(customer.id)
        customer = db.session.get(Customer, customer.merged_into_id)
    if customer is None or customer.deleted_at or customer.merged_into_id:
        return None
    return customer


def match_customer(name: str, channel: str, handle: str | None) -> tuple[Customer | None, str | None]:
    """By phone number or handle where the export has one; else by the name: a name the customer's chats were
    imported under before, or their name (also the name of one merged into them), when it leads to one customer."""
    if handle:
        identity = find_identity(channel, handle)
        found = survivor(identity.customer) if identity else None
        if found is not None:
            return found, "handle"
    key = name_key(name)
    remembered = db.session.execute(db.select(ImportedName.customer_id).where(
        ImportedName.channel == channel, ImportedName.name_key == key[:200]).limit(20)).scalars().all()
    named = db.session.execute(
        db.select(Customer.id).where(db.func.lower(Customer.display_name) == name.lower(),
                                     Customer.deleted_at.is_(None)).limit(20)
    ).scalars().all()
    candidates = {c.id: c for c in (survivor(db.session.get(Customer, cid)) for cid in {*remembered, *named}) if c}
    if len(candidates) == 1:
        return next(iter(candidates.values())), "name"
    return None, None


def need_tags_for(plan: ChatPlan) -> list[Tag]:
    """The need tags the customer's messages in this chat will get once saved (for the preview)."""
    bodies = [m.body for m in plan.chat.messages() if plan.sides.get(m.author, "customer") == "customer"]
    matches = current_matcher().first_matches(bodies)
    return [tag for tag in all_tags() if str(tag.id) in matches]


def preview_rows(plan: ChatPlan, limit: int = 300) -> list[ParsedMessage]:
    rows = []
    for message in plan.chat.messages():
        rows.append(message)
        if len(rows) >= limit:
            break
    return rows
