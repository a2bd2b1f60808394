"""Facebook Messenger and Instagram JSON from "Download your information".

A thread is message_1.json, message_2.json, ... each newest first; the thread comes out oldest
first. Meta writes UTF-8 bytes as if each were a latin-1 character ("\u00c3\u00a9" for "é"), so every
string is repaired where that round-trips. Times are timestamp_ms, read as aware UTC.

A thread with three or more participants is a group (flagged, read as it is). A shared post keeps
its link, without Meta's "X sent an attachment."; reactions and call records are not messages.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext

from ._common import (
    GROUP_AUTHORS,
    Budget,
    ParsedChat,
    ParsedMessage,
    ParseError,
    ParseOptions,
    ParseWarning,
    chat_from_reader,
    cut_body,
)

_ATTACHMENT_KEYS = {"photos": "photo", "videos": "video", "audio_files": "audio", "files": "file", "gifs": "gif",
                    "media": "media"}
_NOTICE = re.compile(
    r".{1,80} (?:started|joined|ended) (?:a |the )?(?:video |audio )?call\.?"
    r"|The (?:video |audio )?call ended\.?"
    r"|.{1,80} missed (?:a|your) (?:video |audio )?call(?: with .*)?\.?"
    r"|.{1,80} (?:memulai|bergabung ke|melewatkan) panggilan.*|Panggilan (?:video )?berakhir\.?"
    r"|.{1,80} (?:named the group|changed the group photo|left the group|set the nickname|set your nickname)\b.*"
    r"|.{1,80} (?:added|removed) .{1,80} (?:to|from) the group\.?"
    r"|You are now connected on Messenger\.?|Say hi to your new Facebook friend.*"
    r"|(?:.{1,80} )?(?:reacted|bereaksi) .{1,16} (?:to|ke|terhadap) (?:your |a |their )?(?:message|pesan)(?: Anda)?.*"
    r"|(?:.{1,80} )?(?:liked a message|menyukai pesan)\.?",
    re.IGNORECASE | re.DOTALL,
)
# What Meta writes in "content" when the message is only a share, a photo or a file.
_SENT_ATTACHMENT = re.compile(
    r".{0,80}(?:sent an attachment|sent a link|shared a (?:post|story|reel|link)|sent a (?:photo|video|post)"
    r"|mengirim(?:kan)? (?:lampiran|tautan|foto|video|postingan)|membagikan (?:postingan|tautan|reel))\.?",
    re.IGNORECASE,
)
_UNSENT = re.compile(r".{0,80}(?:unsent a message|membatalkan pengiriman pesan)\.?", re.IGNORECASE)


def repair(text: str) -> str:
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def is_thread(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("messages"), list) and (
        "participants" in data or "thread_path" in data or "threadName" in data)


def parse_thread(parts: list[tuple[str, Any]], *, format: str, source: str, options: ParseOptions | None = None,
                 budget: Budget | None = None) -> ParsedChat:
    """parts: (file name, loaded JSON) for each message_N.json of one thread, message_1 first."""
    collected = []
    title = None
    participants: list[str] = []
    for name, data in parts:
        if not is_thread(data):
            raise ParseError(gettext("not a Messenger or Instagram thread: no \"participants\" and \"messages\""),
                             source=name)
        title = title or _title(data)
        participants += [p for p in _participants(data) if p not in participants]
        for index, item in enumerate(data["messages"], 1):
            if not isinstance(item, dict):
                raise ParseError(gettext("message %(index)d is not a JSON object", index=index), source=name)
            collected.append((_timestamp(item), index, item))
    # Files and messages are newest first; reversing keeps the order of equal timestamps.
    collected.reverse()
    collected.sort(key=lambda entry: entry[0].timestamp() if entry[0] else float("-inf"))
    max_chars = (options or ParseOptions()).limits.max_message_chars
    records: list[ParsedMessage | ParseWarning | None] = []
    for sent_at, index, item in collected:
        if _is_notice(item):
            records.append(None)
        elif sent_at is None:
            records.append(ParseWarning(index, gettext(
                "this message has no readable date or time: it was left out")))
        else:
            records.append(_message(item, sent_at, index, max_chars))
    return chat_from_reader(lambda: iter(records), format=format, source=source,
                            title=title or ", ".join(participants) or None,
                            is_group=len(participants) >= GROUP_AUTHORS or _is_group_thread(parts),
                            participants=participants, budget=budget)


def _is_group_thread(parts: list[tuple[str, Any]]) -> bool:
    return any(isinstance(data, dict) and data.get("thread_type") in ("RegularGroup", "Group")
               for _, data in parts)


def _title(data: dict) -> str | None:
    for key in ("title", "threadName"):
        if isinstance(data.get(key), str) and data[key].strip():
            return repair(data[key]).strip()
    return None


def _participants(data: dict) -> list[str]:
    names = []
    people = data.get("participants")
    for person in people if isinstance(people, list) else ():
        name = person.get("name") if isinstance(person, dict) else person
        if isinstance(name, str) and name.strip():
            names.append(repair(name).strip())
    return names


def _timestamp(item: dict) -> datetime | None:
    value = item.get("timestamp_ms", item.get("timestamp"))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


def _text(item: dict) -> str:
    text = ""
    for key in ("content", "text"):
        if isinstance(item.get(key), str):
            text = repair(item[key])
            break
    share = item.get("share")
    link = share.get("link") if isinstance(share, dict) else None
    if isinstance(link, str) and link.strip():
        link = repair(link).strip()
        if not text.strip() or _SENT_ATTACHMENT.fullmatch(text.strip()):
            return link
        if link not in text:
            return f"{text}\n{link}"
        return text
    if _SENT_ATTACHMENT.fullmatch(text.strip()) and _attachments(item):
        return ""
    return text


def _is_notice(item: dict) -> bool:
    if "call_duration" in item or item.get("type") in ("Call", "Subscribe", "Unsubscribe"):
        return True
    return _NOTICE.fullmatch(_text(item).strip()) is not None


def _message(item: dict, sent_at: datetime | None, index: int, max_chars: int) -> ParsedMessage:
    author = item.get("sender_name", item.get("senderName"))
    body, truncated = cut_body(_text(item).strip(), max_chars)
    return ParsedMessage(
        sent_at=sent_at,
        author=repair(author).strip() if isinstance(author, str) and author.strip() else "Unknown",
        body=body,
        line=index,
        attachments=_attachments(item),
        deleted=item.get("is_unsent") is True or item.get("isUnsent") is True or _UNSENT.fullmatch(body) is not None,
        truncated=truncated,
    )


def _attachments(item: dict) -> tuple[str, ...]:
    found = []
    for key, kind in _ATTACHMENT_KEYS.items():
        for entry in item.get(key) if isinstance(item.get(key), list) else ():
            uri = entry.get("uri") if isinstance(entry, dict) else None
            found.append(_file_name(uri) or kind)
    sticker = item.get("sticker")
    if isinstance(sticker, dict):
        found.append(_file_name(sticker.get("uri")) or "sticker")
    return tuple(found)


def _file_name(uri: Any) -> str | None:
    if not isinstance(uri, str):
        return None
    return uri.replace("\\", "/").rsplit("/", 1)[-1] or None


def looks_like(head: str) -> bool:
    return any(key in head for key in ('"sender_name"', '"timestamp_ms"', '"thread_path"', '"is_still_participant"',
                                       '"senderName"', '"threadName"'))
