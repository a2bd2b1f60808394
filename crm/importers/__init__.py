"""Chat exports in, messages out: WhatsApp, Telegram (JSON and copied text), Messenger, Instagram, LINE and
plain "Name: text".

Pure code: no database, no Flask app (only flask_babel's gettext for the messages users read). Times are
naive local time as written in the chat for WhatsApp, LINE and Telegram, aware UTC for Messenger and
Instagram (and for a Telegram message that only has date_unixtime), None for plain text.

Every entry point takes the same reading options, either as a ParseOptions or one by one:
prefer_day_first, day_first (force), known_names, include_groups and limits (see _common).
"""
from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from flask_babel import gettext

from ._common import FORMATS, Budget, Limits, ParsedChat, ParsedMessage, ParseError, ParseOptions, ParseWarning
from ._dispatch import HEAD_CHARS, detect, parse_decoded
from ._files import bytes_entry, file_entry, folder_entries, parse_entries, parse_entry

__all__ = ["FORMATS", "Limits", "ParseOptions", "ParseWarning", "ParsedMessage", "ParsedChat", "ParseError",
           "detect", "parse_text", "parse_file", "parse_path"]


def _options(options: ParseOptions | None, prefer_day_first: bool | None, day_first: bool | None,
             known_names: Iterable[str] | None, include_groups: bool | None, limits: Limits | None) -> ParseOptions:
    options = options or ParseOptions()
    changes = {}
    if prefer_day_first is not None:
        changes["prefer_day_first"] = prefer_day_first
    if day_first is not None:
        changes["day_first"] = day_first
    if known_names is not None:
        changes["known_names"] = tuple(name for name in known_names if name and name.strip())
    if include_groups is not None:
        changes["include_groups"] = include_groups
    if limits is not None:
        changes["limits"] = limits
    return dataclasses.replace(options, **changes) if changes else options


def parse_text(text: str, *, format: str = "auto", source: str = "pasted text", options: ParseOptions | None = None,
               prefer_day_first: bool | None = None, day_first: bool | None = None,
               known_names: Iterable[str] | None = None, limits: Limits | None = None) -> ParsedChat:
    """One chat from text (a paste, or a file's contents)."""
    options = _options(options, prefer_day_first, day_first, known_names, None, limits)
    if format == "auto":
        try:
            format = detect(text[:HEAD_CHARS], source)
        except ParseError as err:
            err.source = source
            raise
    chats = parse_decoded(format, lambda: io.StringIO(text, newline=None), lambda: text, source=source,
                          names=(source,), options=options, budget=Budget(options.limits, source))
    if len(chats) != 1:
        raise ParseError(gettext("this export holds %(count)d chats: import it as a file", count=len(chats)),
                         source=source)
    return chats[0]


def parse_file(path_or_file: str | os.PathLike | BinaryIO, *, name: str | None = None,
               format: str = "auto", options: ParseOptions | None = None, prefer_day_first: bool | None = None,
               day_first: bool | None = None, known_names: Iterable[str] | None = None,
               include_groups: bool | None = None, limits: Limits | None = None) -> list[ParsedChat]:
    """Every chat in one file: a chat export, a WhatsApp zip, or a Telegram account's result.json."""
    options = _options(options, prefer_day_first, day_first, known_names, include_groups, limits)
    if isinstance(path_or_file, (str, os.PathLike)):
        path = Path(path_or_file)
        if path.is_dir():
            raise ParseError("this is a folder: read it with parse_path", source=name or path.name)
        if not path.is_file():
            raise ParseError(gettext("there is no such file"), source=name or path.name)
        entry = file_entry(path, name)
    else:
        data = path_or_file.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray)):
            raise ParseError("expected a file opened in binary mode", source=name)
        given = name or getattr(path_or_file, "name", None)
        entry = bytes_entry(bytes(data), given if isinstance(given, str) and given else "uploaded file")
    results = list(parse_entry(entry, format, options, Budget(options.limits, entry.source)))
    for result in results:
        if isinstance(result, ParseError):
            raise result
    return results


def parse_path(path: str | os.PathLike, *, options: ParseOptions | None = None,
               prefer_day_first: bool | None = None, day_first: bool | None = None,
               known_names: Iterable[str] | None = None, include_groups: bool | None = None,
               limits: Limits | None = None) -> Iterator[ParsedChat | ParseError]:
    """Every chat under a file, zip or folder (walked in sorted order), with errors as values.

    The message_N.json files of one Messenger or Instagram thread become one chat; media files
    next to the chats are skipped. The limits count each file (each upload) on its own.
    """
    options = _options(options, prefer_day_first, day_first, known_names, include_groups, limits)
    path = Path(path)
    if path.is_dir():
        yield from parse_entries(folder_entries(path), "auto", path.name, options)
    elif path.is_file():
        entry = file_entry(path)
        yield from parse_entry(entry, "auto", options, Budget(options.limits, entry.source))
    else:
        yield ParseError(gettext("there is no such file or folder"), source=str(path))
