"""Telegram Desktop JSON export: result.json of one chat, or of a whole account ("chats": {"list": [...]}).

Times come from "date", the local time as the exporting computer wrote it (naive), like the text
formats. Where "date" is missing or unreadable, "date_unixtime" gives the moment (aware UTC; the
exporter writes "0" for some service messages, which is no time); with neither, the message is
reported and keeps no time.

Groups, supergroups and channels are read as they are and flagged is_group. From a whole account's
export only the personal chats come back, unless include_groups; the groups left out are counted.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext

from ._common import (
    Budget,
    ParsedChat,
    ParsedMessage,
    ParseError,
    ParseOptions,
    ParseWarning,
    chat_from_reader,
    cut_body,
)

_FILE_KINDS = {
    "sticker": "sticker", "voice_message": "audio", "audio_file": "audio", "video_file": "video",
    "video_message": "video", "animation": "gif",
}
_MESSAGE_TYPE = re.compile(r'"type"\s*:\s*"(?:message|service|personal_chat|saved_messages)"')
_OBJECT_KINDS = {"contact_information": "contact", "location_information": "location", "poll": "poll"}
GROUP_TYPES = frozenset({"private_group", "public_group", "private_supergroup", "public_supergroup",
                         "private_channel", "public_channel", "channel", "supergroup", "group"})


def parse(data: Any, *, source: str, options: ParseOptions | None = None,
          budget: Budget | None = None) -> list[ParsedChat]:
    options = options or ParseOptions()
    if not isinstance(data, dict):
        raise ParseError(gettext("not a Telegram export: expected a JSON object"), source=source)
    chats = data.get("chats")
    if isinstance(chats, dict) and isinstance(chats.get("list"), list):
        phones = _contact_phones(data)
        found = []
        groups_skipped = 0
        for chat in chats["list"]:
            if not isinstance(chat, dict) or not isinstance(chat.get("messages"), list):
                continue
            is_group = _is_group(chat)
            if is_group and not options.include_groups:
                groups_skipped += 1
                continue
            if chat.get("type") == "personal_chat" or is_group:
                parsed = _chat(chat, source, phones, options, budget)
                if parsed.message_count:
                    found.append(parsed)
        if not found:
            if groups_skipped:
                raise ParseError(gettext(
                    "this Telegram export has no personal chats with messages, only %(count)d group chats or "
                    "channels, which are not imported", count=groups_skipped), source=source)
            raise ParseError(gettext("this Telegram export has no personal chats with messages"), source=source)
        for parsed in found:
            parsed.account_groups_skipped = groups_skipped
        return found
    if isinstance(data.get("messages"), list):
        return [_chat(data, source, _contact_phones(data), options, budget)]
    raise ParseError(gettext("not a Telegram export: no \"messages\" or \"chats\" list"), source=source)


def _chat(chat: dict, source: str, phones: dict[str, str], options: ParseOptions,
          budget: Budget | None) -> ParsedChat:
    records: list[ParsedMessage | ParseWarning | None] = []
    people: dict[str, None] = {}
    max_chars = options.limits.max_message_chars
    for index, item in enumerate(chat["messages"], 1):
        if not isinstance(item, dict):
            raise ParseError(gettext("message %(index)d is not a JSON object", index=index), source=source)
        for key in ("from", "actor"):
            if isinstance(item.get(key), str) and item[key].strip():
                people.setdefault(item[key].strip())
        if item.get("type", "message") != "message":
            records.append(None)
            continue
        message = _message(item, index, max_chars)
        if message.sent_at is None:
            records.append(ParseWarning(index, gettext(
                "this message has no readable date or time: it was left out")))
            continue
        records.append(message)
    title = chat.get("name") if isinstance(chat.get("name"), str) else None
    parsed = chat_from_reader(lambda: iter(records), format="telegram", source=source, title=title,
                              is_group=_is_group(chat), participants=people, budget=budget)
    parsed.handles = {author: phones[author] for author in parsed.authors if author in phones}
    return parsed


def _is_group(chat: dict) -> bool:
    return isinstance(chat.get("type"), str) and chat["type"] in GROUP_TYPES


def _message(item: dict, index: int, max_chars: int) -> ParsedMessage:
    author = item.get("from")
    attachments = _attachments(item)
    body, truncated = cut_body(_text(item.get("text")).strip(), max_chars)
    return ParsedMessage(
        sent_at=_local_time(item.get("date")) or _unix_time(item.get("date_unixtime")),
        author=author.strip() if isinstance(author, str) and author.strip() else "Deleted Account",
        body=body,
        line=index,
        attachments=attachments,
        edited="edited" in item or "edited_unixtime" in item,
        poll="poll" in attachments,
        location="location" in attachments or isinstance(item.get("place_name"), str),
        contact="contact" in attachments,
        truncated=truncated,
    )


def _text(text: Any) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        parts = []
        for part in text:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


def _local_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def _unix_time(value: Any) -> datetime | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


def _attachments(item: dict) -> tuple[str, ...]:
    found = []
    if isinstance(item.get("photo"), str):
        found.append(_file_name(item["photo"]) or "photo")
    if isinstance(item.get("file"), str):
        kind = _FILE_KINDS.get(item.get("media_type"), "file") if isinstance(item.get("media_type"), str) else "file"
        found.append(_file_name(item["file"]) or kind)
    found.extend(kind for key, kind in _OBJECT_KINDS.items() if isinstance(item.get(key), dict))
    return tuple(found)


def _file_name(path: str) -> str | None:
    # Without media the exporter writes "(File not included. Change data exporting settings to download.)".
    if not path or path.startswith("("):
        return None
    return path.replace("\\", "/").rsplit("/", 1)[-1] or None


def _contact_phones(data: dict) -> dict[str, str]:
    contacts = data.get("contacts")
    listed = contacts.get("list") if isinstance(contacts, dict) else None
    phones = {}
    for contact in listed if isinstance(listed, list) else ():
        if not isinstance(contact, dict) or not isinstance(contact.get("phone_number"), str):
            continue
        names = [contact.get("first_name"), contact.get("last_name")]
        name = " ".join(part.strip() for part in names if isinstance(part, str) and part.strip())
        if name and contact["phone_number"].strip():
            phones[name] = contact["phone_number"].strip()
    return phones


def looks_like(head: str) -> bool:
    return any(key in head for key in (
        '"date_unixtime"', '"text_entities"', '"from_id"', '"personal_information"', '"personal_chat"',
        '"saved_messages"', '"chats"',
    )) or _MESSAGE_TYPE.search(head) is not None
