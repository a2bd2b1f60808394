"""Chat exports in, messages out: WhatsApp, Telegram, Messenger, Instagram, LINE and plain "Name: text".

Pure code: no database, no Flask. Times are naive local time as written in the chat for WhatsApp,
LINE and Telegram, aware UTC for Messenger and Instagram, None for plain text.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO, Iterator

from ._common import FORMATS, ParsedChat, ParsedMessage, ParseError
from ._dispatch import HEAD_CHARS, detect, parse_decoded
from ._files import bytes_entry, file_entry, folder_entries, parse_entries, parse_entry

__all__ = ["FORMATS", "ParsedMessage", "ParsedChat", "ParseError", "detect", "parse_text", "parse_file", "parse_path"]


def parse_text(text: str, *, format: str = "auto", source: str = "pasted text") -> ParsedChat:
    """One chat from text (a paste, or a file's contents)."""
    if format == "auto":
        try:
            format = detect(text[:HEAD_CHARS], source)
        except ParseError as err:
            err.source = source
            raise
    chats = parse_decoded(format, lambda: io.StringIO(text, newline=None), lambda: text, source=source,
                          names=(source,))
    if len(chats) != 1:
        raise ParseError(f"this export holds {len(chats)} chats: read it with parse_file", source=source)
    return chats[0]


def parse_file(path_or_file: str | os.PathLike | BinaryIO, *, name: str | None = None,
               format: str = "auto") -> list[ParsedChat]:
    """Every chat in one file: a chat export, a WhatsApp zip, or a Telegram account's result.json."""
    if isinstance(path_or_file, (str, os.PathLike)):
        path = Path(path_or_file)
        if path.is_dir():
            raise ParseError("this is a folder: read it with parse_path", source=name or path.name)
        if not path.is_file():
            raise ParseError("there is no such file", source=name or path.name)
        entry = file_entry(path, name)
    else:
        data = path_or_file.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray)):
            raise ParseError("expected a file opened in binary mode", source=name)
        given = name or getattr(path_or_file, "name", None)
        entry = bytes_entry(bytes(data), given if isinstance(given, str) and given else "uploaded file")
    results = list(parse_entry(entry, format))
    for result in results:
        if isinstance(result, ParseError):
            raise result
    return results


def parse_path(path: str | os.PathLike) -> Iterator[ParsedChat | ParseError]:
    """Every chat under a file, zip or folder (walked in sorted order), with errors as values.

    The message_N.json files of one Messenger or Instagram thread become one chat; media files
    next to the chats are skipped.
    """
    path = Path(path)
    if path.is_dir():
        yield from parse_entries(folder_entries(path), "auto", path.name)
    elif path.is_file():
        yield from parse_entry(file_entry(path))
    else:
        yield ParseError("there is no such file or folder", source=str(path))
