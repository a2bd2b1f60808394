"""Telegram messages copied out of the app (select several, Copy) and pasted or saved as text:

    Rina, [25/06/2022 07:25]
    Halo kak, masih ada?

    Toko Batik Sari, [25/06/2022 07:26]
    Masih kak

The date is written in the computer's or phone's own short form ("25.06.22 07:25", "6/25/2022 7:25 AM"),
so day-first or month-first is decided for the whole paste, as for WhatsApp (see _dates). Some copies
put the text on the header's line after a colon ("Rina, [25.06.22 07:25]: Halo"); that is read too.
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Callable, Iterable, Iterator, NamedTuple

from flask_babel import gettext

from . import _dates
from ._common import (
    Budget,
    ParsedChat,
    ParsedMessage,
    ParseError,
    ParseOptions,
    ParseWarning,
    chat_from_reader,
    cut_body,
    cut_note,
    phone_handles,
    read_lines,
    strip_marks,
)

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

_SP = r"[ \u202f\u00a0]"
_MERIDIEM = _dates.MERIDIEM_PATTERN
_HEADER = re.compile(
    rf"(?P<name>[^\[\]\n]{{1,80}}?),{_SP}\[(?P<d1>[0-9]{{1,4}})(?P<sep>[./-])(?P<d2>[0-9]{{1,2}})(?P=sep)"
    rf"(?P<d3>[0-9]{{2,4}}),?{_SP}{{1,2}}(?:(?P<before>{_MERIDIEM}){_SP}?)?(?P<h>[0-9]{{1,2}})[:.](?P<m>[0-9]{{2}})"
    rf"(?:[:.](?P<s>[0-9]{{2}}))?(?:{_SP}?(?P<after>{_MERIDIEM}))?\](?::{_SP}?(?P<text>.*))?\s*"
)
_HEADER_LIKE = re.compile(r"[^\[\]\n]{1,80}?, \[[^\]]{0,40}\]")


class _Header(NamedTuple):
    name: str
    parts: tuple[str, str, str]
    clock: tuple[int, int, int, int] | None
    us_clock: bool
    text: str | None


def _header(line: str) -> _Header | None:
    found = _HEADER.fullmatch(line)
    if found is None:
        return None
    meridiem = found.group("after") or found.group("before")
    return _Header(found.group("name").strip(), (found.group("d1"), found.group("d2"), found.group("d3")),
                   _dates.clock(found.group("h"), found.group("m"), found.group("s"), meridiem),
                   _dates.is_us_clock(meridiem, found.group("sep")), found.group("text"))


def _sent_at(header: _Header, day_first: bool) -> datetime | None:
    return _dates.at(_dates.pick(_dates.date_readings(*header.parts), day_first), header.clock)


def _readable(header: _Header) -> bool:
    return header.clock is not None and any(_dates.date_readings(*header.parts))


def _unreadable_line() -> str:  # the same words as WhatsApp's: one translation
    return gettext("this line looks like the start of a message, but its date or time cannot be read: it was left "
                   "out, with the lines below it up to the next message")


def _records(lines: Iterable[str], source: str, options: ParseOptions,
             day_first: bool) -> Iterator[ParsedMessage | ParseWarning | None]:
    limits = options.limits
    current: tuple[int, datetime, str] | None = None
    body: list[str] = []
    size = 0
    cut = False
    for number, (raw, line_cut) in enumerate(read_lines(lines, limits.max_line_chars), 1):
        line = strip_marks(raw.rstrip("\r\n"))
        header = _header(line) if "[" in line else None
        if header is None:
            if current is None:
                if line.strip():
                    yield None
                continue
            if _HEADER_LIKE.fullmatch(line.strip()):
                yield _message(*current, body, limits.max_message_chars, cut)
                current = None
                yield ParseWarning(number, _unreadable_line())
                continue
            if size <= limits.max_message_chars:
                body.append(line)
                size += len(line) + 1
            else:
                cut = True
            cut = cut or line_cut
            continue
        if current is not None:
            yield _message(*current, body, limits.max_message_chars, cut)
            current = None
        sent_at = _sent_at(header, day_first) if _readable(header) else None
        if sent_at is None:
            yield ParseWarning(number, _unreadable_line())
            continue
        current = (number, sent_at, header.name)
        body = [header.text] if header.text else []
        size, cut = len(header.text or ""), line_cut
    if current is not None:
        yield _message(*current, body, limits.max_message_chars, cut)


def _message(number: int, sent_at: datetime, author: str, lines: list[str], max_chars: int,
             cut: bool) -> ParsedMessage:
    body, truncated = cut_body("\n".join(lines).strip(), max_chars)
    if cut and not truncated:
        body, truncated = f"{body}\n{cut_note(max_chars)}", True
    return ParsedMessage(sent_at=sent_at, author=author, body=body, line=number, truncated=truncated)


def parse(open_lines: OpenLines, *, source: str, options: ParseOptions | None = None,
          budget: Budget | None = None) -> ParsedChat:
    options = options or ParseOptions()
    votes = _dates.DateOrderVotes()
    headers = 0
    with open_lines() as lines:
        for raw, _ in read_lines(lines, options.limits.max_line_chars):
            header = _header(strip_marks(raw.rstrip("\r\n"))) if "[" in raw else None
            if header is not None and _readable(header):
                headers += 1
                votes.add(*header.parts, header.us_clock)
    if not headers:
        raise ParseError(gettext("expected copied Telegram messages: 'Name, [date time]' and the text below it"),
                         source=source)
    order = votes.decide(options.prefer_day_first, options.day_first)
    day_first = options.prefer_day_first if order.day_first is None else order.day_first

    def read() -> Iterator[ParsedMessage | ParseWarning | None]:
        with open_lines() as lines:
            yield from _records(lines, source, options, day_first)

    chat = chat_from_reader(read, format="telegram_copy", source=source, title=None, budget=budget)
    chat.handles = phone_handles(chat.authors)
    chat.day_first, chat.date_order_ambiguous, chat.date_order_basis = order.day_first, order.ambiguous, order.basis
    return chat


def looks_like(lines: Iterable[str]) -> bool:
    """True when the first non-empty line is a copied Telegram message's header."""
    for raw in lines:
        line = strip_marks(raw.rstrip("\r\n"))
        if line.strip():
            header = _header(line)
            return header is not None and _readable(header)
    return False
