"""What every importer returns, the error it raises, the limits it keeps, and small helpers they share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Iterable, Iterator, Optional, Union

from flask_babel import gettext

from ..text_input import clean_text

FORMATS = ("whatsapp", "telegram", "telegram_copy", "messenger", "instagram", "line", "plain")
CHANNELS = {
    "whatsapp": "whatsapp",
    "telegram": "telegram",
    "telegram_copy": "telegram",
    "messenger": "facebook",
    "instagram": "instagram",
    "line": "other",
    "plain": "other",
}

# Invisible direction marks and isolates that WhatsApp (mostly iOS) sprinkles around names,
# numbers and placeholders, plus the byte order mark and zero-width spaces.
_MARKS = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

_PHONE = re.compile(r"\+?[0-9][0-9 ()\-.\u00a0]{5,22}[0-9]")

MiB = 1024 * 1024


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
class ParseWarning:
    """Something the parser read around instead of guessing: shown to the user with its line."""
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{gettext('line %(line)d', line=self.line)}: {self.message}"


@dataclass(frozen=True)
class Limits:
    """What one upload may hold. An export past a limit is refused with a ParseError that says which."""
    max_upload_bytes: int = 256 * MiB       # decompressed chat text read from one file or zip
    max_zip_members: int = 10_000           # files in one zip (a WhatsApp zip holds the chat and its media)
    max_json_bytes: int = 32 * MiB          # a JSON export is loaded whole, so it is the memory bound
    max_messages: int = 200_000             # messages in one upload, all its chats together
    max_message_chars: int = 65_536         # WhatsApp's own limit; a longer message is cut with a note

    @property
    def max_line_chars(self) -> int:
        # A physical line longer than any message is never loaded whole: the rest is skipped.
        return self.max_message_chars + 1024


@dataclass(frozen=True)
class ParseOptions:
    """How to read: what to assume where the export leaves it open, and the limits.

    prefer_day_first: the order for dates that fit day-first and month-first throughout the file
        (True for Indonesian shops); day_first: force one order (the preview's "switch" button);
    known_names: names known to be speakers (the shop's names, the customer's name) for plain pastes
        and for LINE PC exports, whose names are not delimited;
    include_groups: a Telegram account export also returns its group chats (flagged is_group).
    """
    prefer_day_first: bool = True
    day_first: bool | None = None
    known_names: tuple[str, ...] = ()
    include_groups: bool = False
    limits: Limits = field(default_factory=Limits)


class Budget:
    """Counts what one upload has used of its limits, across all the chats and files in it."""

    def __init__(self, limits: Limits, source: str | None = None):
        self.limits = limits
        self.source = source
        self.bytes_read = 0
        self.messages = 0

    def add_bytes(self, count: int, source: str | None = None) -> None:
        self.bytes_read += count
        if self.bytes_read > self.limits.max_upload_bytes:
            raise ParseError(gettext(
                "this upload holds more than %(limit)d MB of chat text, more than a shop's chat export: "
                "export the chat again, or split it", limit=self.limits.max_upload_bytes // MiB),
                source=source or self.source)

    def check_messages(self, count: int, source: str | None = None) -> None:
        if self.messages + count > self.limits.max_messages:
            raise ParseError(gettext(
                "this upload holds more than %(limit)d messages: import it in parts",
                limit=self.limits.max_messages), source=source or self.source)

    def spend_messages(self, count: int, source: str | None = None) -> None:
        self.check_messages(count, source)
        self.messages += count


@dataclass(frozen=True)
class ParsedMessage:
    sent_at: datetime | None
    author: str
    body: str
    line: int
    attachments: tuple[str, ...] = ()
    deleted: bool = False
    edited: bool = False          # the export marked it edited (the marker is not in the body)
    view_once: bool = False       # a view-once photo, video or voice message (its content is not exported)
    poll: bool = False
    location: bool = False        # a shared or live location (the link stays in the body)
    contact: bool = False         # a contact card
    truncated: bool = False       # longer than Limits.max_message_chars: cut, with a note at the end of the body


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
    is_group: bool = False                      # a group, supergroup, channel or a thread of 3+ people
    participant_count: int = 0                  # people known to be in it: authors, members, people added
    day_first: bool | None = None               # the date order used; None where the format leaves no doubt
    date_order_ambiguous: bool = False          # no date in the file settles the order: offer the switch
    date_order_basis: str | None = None         # "values", "order", "clock", "locale", "default" or "forced"
    warnings: list[ParseWarning] = field(default_factory=list)
    account_groups_skipped: int = 0             # Telegram account export: group chats and channels left out
    untimed_messages: int = 0                   # messages with no readable time (sent_at is None)

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


# A reader yields ParsedMessage for each message, None for each system line it skips, and a
# ParseWarning for a line it could not read (skipped too, and reported).
Item = Optional[Union[ParsedMessage, ParseWarning]]
Reader = Callable[[], Iterable[Item]]

GROUP_AUTHORS = 3


def chat_from_reader(read: Reader, *, format: str, source: str, title: str | None,
                     handles: dict[str, str] | None = None, is_group: bool = False,
                     participants: Iterable[str] = (), budget: Budget | None = None) -> ParsedChat:
    """Survey a reader once for the counts; messages() runs it again."""
    authors: dict[str, None] = {}
    count = skipped = untimed = 0
    first = last = None
    warnings: list[ParseWarning] = []
    for item in read():
        if item is None:
            skipped += 1
            continue
        if isinstance(item, ParseWarning):
            skipped += 1
            if len(warnings) < MAX_WARNINGS:
                warnings.append(item)
            continue
        count += 1
        if budget is not None and count % 1000 == 0:
            budget.check_messages(count, source)
        authors.setdefault(item.author)
        if item.sent_at is not None:
            first = first or item.sent_at
            last = item.sent_at
        else:
            untimed += 1
    if budget is not None:
        budget.spend_messages(count, source)
    people = set(authors) | {name for name in participants if name}
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
        _read=lambda: (item for item in read() if isinstance(item, ParsedMessage)),
        is_group=is_group or len(authors) >= GROUP_AUTHORS,
        participant_count=len(people),
        warnings=warnings,
        untimed_messages=untimed,
    )


MAX_WARNINGS = 200


def first_nonempty_line(lines: Iterable[str]) -> tuple[int, str] | None:
    for number, line in enumerate(lines, 1):
        if strip_marks(line).strip():
            return number, line
    return None


def capped_lines(text, max_chars: int) -> Iterator[tuple[str, bool]]:
    """Lines of a text stream, each at most max_chars long: (line, cut). The rest of a longer line is
    read in pieces and dropped, so one huge line never sits in memory whole."""
    readline = text.readline
    while True:
        line = readline(max_chars)
        if not line:
            return
        if len(line) < max_chars or line.endswith(("\n", "\r")):
            yield line, False
            continue
        while True:   # skip the rest of this line
            rest = readline(max_chars)
            if not rest or rest.endswith(("\n", "\r")) or len(rest) < max_chars:
                break
        yield line, True


def cut_body(body: str, limit: int) -> tuple[str, bool]:
    """A message longer than the limit keeps its start and says that it was cut."""
    if len(body) <= limit:
        return body, False
    return f"{body[:limit]}\n{cut_note(limit)}", True


def cut_note(limit: int) -> str:
    return gettext("[message cut here: it was longer than %(limit)d characters]", limit=limit)


def read_lines(stream, max_chars: int) -> Iterator[tuple[str, bool]]:
    """(line, cut) from a text stream (capped, see capped_lines) or from any iterable of lines."""
    if hasattr(stream, "readline"):
        yield from capped_lines(stream, max_chars)
        return
    for line in stream:
        if len(line) > max_chars:
            yield line[:max_chars], True
        else:
            yield line, False
