"""Reading chats out of files, zips and folders: decoding, picking the chat inside a WhatsApp zip,
skipping the media next to it, and merging the message_N.json files of one Messenger thread."""
from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from flask_babel import gettext

from . import meta
from ._common import Budget, MiB, ParsedChat, ParseError, ParseOptions
from ._dispatch import HEAD_CHARS, check_json_size, detect, load_json, meta_format, parse_decoded
from .zipcheck import reject_overlapping_members

_MEDIA_SUFFIXES = frozenset(
    ".jpg .jpeg .png .gif .webp .heic .heif .bmp .tif .tiff .svg .ico .mp4 .mov .3gp .mkv .webm .avi .m4v "
    ".opus .ogg .oga .m4a .mp3 .aac .wav .amr .flac .pdf .vcf .doc .docx .xls .xlsx .ppt .pptx .tgs "
    ".css .js .woff .woff2 .ttf".split()
)
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini"})
_THREAD_FILE = re.compile(r"message_([0-9]{1,6})\.json")
_WHATSAPP_CHAT_FILE = re.compile(r"_chat\.txt|(?:WhatsApp Chat|Chat WhatsApp|Obrolan WhatsApp)\b.*\.txt", re.IGNORECASE)
_UNREADABLE = (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError,
               RuntimeError)

Opener = Callable[[], BinaryIO]


@dataclass(frozen=True)
class Entry:
    source: str      # what the user sees: the file name, or its path inside the folder or zip
    location: str    # the full path, which tells Instagram from Messenger
    open: Opener
    names: tuple[str, ...]   # file names that may carry a WhatsApp chat title
    in_zip: bool = False
    size: int | None = None  # bytes once decompressed, where known before reading


def file_entry(path: Path, source: str | None = None) -> Entry:
    try:
        size = path.stat().st_size
    except OSError:
        size = None
    return Entry(source or path.name, str(path.resolve()), lambda: open(path, "rb"), (path.name,), size=size)


def bytes_entry(data: bytes, name: str) -> Entry:
    return Entry(_base(name), name, lambda: io.BytesIO(data), (_base(name),), size=len(data))


def folder_entries(root: Path) -> list[Entry]:
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not _ignored(name)]
        for name in files:
            path = Path(folder, name)
            found.append(file_entry(path, path.relative_to(root).as_posix()))
    return sorted(found, key=lambda entry: entry.source)


def parse_entry(entry: Entry, format: str = "auto", options: ParseOptions | None = None,
                budget: Budget | None = None) -> Iterator[ParsedChat | ParseError]:
    """Every chat in one file (several for a zip or a Telegram account), errors as values."""
    options = options or ParseOptions()
    budget = budget or Budget(options.limits, entry.source)
    try:
        start = _read_start(entry)
        is_zip = start[:4] in (b"PK\x03\x04", b"PK\x05\x06")
        if is_zip or (not entry.in_zip and entry.source.lower().endswith(".zip")):
            if entry.in_zip:
                raise ParseError(gettext("a zip inside a zip is not read"), source=entry.source)
            yield from parse_entries(_zip_entries(entry, options), format, entry.source, options, budget)
            return
        if entry.source.lower().endswith((".html", ".htm")):
            raise ParseError(gettext("HTML exports are not read: export the chat as JSON"), source=entry.source)
        yield from _parse_file(entry, start, format, options, budget)
    except ParseError as err:
        yield err


def parse_entries(entries: list[Entry], format: str, root_name: str, options: ParseOptions | None = None,
                  budget: Budget | None = None) -> Iterator[ParsedChat | ParseError]:
    """The chats in a zip's members (one budget: the upload's) or a folder's files (a budget each)."""
    options = options or ParseOptions()
    threads: dict[str, list[tuple[int, Entry]]] = {}
    for entry in entries:
        found = _THREAD_FILE.fullmatch(_base(entry.source))
        if found:
            threads.setdefault(_parent(entry.source), []).append((int(found.group(1)), entry))
    for entry in entries:
        base = _base(entry.source)
        if _ignored_path(entry.source):
            continue
        if _THREAD_FILE.fullmatch(base):
            parent = _parent(entry.source)
            if parent in threads:
                thread = [e for _, e in sorted(threads.pop(parent), key=lambda pair: pair[0])]
                yield from _parse_thread(thread, parent or root_name, format, options,
                                         budget or Budget(options.limits, parent or root_name))
            continue
        yield from parse_entry(entry, format, options, budget or Budget(options.limits, entry.source))


def _parse_file(entry: Entry, start: bytes, format: str, options: ParseOptions, budget: Budget) -> list[ParsedChat]:
    encoding = "utf-16" if start.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    if format == "auto":
        try:
            format = detect(start.decode(encoding, errors="replace"), entry.location)
        except ParseError as err:
            err.source = entry.source
            raise
    if entry.size is not None:
        budget.add_bytes(entry.size, entry.source)
        if format in ("telegram", "messenger", "instagram"):
            check_json_size(entry.size, entry.source, options)
    return parse_decoded(
        format,
        lambda: _text(entry, encoding),
        lambda: _read_all(entry, encoding, options.limits.max_json_bytes),
        source=entry.source,
        names=entry.names,
        options=options,
        budget=budget,
    )


def _parse_thread(entries: list[Entry], source: str, format: str, options: ParseOptions,
                  budget: Budget) -> Iterator[ParsedChat | ParseError]:
    parts = []
    total = 0
    for entry in entries:
        try:
            if entry.size is not None:
                budget.add_bytes(entry.size, entry.source)
                total += entry.size
                check_json_size(total, source, options)
            data = load_json(_read_all(entry, "utf-8-sig", options.limits.max_json_bytes), entry.source)
            if not meta.is_thread(data):
                raise ParseError(gettext("not a Messenger or Instagram thread: no \"participants\" and \"messages\""),
                                 source=entry.source)
        except ParseError as err:
            yield err
            continue
        parts.append((entry.source, data))
    if parts:
        chosen = format if format in ("messenger", "instagram") else meta_format(entries[0].location)
        try:
            yield meta.parse_thread(parts, format=chosen, source=source, options=options, budget=budget)
        except ParseError as err:
            yield err


class _Archive:
    """One zip, its central directory read once; members are opened from it as often as needed."""

    def __init__(self, entry: Entry, options: ParseOptions):
        self.source = entry.source
        try:
            self._raw = entry.open()
            self._zip = zipfile.ZipFile(self._raw)
            reject_overlapping_members(self._zip)
            infos = self._zip.infolist()
        except (*_UNREADABLE, ValueError) as err:
            raise ParseError(gettext("this zip cannot be read (%(error)s)", error=err), source=entry.source) from None
        limit = options.limits.max_zip_members
        if len(infos) > limit:
            raise ParseError(gettext("this zip holds %(count)d files, more than the %(limit)d a chat export can "
                                     "hold", count=len(infos), limit=limit), source=entry.source)
        self.members = {info.filename: info for info in infos if not info.is_dir()}

    def opener(self, name: str) -> Opener:
        info = self.members[name]

        @contextmanager
        def open_member() -> Iterator[BinaryIO]:
            with self._zip.open(info) as member:
                yield member
        return open_member


def _zip_entries(archive_entry: Entry, options: ParseOptions) -> list[Entry]:
    archive = _Archive(archive_entry, options)
    members = sorted(archive.members)
    chats = [name for name in members if _WHATSAPP_CHAT_FILE.fullmatch(_base(name)) and not _ignored_path(name)]
    zip_name = _base(archive_entry.source)
    return [
        Entry(
            # A WhatsApp zip holds one chat and its media: the zip is the source the user knows.
            source=archive_entry.source if len(chats) == 1 else f"{archive_entry.source}/{name}",
            location=f"{archive_entry.location}/{name}",
            open=archive.opener(name),
            names=(_base(name), zip_name),
            in_zip=True,
            size=archive.members[name].file_size,
        )
        for name in (chats or members)
    ]


@contextmanager
def _text(entry: Entry, encoding: str) -> Iterator[io.TextIOWrapper]:
    try:
        with entry.open() as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=None) as text:
            yield text
    except ParseError:
        raise
    except _UNREADABLE as err:
        raise ParseError(gettext("this file cannot be read (%(error)s)", error=err), source=entry.source) from None


def _read_all(entry: Entry, encoding: str, limit: int) -> str:
    with _text(entry, encoding) as text:
        data = text.read(limit + 1)
    if len(data) > limit:
        raise ParseError(gettext("this JSON export is larger than %(limit)d MB: export one chat at a time, or a "
                                 "shorter period", limit=limit // MiB), source=entry.source)
    return data


def _read_start(entry: Entry) -> bytes:
    try:
        with entry.open() as raw:
            return raw.read(HEAD_CHARS)
    except _UNREADABLE as err:
        raise ParseError(gettext("this file cannot be read (%(error)s)", error=err), source=entry.source) from None


def _ignored(name: str) -> bool:
    lowered = name.lower()
    return (name.startswith(".") or name == "__MACOSX" or lowered in _IGNORED_NAMES
            or os.path.splitext(lowered)[1] in _MEDIA_SUFFIXES)


def _ignored_path(path: str) -> bool:
    return any(_ignored(part) for part in path.split("/"))


def _base(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
