"""WhatsApp: "Export chat" .txt from Android and iOS, and messages copied out of the app or WhatsApp Web.

Every locale writes its own timestamp, so a line is a message header when it starts with one of
    23/11/26 10.15 - Name: text           Android (also "4/3/26, 8:05 PM - ", "13.6.2018 klo 21.25.15 - ",
                                          "2018. 6. 13. 오후 9:25 - ", "2018/06/13 午後9:25 - ")
    13.06.18 21.25.15: Name: text         older dotted exports; "13. 6. 2018. 21:25 Name: text"
    [23/11/26 10.15.07] Name: text        iOS (also "[4/3/26, 8:05:00 PM] ", "[2018/6/13 下午9:25:15] ")
    [10.15, 23/11/2026] Name: text        copied messages
and every other line continues the message above it, except a line that looks like a header but
whose date or time cannot be read: that one is left out and reported, never glued to a message.
Whether 04/03 is the 4th of March or April 3rd is decided once for the whole file (see _dates).
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import datetime
from functools import lru_cache
from typing import Callable, Iterable, Iterator, NamedTuple

from flask_babel import gettext

from . import _dates
from ._common import (
    CHANNELS,
    GROUP_AUTHORS,
    MAX_WARNINGS,
    Budget,
    ParsedChat,
    ParsedMessage,
    ParseError,
    ParseOptions,
    ParseWarning,
    cut_body,
    cut_note,
    phone_handles,
    read_lines,
    strip_marks,
)

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

_SP = r"[ \u202f\u00a0]"
_DATE = r"([0-9]{1,4})(?P<sep>[./-]) ?([0-9]{1,4})(?P=sep) ?([0-9]{1,4})\.?"
_MERIDIEM = _dates.MERIDIEM_PATTERN
_TIME = (rf"(?:({_MERIDIEM}){_SP}?)?([0-9]{{1,2}})[:.]([0-9]{{2}})(?:[:.]([0-9]{{2}}))?"
         rf"(?:{_SP}?({_MERIDIEM}))?")
_BETWEEN = rf",?{_SP}{{1,3}}(?:klo{_SP}|um{_SP}|à{_SP}|alle{_SP}|kl\.{_SP})?"
_BRACKET_DATE_TIME = re.compile(rf"\[{_DATE}{_BETWEEN}{_TIME}\]{_SP}?")
_BRACKET_TIME_DATE = re.compile(rf"\[{_TIME},{_SP}{{0,3}}{_DATE}\]{_SP}?")
_ANDROID = re.compile(rf"{_DATE}{_BETWEEN}{_TIME}(?:{_SP}{{1,3}}[-\u2013]{_SP}|(:){_SP})")
# "13. 6. 2018. 21:25 Name: text": no separator at all after the time.
_SPACED_DOTS = re.compile(rf"([0-9]{{1,2}})(\.) ([0-9]{{1,2}})\. ([0-9]{{4}})\.{_SP}{_TIME}{_SP}(?:[-\u2013]{_SP})?")
# Shaped like a header (a date, then a time) but not readable as one.
_HEADER_LIKE = re.compile(
    r"\[?(?:[0-9]{1,2}|[0-9]{4})[./-] ?[0-9]{1,2}[./-] ?(?:[0-9]{1,2}|[0-9]{4})\.?,?\s(?:\S{1,4}\s?)?"
    r"[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2})?.{0,8}?(?:\]|\s[-\u2013]\s|:\s)")
# signal-export (Signal Desktop to Markdown) writes "[2019-05-29, 15:04] Name: text": no seconds.
_SIGNAL = re.compile(r"\[[0-9]{4}-[0-9]{2}-[0-9]{2}, [0-9]{2}:[0-9]{2}\] ")

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
# What only happens in a group. The names in "added" and "joined" count as members.
_GROUP_EVENT = re.compile(
    r"created group|created the group|membuat grup|changed the (?:subject|group)|mengubah (?:subjek|nama grup)"
    r"|joined using this group's invite link|bergabung menggunakan tautan undangan"
    r"|\badded\b|\bmenambahkan\b|\bwere added\b|\bremoved\b|\bmengeluarkan\b|now an admin|sekarang admin"
    r"|^.{1,80} left$|^.{1,80} keluar$",
    re.IGNORECASE,
)
_ADDED = re.compile(r"(?:^|\b)(?:added|menambahkan)\s+(.+?)\.?$", re.IGNORECASE)
_JOINED = re.compile(r"^(.+?)\s+(?:joined using|bergabung menggunakan)", re.IGNORECASE)
_CREATOR = re.compile(r"^(.+?)\s+(?:created (?:the )?group|membuat grup|added|menambahkan)\b", re.IGNORECASE)
_NAME_LIST = re.compile(r",\s*|\s+(?:and|dan)\s+")
_YOU = {"you", "anda", "kamu"}

_DELETED = re.compile(
    r"(?:This message was deleted|You deleted this message|Message deleted|Pesan ini (?:telah )?dihapus"
    r"|Anda menghapus pesan ini|Pesan telah dihapus)\.?",
    re.IGNORECASE,
)
_EDITED = re.compile(r"\s*<(?:This message was edited|Pesan ini (?:telah )?diedit|Edited|Diedit)\.?>\s*$",
                     re.IGNORECASE)
_VIEW_ONCE = re.compile(r"(?:view once|sekali lihat)", re.IGNORECASE)
_POLL = re.compile(r"(?:POLL|POLLING|JAJAK PENDAPAT|SURVEI):\s*(?:\n|$)")
_LOCATION = re.compile(
    r"(?:location|lokasi|lokasi saya): https?://\S+|live location shared|lokasi (?:terkini|langsung) dibagikan"
    r"|berbagi lokasi (?:terkini|langsung)",
    re.IGNORECASE,
)
_ATTACHED = re.compile(r"<(?:attached|terlampir|lampiran): ([^>]+)>", re.IGNORECASE)
_FILE_ATTACHED = re.compile(r"(.+?\.[A-Za-z0-9]{1,5}) \((?:file attached|file terlampir)\)", re.IGNORECASE)
_MEDIA_KINDS = {
    "media": "media", "image": "photo", "photo": "photo", "gambar": "photo", "foto": "photo", "video": "video",
    "audio": "audio",
    "sticker": "sticker", "stiker": "sticker", "gif": "gif", "document": "document", "dokumen": "document",
    "contact card": "contact", "kartu kontak": "contact", "video message": "video", "video note": "video",
    "voice message": "audio", "pesan suara": "audio", "pesan video": "video",
}
_OMITTED = re.compile(
    r"<?(media|image|photo|gambar|foto|video|audio|sticker|stiker|gif|document|dokumen|contact card|kartu kontak"
    r"|video message|video note|voice message|pesan suara|pesan video)"
    r" (?:omitted|tidak disertakan)>?$",
    re.IGNORECASE,
)
_ENGLISH = re.compile(r"omitted|\(file attached\)|<attached:|end-to-end encrypted|this message was|you deleted"
                      r"|created group|\badded\b|missed (?:voice|video)|joined using|security code", re.IGNORECASE)
_INDONESIAN = re.compile(r"tidak disertakan|\(file terlampir\)|<terlampir:|terenkripsi|pesan ini|menghapus pesan"
                         r"|membuat grup|menambahkan|tak terjawab|bergabung|kode keamanan", re.IGNORECASE)

# WhatsApp on Android exports the newest 40,000 messages, or 10,000 with media, and drops the rest.
ANDROID_CAP, ANDROID_CAP_WITH_MEDIA = 40_000, 10_000


class _Stamp(NamedTuple):
    part1: str   # the date's three numbers in the order written: day or month or year first
    part2: str
    part3: str
    hour: str
    minute: str
    seconds: str | None
    meridiem: str | None
    android: bool
    separator: str = "/"


def title_from_name(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    found = _TITLE.match(base)
    return found.group(1).strip() if found else None


@lru_cache(maxsize=4096)
def _date_time(groups: tuple, android: bool) -> _Stamp:
    first, separator, middle, third, before, hour, minute, second, after = groups[:9]
    return _Stamp(first, middle, third, hour, minute, second, after or before, android, separator)


def _match_stamp(line: str) -> tuple[_Stamp, int] | None:
    if line.startswith("["):
        found = _BRACKET_DATE_TIME.match(line)
        if found:
            return _date_time(found.groups(), False), found.end()
        found = _BRACKET_TIME_DATE.match(line)
        if found:
            before, hour, minute, second, after, first, separator, middle, third = found.groups()
            stamp = _Stamp(first, middle, third, hour, minute, second, after or before, False, separator)
            return stamp, found.end()
    elif line[:1].isdigit():
        found = _ANDROID.match(line)
        if found:
            return _date_time(found.groups(), found.group(10) is None), found.end()
        found = _SPACED_DOTS.match(line)
        if found:
            return _date_time(found.groups(), False), found.end()
    return None


def _clock(stamp: _Stamp):
    return _dates.clock(stamp.hour, stamp.minute, stamp.seconds, stamp.meridiem)


@lru_cache(maxsize=4096)
def _readable(stamp: _Stamp) -> bool:
    return _clock(stamp) is not None and any(_dates.date_readings(stamp.part1, stamp.part2, stamp.part3))


@lru_cache(maxsize=4096)
def _sent_at(stamp: _Stamp, day_first: bool) -> datetime | None:
    day = _dates.pick(_dates.date_readings(stamp.part1, stamp.part2, stamp.part3), day_first)
    return _dates.at(day, _clock(stamp))


class _Line(NamedTuple):
    number: int
    stamp: _Stamp | None
    text: str          # after the stamp
    marked: bool       # the body was marked with U+200E (iOS notices)
    cut: bool          # the physical line was longer than the limit and was cut
    odd: bool          # shaped like a header, but its date or time cannot be read
    signal: bool = False   # a header as signal-export writes them


def _scan(lines: Iterable[str], max_chars: int) -> Iterator[_Line]:
    for number, (raw, cut) in enumerate(read_lines(lines, max_chars), 1):
        line = strip_marks(raw.rstrip("\r\n"))
        found = _match_stamp(line)
        if found is not None:
            stamp = found[0]
            if _readable(stamp):
                signal = (len(stamp.part1) == 4 and stamp.seconds is None and line.startswith("[")
                          and _SIGNAL.match(line) is not None)
                yield _Line(number, stamp, line[found[1]:], ": \u200e" in raw, cut, False, signal)
                continue
            yield _Line(number, None, line, False, cut, True)
            continue
        odd = line[:1] in "[0123456789" and line[:1] != "" and _HEADER_LIKE.match(line) is not None
        yield _Line(number, None, line, False, cut, odd)


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
        return None, body if marked else rest
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


def message_from_body(number: int, sent_at: datetime | None, author: str, body: str, *, max_chars: int,
                      cut: bool = False) -> ParsedMessage:
    """A WhatsApp message with its markers read into flags (the edit marker leaves the body)."""
    body = body.strip()
    edited = False
    if body.endswith(">"):
        found = _EDITED.search(body)
        if found:
            body, edited = body[:found.start()].rstrip(), True
    truncated = False
    if len(body) > max_chars:
        body, truncated = cut_body(body, max_chars)
    if cut and not truncated:
        body, truncated = f"{body}\n{cut_note(max_chars)}", True
    attachments = _attachments(body)
    # Cheap tests first: this runs for every message of exports 100,000 lines long.
    view_once = deleted = location = poll = False
    if len(body) <= 120:
        lowered = body.lower()
        view_once = ("once" in lowered or "sekali" in lowered) and (
            bool(attachments) or "sekali lihat" in lowered or lowered.startswith("view once"))
        deleted = ("delet" in lowered or "hapus" in lowered) and _DELETED.fullmatch(body) is not None
        location = ("lokasi" in lowered or "location" in lowered) and _LOCATION.match(body) is not None
    if body[:1] in "PJS":
        poll = _POLL.match(body) is not None
    return ParsedMessage(
        sent_at=sent_at,
        author=author,
        body=body,
        line=number,
        attachments=attachments,
        deleted=deleted,
        edited=edited,
        view_once=view_once,
        poll=poll,
        location=location,
        contact=bool(attachments) and ("contact" in attachments
                                       or any(name.lower().endswith(".vcf") for name in attachments)),
        truncated=truncated,
    )


class _Survey:
    def __init__(self) -> None:
        self.authors: dict[str, None] = {}
        self.members: dict[str, None] = {}
        self.messages = 0
        self.skipped = 0
        self.leading = 0
        self.first_text_line: int | None = None
        self.seen_stamp = False
        self.votes = _dates.DateOrderVotes()
        self.first_stamp: _Stamp | None = None
        self.last_stamp: _Stamp | None = None
        self.group_events = 0
        self.android = 0
        self.stamps = 0
        self.signal_shaped = 0
        self.media_files = 0
        self.warnings: list[ParseWarning] = []
        self.odd_lines = 0

    def add(self, record: _Line) -> None:
        stamp, text = record.stamp, record.text
        if stamp is None:
            if record.odd:
                self.odd_lines += 1
                if len(self.warnings) < MAX_WARNINGS:
                    self.warnings.append(ParseWarning(record.number, gettext(
                        "this line looks like the start of a message, but its date or time cannot be read: it "
                        "was left out, with the lines below it up to the next message")))
            elif not self.seen_stamp and text.strip():
                # Lines above the first timestamp: the tail of a message cut off by the copy.
                self.leading += 1
                self.first_text_line = self.first_text_line or record.number
            return
        self.seen_stamp = True
        self.stamps += 1
        self.android += stamp.android
        self.signal_shaped += record.signal
        self.votes.add(stamp.part1, stamp.part2, stamp.part3,
                       stamp.meridiem is not None and _dates.is_us_clock(stamp.meridiem, stamp.separator))
        author, body = _split_author(text, record.marked)
        if author is None:
            self.skipped += 1
            self._notice(body)
            return
        self.messages += 1
        self.authors.setdefault(author)
        self.first_stamp = self.first_stamp or stamp
        self.last_stamp = stamp
        if body.endswith((")", ">", "omitted", "disertakan", "dihapus", "deleted", "ini", ".")):
            self._locale(body[:200])
            if body.endswith(")") and _FILE_ATTACHED.match(body):
                self.media_files += 1

    def _notice(self, text: str) -> None:
        text = text.strip()
        self._locale(text[:200])
        if len(text) > 300 or _GROUP_EVENT.search(text) is None:
            return
        self.group_events += 1
        names: list[str] = []
        for pattern in (_ADDED, _JOINED, _CREATOR):
            found = pattern.search(text)
            if found:
                names += _NAME_LIST.split(found.group(1).strip().strip('"'))
        for name in names:
            name = name.strip()
            if name and name.lower() not in _YOU and len(name) <= 80:
                self.members.setdefault(name)

    def _locale(self, text: str) -> None:
        if self.votes.english + self.votes.indonesian >= 50:   # enough to tell
            return
        if _ENGLISH.search(text):
            self.votes.english += 1
        elif _INDONESIAN.search(text):
            self.votes.indonesian += 1


def parse(open_lines: OpenLines, *, source: str, title: str | None = None, options: ParseOptions | None = None,
          budget: Budget | None = None) -> ParsedChat:
    options = options or ParseOptions()
    limits = options.limits
    max_line = limits.max_line_chars
    survey = _Survey()
    with open_lines() as lines:
        for record in _scan(lines, max_line):
            survey.add(record)
            if budget is not None and survey.messages and survey.messages % 5000 == 0 and record.stamp:
                budget.check_messages(survey.messages, source)
    if not survey.seen_stamp:
        if survey.first_text_line is None and not survey.odd_lines:
            raise ParseError(gettext("there is no chat in this file, it is empty"), source=source)
        line = survey.first_text_line or (survey.warnings[0].line if survey.warnings else None)
        raise ParseError(gettext("no date and time at the start of the line"), line=line, source=source)
    if survey.signal_shaped and survey.signal_shaped == survey.stamps:
        raise ParseError(gettext("this looks like a Signal export, not a WhatsApp export: Signal chats are not "
                                 "read"), source=source)
    if budget is not None:
        budget.spend_messages(survey.messages, source)
    order = survey.votes.decide(options.prefer_day_first, options.day_first)
    day_first = options.prefer_day_first if order.day_first is None else order.day_first
    warnings = survey.warnings
    cap = ANDROID_CAP_WITH_MEDIA if survey.media_files else ANDROID_CAP
    if survey.android * 2 > survey.stamps and cap * 0.975 <= survey.stamps <= cap + 50:
        warnings.append(ParseWarning(None, gettext(
            "this export holds about %(count)d messages, the most WhatsApp on Android exports: the phone may have "
            "left out the oldest messages. Export again in parts if you need them", count=cap)))

    def read() -> Iterator[ParsedMessage]:
        max_chars = limits.max_message_chars
        with open_lines() as lines:
            current: tuple[int, _Stamp, str] | None = None
            body: list[str] = []
            size = 0
            cut = False
            for record in _scan(lines, max_line):
                if record.stamp is None:
                    if record.odd:
                        # Its lines belong to the message that cannot be read: reported, left out with it.
                        if current is not None:
                            yield message_from_body(current[0], _sent_at(current[1], day_first), current[2],
                                                    "\n".join(body), max_chars=max_chars, cut=cut)
                        current = None
                        continue
                    if current is not None:
                        if size <= max_chars:
                            body.append(record.text)
                            size += len(record.text) + 1
                        else:
                            cut = True
                        cut = cut or record.cut
                    continue
                if current is not None:
                    yield message_from_body(current[0], _sent_at(current[1], day_first), current[2],
                                            "\n".join(body), max_chars=max_chars, cut=cut)
                author, first_line = _split_author(record.text, record.marked)
                current = None if author is None else (record.number, record.stamp, author)
                body, size, cut = [first_line], len(first_line), record.cut
            if current is not None:
                yield message_from_body(current[0], _sent_at(current[1], day_first), current[2],
                                        "\n".join(body), max_chars=max_chars, cut=cut)

    members = set(survey.authors) | set(survey.members)
    return ParsedChat(
        format="whatsapp",
        channel=CHANNELS["whatsapp"],
        source=source,
        title=title,
        authors=list(survey.authors),
        message_count=survey.messages,
        system_lines_skipped=survey.skipped + survey.leading + survey.odd_lines,
        first=survey.first_stamp and _sent_at(survey.first_stamp, day_first),
        last=survey.last_stamp and _sent_at(survey.last_stamp, day_first),
        handles=phone_handles(survey.authors),
        _read=read,
        is_group=survey.group_events > 0 or len(survey.authors) >= GROUP_AUTHORS,
        participant_count=len(members),
        day_first=order.day_first,
        date_order_ambiguous=order.ambiguous,
        date_order_basis=order.basis,
        warnings=warnings,
    )


def looks_like(lines: Iterable[str]) -> bool:
    """True when one of the first 20 non-empty lines starts with a WhatsApp timestamp."""
    seen = 0
    for record in _scan(lines, 4096):
        if record.stamp is not None:
            return True
        if record.text.strip():
            seen += 1
            if seen >= 20:
                return False
    return False


def looks_like_signal(lines: Iterable[str]) -> bool:
    """signal-export's Markdown: every header in the first lines is "[YYYY-MM-DD, HH:MM] "."""
    signal = other = 0
    for record in _scan(lines, 4096):
        if record.stamp is not None:
            signal += record.signal
            other += not record.signal
    return signal > 0 and other == 0
