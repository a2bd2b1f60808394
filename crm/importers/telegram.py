"""Telegram Desktop JSON export: result.json of one chat, or of a whole account ("chats": {"list": [...]}).

Times come from "date", the local time as the exporting computer wrote it (naive), like the text
formats; "date_unixtime" is ignored (the exporter writes "0" for some service messages).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask_babel import gettext

from ._common import ParsedChat, ParsedMessage, ParseError, chat_from_reader

_FILE_KINDS = {
    "sticker": "sticker", "voice_message": "audio", "audio_file": "audio", "video_file": "video",
    "video_message": "video", "animation": "gif",
}
_MESSAGE_TYPE = re.compile(r'"type"\s*:\s*"(?:message|service|personal_chat|saved_messages)"')
_OBJECT_KINDS = {"contact_information": "contact", "location_information": "location", "poll": "poll"}


def parse(data: Any, *, source: str) -> list[ParsedChat]:
    if not isinstance(data, dict):
        raise ParseError(gettext("not a Telegram export: expected a JSON object"), source=source)
    chats = data.get("chats")
    if isinstance(chats, dict) and isinstance(chats.get("list"), list):
        phones = _contact_phones(data)
        found = []
        for chat in chats["list"]:
            is_personal = isinstance(chat, dict) and chat.get("type") == "personal_chat"
            if is_personal and isinstance(chat.get("messages"), list):
                parsed = _chat(chat, source, phones)
                if parsed.message_count:
                    found.append(parsed)
        if not found:
            raise ParseError(gettext("this Telegram export has no personal chats with messages"), source=source)
        return found
    if isinstance(data.get("messages"), list):
        return [_chat(data, source, _contact_phones(data))]
    raise ParseError(gettext("not a Telegram export: no \"messages\" or \"chats\" list"), source=source)


def _chat(chat: dict, source: str, phones: dict[str, str]) -> ParsedChat:
    records: list[ParsedMessage | None] = []
    for index, item in enumerate(chat["messages"], 1):
        if not isinstance(item, dict):
            raise ParseError(gettext("message %(index)d is not a JSON object", index=index), source=source)
        records.append(_message(item, index) if item.get("type", "message") == "message" else None)
    title = chat.get("name") if isinstance(chat.get("name"), str) else None
    parsed = chat_from_reader(lambda: iter(records), format="telegram", source=source, title=title)
    parsed.handles = {author: phones[author] for author in parsed.authors if author in phones}
    return parsed


def _message(item: dict, index: int) -> ParsedMessage:
    author = item.get("from")
    return ParsedMessage(
        sent_at=_local_time(item.get("date")),
        author=author.strip() if isinstance(author, str) and author.strip() else "Deleted Account",
        body=_text(item.get("text")).strip(),
        line=index,
        attachments=_attachments(item),
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
