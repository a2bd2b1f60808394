"""Which parser reads a text, and handing decoded text to it."""
from __future__ import annotations

import io
import json
from contextlib import AbstractContextManager
from itertools import islice
from typing import Any, Callable, Iterable

from flask_babel import gettext

from . import line, meta, plain, telegram, whatsapp
from ._common import FORMATS, ParsedChat, ParseError, first_nonempty_line, strip_marks

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

HEAD_CHARS = 65536


def detect(head: str, name: str | None = None) -> str:
    head = head[:HEAD_CHARS]
    start = strip_marks(head).lstrip()
    if start.startswith("{"):
        if meta.looks_like(head):
            return meta_format(name)
        if telegram.looks_like(head):
            return "telegram"
        raise ParseError(gettext("this JSON is not a Telegram, Messenger or Instagram chat export"), line=1)

    def lines() -> Iterable[str]:
        return islice(io.StringIO(head, newline=None), 400)

    for format, parser in (("line", line), ("whatsapp", whatsapp), ("plain", plain)):
        if parser.looks_like(lines()):
            return format
    found = first_nonempty_line(lines())
    if found is None:
        raise ParseError(gettext("there is no chat here, it is empty"))
    raise ParseError(gettext("this does not look like a chat export (expected e.g. '23/11/26 10.15 - Name: text')"),
                     line=found[0])


def meta_format(location: str | None) -> str:
    return "instagram" if location and "instagram" in location.lower() else "messenger"


def load_json(text: str, source: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as err:
        raise ParseError(gettext("this is not valid JSON (%(error)s)", error=err.msg), line=err.lineno,
                         source=source) from None
    except ValueError as err:   # e.g. a number longer than Python's int conversion limit
        raise ParseError(gettext("this JSON cannot be read (%(error)s)", error=err), source=source) from None
    except RecursionError:
        raise ParseError(gettext("this JSON is nested too deeply to be a chat export"), source=source) from None


def parse_decoded(format: str, open_lines: OpenLines, read_all: Callable[[], str], *, source: str,
                  names: Iterable[str] = ()) -> list[ParsedChat]:
    """Parse with a known format; names are file names that may carry a WhatsApp chat title."""
    if format not in FORMATS:
        raise ParseError(f"unknown format {format!r}, expected one of {', '.join(FORMATS)}", source=source)
    try:
        if format == "whatsapp":
            title = next(filter(None, map(whatsapp.title_from_name, names)), None)
            return [whatsapp.parse(open_lines, source=source, title=title)]
        if format == "line":
            return [line.parse(open_lines, source=source)]
        if format == "plain":
            return [plain.parse(open_lines, source=source)]
        data = load_json(read_all(), source)
        if format == "telegram":
            return telegram.parse(data, source=source)
        return [meta.parse_thread([(source, data)], format=format, source=source)]
    except ParseError as err:
        err.source = err.source or source
        raise
