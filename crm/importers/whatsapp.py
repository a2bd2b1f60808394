"""WhatsApp: "Export chat" .txt from Android and iOS, and messages copied out of the app or WhatsApp Web.

Every locale writes its own timestamp, so a line is a message header when it starts with one of
    23/11/26 10.15 - Name: text           Android (also "4/3/26, 8:05 PM - ")
    [23/11/26 10.15.07] Name: text        iOS (also "[4/3/26, 8:05:00 PM] ")
    [10.15, 23/11/2026] Name: text        copied messages
and every other line continues the message above it. Whether 04/03 is the 4th of March or April 3rd
is decided once for the whole file: day-first unless some date only works month-first.
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import date, datetime
from functools import lru_cache
from typing import Callable, Iterable, Iterator, NamedTuple

from flask_babel import gettext

from ._common import CHANNELS, ParsedChat, ParsedMessage, ParseError, phone_handles, strip_marks

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

_DATE = r"([0-9]{1,4})[./-]([0-9]{1,2})[./-]([0-9]{1,4})\.?"
_TIME = r"([0-9]{1,2})[:.]([0-9]{2})(?:[:.]([0-9]{2}))?(?:[ \u202f\u00a0]?([AaPp])\.?[ \u202f\u00a0]?[Mm]\.?)?"
_BRACKET_DATE_TIME = re.compile(rf"\[{_DATE},?\s{{1,3}}{_TIME}\]\s?")
_BRACKET_TIME_DATE = re.compile(rf"\[{_TIME},\s{{0,3}}{_DATE}\]\s?")
_ANDROID = re.compile(rf"{_DATE},?\s{{1,3}}{_TIME}\s{{1,3}}[-\u2013]\s")

_TITLE = re.compile(
    r"^(?:WhatsApp Chat(?: with| -)|Chat WhatsApp dengan|Obrolan WhatsApp dengan)\s+(.+?)(?:\.(?:txt|zip))?$",
    re.IGNORECASE,
)

# Notices WhatsApp writes after a name, as if someone had said them (iOS does this with the
# encryption notice, prefixed by U+200E).
_NOTICE = re.compile(
    r"(?:Messages and calls are end-to-end encrypted|Messages (?:you send )?to this (?:group|chat)"
    r"|Pesan dan panggilan terenkripsi|Pesan (?:yang Anda kirim )?ke (?:grup|chat) ini"
    r"|Your security code with .* changed|Kode keamanan (?:Anda )?dengan .* (?:telah )?berubah"
    r"|This business uses a secure service|Bisnis ini menggunakan layanan"
    r"|(?:Missed (?:group )?(?:voice|video) call|Panggilan (?:suara|video)(?: grup)? tak terjawab)(?:[.,].*)?$)",
    re.IGNORECASE,
)
# Group events and call records: only a notice when WhatsApp marked the text with U+200E.
_MARKED_NOTICE = re.compile(
    r"\b(?:added|removed|left|joined|created group|changed (?:the|this|their|to)|turned (?:on|off)"
    r"|menambahkan|mengeluarkan|keluar|bergabung|membuat grup|mengubah|mengaktifkan|menonaktifkan)\b"
    r"|^(?:voice|video) call\b|^panggilan (?:suara|video)\b",
    re.IGNORECASE,
)
_MARKED_NOTICE_WORDS = ("add", "remov", "left", "join", "creat", "chang", "turn", "call", "menambah", "keluar",
                        "gabung", "membuat", "mengubah", "aktifkan", "panggilan")
# A subject change can quote a colon, which would otherwise pass for "Name: ".
_SUBJECT_CHANGE = re.compile(r"changed the (?:subject|group name)|mengubah (?:subjek|nama grup)", re.IGNORECASE)

_DELETED = re.compile(
    r"(?:This message was deleted|You deleted this message|Pesan ini (?:telah )?dihapus|Anda menghapus pesan ini)\.?",
    re.IGNORECASE,
)
_ATTACHED = re.compile(r"<(?:attached|terlampir|lampiran): ([^>]+)>", re.IGNORECASE)
_FILE_ATTACHED = re.compile(r"(.+?\.[A-Za-z0-9]{1,5}) \((?:file attached|file terlampir)\)", re.IGNORECASE)
_MEDIA_KINDS = {
    "media": "media", "image": "photo", "gambar": "photo", "foto": "photo", "video": "video", "audio": "audio",
    "sticker": "sticker", "stiker": "sticker", "gif": "gif", "document": "document", "dokumen": "document",
    "contact card": "contact", "kartu kontak": "contact",
}
_OMITTED = re.compile(
    r"<?(media|image|gambar|foto|video|audio|sticker|stiker|gif|document|dokumen|contact card|kartu kontak)"
    r" (?:omitted|tidak disertakan)>?$",
    re.IGNORECASE,
)


class _Stamp(NamedTuple):
    part1: str   # the date's three numbers in the order written: day or month or year first
    part2: str
    part3: str
    hour: str
    minute: str
    seconds: str | None
    meridiem: str | None


def title_from_name(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    found = _TITLE.match(base)
    return found.group(1).strip() if found else None


def _match_stamp(line: str) -> tuple[_Stamp, int] | None:
    if line.startswith("["):
        found = _BRACKET_DATE_TIME.match(line)
        if found:
            return _Stamp(*found.groups()), found.end()
        found = _BRACKET_TIME_DATE.match(line)
        if found:
            hour, minute, second, meridiem, first, middle, third = found.groups()
            return _Stamp(first, middle, third, hour, minute, second, meridiem), found.end()
    elif line[:1].isdigit():
        found = _ANDROID.match(line)
        if found:
            return _Stamp(*found.groups()), found.end()
    return None


@lru_cache(maxsize=4096)
def _dates(first: str, middle: str, third: str) -> tuple[date | None, date | None]:
    """The date read day-first and read month-first (None where impossible)."""
    if len(first) == 4:
        year_first = _date(first, middle, third)
        return year_first, year_first
    if len(third) == 2:
        year = 2000 + int(third)
    elif len(third) == 4:
        year = int(third)
    else:
        return None, None
    return _date(year, middle, first), _date(year, first, middle)


def _date(year, month, day) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _clock(hour: str, minute: str, second: str | None, meridiem: str | None) -> tuple[int, int, int] | None:
    h, m, s = int(hour), int(minute), int(second or 0)
    if meridiem:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if meridiem in "Pp" else 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return h, m, s


def _sent_at(stamp: _Stamp, day_first: bool) -> datetime | None:
    clock = _clock(stamp.hour, stamp.minute, stamp.seconds, stamp.meridiem)
    day_first_date, month_first_date = _dates(stamp.part1, stamp.part2, stamp.part3)
    # A date impossible in the file's order but possible in the other one comes from
    # a second phone's export pasted into the same file.
    chosen = (day_first_date or month_first_date) if day_first else (month_first_date or day_first_date)
    if clock is None or chosen is None:
        return None
    return datetime(chosen.year, chosen.month, chosen.day, *clock)


def _scan(lines: Iterable[str]) -> Iterator[tuple[int, _Stamp | None, str, bool]]:
    """Yield (line number, stamp or None, text after the stamp, body marked with U+200E)."""
    for number, raw in enumerate(lines, 1):
        line = strip_marks(raw.rstrip("\r\n"))
        found = _match_stamp(line)
        if found is not None:
            stamp = found[0]
            if _clock(stamp.hour, stamp.minute, stamp.seconds, stamp.meridiem) is not None and any(
                _dates(stamp.part1, stamp.part2, stamp.part3)
            ):
                yield number, stamp, line[found[1]:], ": \u200e" in raw
                continue
        yield number, None, line, False


@lru_cache(maxsize=1024)
def _could_be_name(author: str) -> bool:
    return 0 < len(author) <= 80 and not _SUBJECT_CHANGE.search(author)


def _split_author(rest: str, marked: bool) -> tuple[str | None, str]:
    """(author, body) for a message; (None, text) for a system line."""
    author, colon, body = rest.partition(": ")
    if not colon:
        if rest.endswith(":") and 0 < len(rest) <= 81 and ":" not in rest[:-1]:
            return rest[:-1].strip() or None, ""
        return None, rest
    author = author.strip()
    if not _could_be_name(author):
        return None, rest
    text = body.strip()
    if _NOTICE.match(text) or (marked and _is_marked_notice(text)):
        return None, rest
    return author, body


def _is_marked_notice(text: str) -> bool:
    lowered = text[:300].lower()
    return (any(word in lowered for word in _MARKED_NOTICE_WORDS) and _MARKED_NOTICE.search(lowered) is not None
            and not _DELETED.fullmatch(text) and not _attachments(text))


def _attachments(body: str) -> tuple[str, ...]:
    # The cheap tests first: this runs for every message of exports 100,000 lines long.
    if "<" in body:
        names = _ATTACHED.findall(body)
        if names:
            return tuple(name.strip() for name in names)
    first_line = body.split("\n", 1)[0].strip()
    ending = first_line[-12:].lower()
    if ending.endswith(")"):
        found = _FILE_ATTACHED.match(first_line)
        if found:
            return (found.group(1).strip(),)
    if ending.endswith(("omitted", "omitted>", "disertakan", "disertakan>")):
        found = _OMITTED.search(first_line)
        if found:
            return (_MEDIA_KINDS[found.group(1).lower()],)
    return ()


def _message(number: int, stamp: _Stamp, author: str, body_lines: list[str], day_first: bool) -> ParsedMessage:
    body = "\n".join(body_lines).strip()
    return ParsedMessage(
        sent_at=_sent_at(stamp, day_first),
        author=author,
        body=body,
        line=number,
        attachments=_attachments(body),
        deleted=_DELETED.fullmatch(body) is not None,
    )


class _Survey:
    def __init__(self) -> None:
        self.authors: dict[str, None] = {}
        self.messages = 0
        self.skipped = 0
        self.leading = 0
        self.first_text_line: int | None = None
        self.seen_stamp = False
        self.day_first_votes = 0
        self.month_first_votes = 0
        self.first_stamp: _Stamp | None = None
        self.last_stamp: _Stamp | None = None

    def add(self, number: int, stamp: _Stamp | None, text: str, marked: bool) -> None:
        if stamp is None:
            if not self.seen_stamp and text.strip():
                # Lines above the first timestamp: the tail of a message cut off by the copy.
                self.leading += 1
                self.first_text_line = self.first_text_line or number
            return
        self.seen_stamp = True
        if len(stamp.part1) != 4:
            if int(stamp.part1) > 12:
                self.day_first_votes += 1
            elif int(stamp.part2) > 12:
                self.month_first_votes += 1
        author, _ = _split_author(text, marked)
        if author is None:
            self.skipped += 1
            return
        self.messages += 1
        self.authors.setdefault(author)
        self.first_stamp = self.first_stamp or stamp
        self.last_stamp = stamp


def parse(open_lines: OpenLines, *, source: str, title: str | None = None) -> ParsedChat:
    survey = _Survey()
    with open_lines() as lines:
        for record in _scan(lines):
            survey.add(*record)
    if not survey.seen_stamp:
        if survey.first_text_line is None:
            raise ParseError(gettext("there is no chat in this file, it is empty"), source=source)
        raise ParseError(gettext("no date and time at the start of the line"), line=survey.first_text_line,
                         source=source)
    day_first = survey.month_first_votes <= survey.day_first_votes

    def read() -> Iterator[ParsedMessage]:
        with open_lines() as lines:
            current: tuple[int, _Stamp, str] | None = None
            body: list[str] = []
            for number, stamp, text, marked in _scan(lines):
                if stamp is None:
                    if current is not None:
                        body.append(text)
                    continue
                if current is not None:
                    yield _message(*current, body, day_first)
                author, first_line = _split_author(text, marked)
                current = None if author is None else (number, stamp, author)
                body = [first_line]
            if current is not None:
                yield _message(*current, body, day_first)

    return ParsedChat(
        format="whatsapp",
        channel=CHANNELS["whatsapp"],
        source=source,
        title=title,
        authors=list(survey.authors),
        message_count=survey.messages,
        system_lines_skipped=survey.skipped + survey.leading,
        first=survey.first_stamp and _sent_at(survey.first_stamp, day_first),
        last=survey.last_stamp and _sent_at(survey.last_stamp, day_first),
        handles=phone_handles(survey.authors),
        _read=read,
    )


def looks_like(lines: Iterable[str]) -> bool:
    """True when one of the first 20 non-empty lines starts with a WhatsApp timestamp."""
    seen = 0
    for _, stamp, text, _ in _scan(lines):
        if stamp is not None:
            return True
        if text.strip():
            seen += 1
            if seen >= 20:
                return False
    return False
