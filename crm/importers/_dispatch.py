"""Which parser reads a text, and handing decoded text to it."""
from __future__ import annotations

import io
import json
from contextlib import AbstractContextManager
from itertools import islice
from typing import Any, Callable, Iterable

from flask_babel import gettext

from . import line, meta, plain, telegram, telegram_copy, whatsapp
from ._common import FORMATS, Budget, MiB, ParsedChat, ParseError, ParseOptions, first_nonempty_line, strip_marks

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

HEAD_CHARS = 65536


def formats_read() -> str:
    return gettext("Obrolan reads: WhatsApp exports (.txt or .zip, Android and iPhone) and copied WhatsApp messages; "
                   "Telegram's result.json and copied Telegram messages; Facebook Messenger and Instagram "
                   "message_1.json; LINE chat history (.txt, phone or PC); and pasted \"Name: text\" lines")


def detect(head: str, name: str | None = None) -> str:
    head = head[:HEAD_CHARS]
    start = strip_marks(head).lstrip()
    if start.startswith(("{", "[{")):
        if meta.looks_like(head):
            return meta_format(name)
        if telegram.looks_like(head):
            return "telegram"
        raise ParseError(gettext("this JSON is not a Telegram, Messenger or Instagram chat export. %(formats)s",
                                 formats=formats_read()), line=1)

    def lines() -> Iterable[str]:
        return islice(io.StringIO(head, newline=None), 400)

    if whatsapp.looks_like_signal(lines()):
        raise ParseError(gettext("this looks like a Signal export, not a WhatsApp export: Signal chats are not "
                                 "read"), line=1)
    for format, parser in (("line", line), ("whatsapp", whatsapp), ("telegram_copy", telegram_copy),
                           ("plain", plain)):
        if parser.looks_like(lines()):
            return format
    found = first_nonempty_line(lines())
    if found is None:
        raise ParseError(gettext("there is no chat here, it is empty"))
    raise ParseError(gettext("this does not look like a chat export Obrolan knows. %(formats)s",
                             formats=formats_read()), line=found[0])


def meta_format(location: str | None) -> str:
    return "instagram" if location and "instagram" in location.lower() else "messenger"


def check_json_size(size: int, source: str, options: ParseOptions) -> None:
    limit = options.limits.max_json_bytes
    if size > limit:
        raise ParseError(gettext("this JSON export is larger than %(limit)d MB: export one chat at a time, or a "
                                 "shorter period", limit=limit // MiB), source=source)


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
                  names: Iterable[str] = (), options: ParseOptions | None = None,
                  budget: Budget | None = None) -> list[ParsedChat]:
    """Parse with a known format; names are file names that may carry a WhatsApp chat title.
    read_all is only called for JSON, after its size was checked by the caller."""
    options = options or ParseOptions()
    budget = budget or Budget(options.limits, source)
    if format not in FORMATS:
        raise ParseError(f"unknown format {format!r}, expected one of {', '.join(FORMATS)}", source=source)
    try:
        if format == "whatsapp":
            title = next(filter(None, map(whatsapp.title_from_name, names)), None)
            return [whatsapp.parse(open_lines, source=source, title=title, options=options, budget=budget)]
        if format == "line":
            return [line.parse(open_lines, source=source, options=options, budget=budget)]
        if format == "plain":
            return [plain.parse(open_lines, source=source, options=options, budget=budget)]
        if format == "telegram_copy":
            return [telegram_copy.parse(open_lines, source=source, options=options, budget=budget)]
        text = read_all()
        check_json_size(len(text), source, options)
        data = load_json(text, source)
        del text
        if format == "telegram":
            return telegram.parse(data, source=source, options=options, budget=budget)
        return [meta.parse_thread([(source, data)], format=format, source=source, options=options, budget=budget)]
    except ParseError as err:
        err.source = err.source or source
        raise
