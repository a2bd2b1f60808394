"""What every importer returns, the error it raises, and small helpers they share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Iterable, Iterator, Optional

from flask_babel import gettext

from ..text_input import clean_text

FORMATS = ("whatsapp", "telegram", "messenger", "instagram", "line", "plain")
CHANNELS = {
    "whatsapp": "whatsapp",
    "telegram": "telegram",
    "messenger": "facebook",
    "instagram": "instagram",
    "line": "other",
    "plain": "other",
}

# Invisible direction marks and isolates that WhatsApp (mostly iOS) sprinkles around names,
# numbers and placeholders, plus the byte order mark.
_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

_PHONE = re.compile(r"\+?[0-9][0-9 ()\-.\u00a0]{5,22}[0-9]")


def strip_marks(text: str) -> str:
    return _MARKS.sub("", text)


def looks_like_phone(name: str) -> bool:
    digits = sum(ch.isdigit() for ch in name)
    return _PHONE.fullmatch(name) is not None and 7 <= digits <= 15


def phone_handles(authors: Iterable[str]) -> dict[str, str]:
    """Unsaved contacts show up under their number: that number is the handle."""
    return {author: author for author in authors if looks_like_phone(author)}


class ParseError(ValueError):
    def __init__(self, message: str, *, line: int | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.source = source

    def __str__(self) -> str:
        line = None if self.line is None else gettext("line %(line)d", line=self.line)
        where = " ".join(part for part in (self.source, line) if part)
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class ParsedMessage:
    sent_at: datetime | None
    author: str
    body: str
    line: int
    attachments: tuple[str, ...] = ()
    deleted: bool = False


@dataclass
class ParsedChat:
    format: str
    channel: str
    source: str
    title: str | None
    authors: list[str]
    message_count: int
    system_lines_skipped: int
    first: datetime | None
    last: datetime | None
    handles: dict[str, str] = field(default_factory=dict)
    _read: Callable[[], Iterable[ParsedMessage]] = field(default=tuple, repr=False, compare=False)

    def __post_init__(self):
        # Exports can carry NULs and lone surrogates ("\u0000", "\ud83d" in JSON): see crm.text_input.
        self.source, self.title = clean_text(self.source), self.title and clean_text(self.title)
        self.authors = [clean_text(author) for author in self.authors]
        self.handles = {clean_text(author): clean_text(handle) for author, handle in self.handles.items()}

    def messages(self) -> Iterator[ParsedMessage]:
        for message in self._read():
            texts = (message.author, message.body, *message.attachments)
            cleaned = tuple(map(clean_text, texts))
            if cleaned != texts:
                message = replace(message, author=cleaned[0], body=cleaned[1], attachments=cleaned[2:])
            yield message


# A reader yields ParsedMessage for each message and None for each system line it skips.
Reader = Callable[[], Iterable[Optional[ParsedMessage]]]


def chat_from_reader(read: Reader, *, format: str, source: str, title: str | None,
                     handles: dict[str, str] | None = None) -> ParsedChat:
    """Survey a reader once for the counts; messages() runs it again."""
    authors: dict[str, None] = {}
    count = skipped = 0
    first = last = None
    for item in read():
        if item is None:
            skipped += 1
            continue
        count += 1
        authors.setdefault(item.author)
        if item.sent_at is not None:
            first = first or item.sent_at
            last = item.sent_at
    return ParsedChat(
        format=format,
        channel=CHANNELS[format],
        source=source,
        title=title,
        authors=list(authors),
        message_count=count,
        system_lines_skipped=skipped,
        first=first,
        last=last,
        handles=dict(handles or {}),
        _read=lambda: (item for item in read() if item is not None),
    )


def first_nonempty_line(lines: Iterable[str]) -> tuple[int, str] | None:
    for number, line in enumerate(lines, 1):
        if strip_marks(line).strip():
            return number, line
    return None
