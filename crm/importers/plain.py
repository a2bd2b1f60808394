"""Plain text pasted by hand: each message starts with "Name:" ("Me:", "Saya:"), other lines continue it.

There are no times. A name is at most 40 characters and six words, holds a letter (or is a phone
number), and "https://..." is not a name.
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Callable, Iterable, Iterator

from flask_babel import gettext

from ._common import (
    ParsedChat,
    ParsedMessage,
    ParseError,
    chat_from_reader,
    looks_like_phone,
    phone_handles,
    strip_marks,
)

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

_SPEAKER = re.compile(r"\s*([^\s:][^:]{0,39}?)\s*:(?!//)\s?(.*)", re.DOTALL)


def speaker(line: str) -> tuple[str, str] | None:
    """(name, text) when the line starts a message."""
    found = _SPEAKER.fullmatch(line)
    if found is None:
        return None
    name, text = found.groups()
    if len(name.split()) > 6 or not (any(ch.isalpha() for ch in name) or looks_like_phone(name)):
        return None
    return name, text


def _records(lines: Iterable[str], source: str) -> Iterator[ParsedMessage | None]:
    current: tuple[int, str] | None = None
    body: list[str] = []
    blanks: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = strip_marks(raw.rstrip("\r\n"))
        if not line.strip():
            blanks.append("")
            continue
        found = speaker(line)
        if found is None:
            if current is None:
                raise ParseError(gettext("expected 'Name: text' at the start"), line=number, source=source)
            body.extend(blanks)
            body.append(line)
        else:
            if current is not None:
                yield _message(*current, body)
            current = (number, found[0])
            body = [found[1]]
        blanks = []
    if current is not None:
        yield _message(*current, body)


def _message(number: int, author: str, lines: list[str]) -> ParsedMessage:
    return ParsedMessage(sent_at=None, author=author, body="\n".join(lines).strip(), line=number)


def parse(open_lines: OpenLines, *, source: str) -> ParsedChat:
    def read() -> Iterator[ParsedMessage | None]:
        with open_lines() as lines:
            yield from _records(lines, source)

    chat = chat_from_reader(read, format="plain", source=source, title=None)
    if chat.message_count == 0:
        raise ParseError(gettext("there is no chat in this text, it is empty"), source=source)
    chat.handles = phone_handles(chat.authors)
    return chat


def looks_like(lines: Iterable[str]) -> bool:
    for raw in lines:
        line = strip_marks(raw.rstrip("\r\n"))
        if line.strip():
            return speaker(line) is not None
    return False
