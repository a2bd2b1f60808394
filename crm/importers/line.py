"""LINE: the chat history .txt ("[LINE] Riwayat obrolan dengan X" / "[LINE] Chat history with X").

After a short header, a date line ("2026/05/09(Sab)" or "Sat, 05/09/2026") starts each day and each
message is "HH:MM<TAB>Name<TAB>text". A message with line breaks is wrapped in double quotes.
A time with no name ("HH:MM<TAB>X unsent a message") is a notice.
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Callable, Iterable, Iterator

from flask_babel import gettext

from ._common import ParsedChat, ParsedMessage, ParseError, chat_from_reader, strip_marks

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

_TITLE = re.compile(
    r"\[LINE\]\s*(?:Riwayat obrolan (?:dengan|di)|Obrolan (?:dengan|di)|Chat history (?:with|in)|Chat (?:with|in))?"
    r"\s*(.*?)\s*",
    re.IGNORECASE,
)
_SAVED = re.compile(r"(?:Disimpan pada|Saved on|Tanggal simpan)\s*:", re.IGNORECASE)
_DATE_YEAR_FIRST = re.compile(r"([0-9]{4})[/.-]([0-9]{1,2})[/.-]([0-9]{1,2})\s*(?:\(\s*\w{1,9}\.?\s*\))?\s*")
_DATE_WEEKDAY_FIRST = re.compile(r"(\w{2,9})\.?,?\s+([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})\s*")
_MESSAGE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?:\s?([AaPp])\.?[Mm]\.?)?\t(.*)")
_WEEKDAYS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "sen": 0, "sel": 1, "rab": 2, "kam": 3, "jum": 4, "sab": 5, "min": 6,
}
_PLACEHOLDERS = {
    "[foto]": "photo", "[photo]": "photo", "[stiker]": "sticker", "[sticker]": "sticker", "[video]": "video",
    "[file]": "file", "[berkas]": "file", "[audio]": "audio", "[pesan suara]": "audio",
    "[voice message]": "audio", "[lokasi]": "location", "[location]": "location", "[kontak]": "contact",
    "[contact]": "contact", "[album]": "photo", "[gif]": "gif",
}


def title_of(first_line: str) -> str | None:
    found = _TITLE.fullmatch(strip_marks(first_line).strip())
    return (found.group(1) or None) if found else None


def _day(line: str) -> date | None:
    found = _DATE_YEAR_FIRST.fullmatch(line)
    if found:
        return _date(*found.groups())
    found = _DATE_WEEKDAY_FIRST.fullmatch(line)
    if not found:
        return None
    weekday, first, second, year = found.groups()
    month_first, day_first = _date(year, first, second), _date(year, second, first)
    wanted = _WEEKDAYS.get(weekday[:3].lower())
    # LINE in English writes month-first; the weekday settles phones set to day-first.
    if wanted is not None and day_first and day_first.weekday() == wanted and not (
        month_first and month_first.weekday() == wanted
    ):
        return day_first
    return month_first or day_first


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _sent_at(day: date | None, hour: str, minute: str, meridiem: str | None) -> datetime | None:
    h, m = int(hour), int(minute)
    if meridiem:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if meridiem in "Pp" else 0)
    if day is None or h > 23 or m > 59:
        return None
    return datetime(day.year, day.month, day.day, h, m)


def _message(number: int, sent_at: datetime | None, author: str, lines: list[str]) -> ParsedMessage:
    body = "\n".join(lines).strip()
    if len(lines) > 1 and len(body) >= 2 and body.startswith('"') and body.endswith('"'):
        body = body[1:-1].replace('""', '"')
    kind = _PLACEHOLDERS.get(body.lower())
    return ParsedMessage(sent_at=sent_at, author=author, body=body, line=number,
                         attachments=(kind,) if kind else ())


def _records(lines: Iterable[str], source: str) -> Iterator[ParsedMessage | None]:
    day: date | None = None
    current: tuple[int, datetime | None, str] | None = None
    body: list[str] = []
    blanks: list[str] = []
    seen_chat = False
    first_odd_line = None
    for number, raw in enumerate(lines, 1):
        line = strip_marks(raw.rstrip("\r\n"))
        if not line.strip():
            blanks.append("")
            continue
        found = _MESSAGE.fullmatch(line)
        new_day = None if found else _day(line.strip())
        if found is None and new_day is None:
            if current is not None:
                body.extend(blanks)
                body.append(line)
            elif not seen_chat and (line.startswith("[LINE]") or _SAVED.match(line)):
                pass
            else:
                first_odd_line = first_odd_line or number
                yield None
            blanks = []
            continue
        blanks = []
        seen_chat = True
        if current is not None:
            yield _message(*current, body)
            current = None
        if new_day is not None:
            day = new_day
            continue
        hour, minute, meridiem, rest = found.groups()
        author, tab, text = rest.partition("\t")
        author = author.strip()
        if not tab or not author or text.lstrip().startswith("\u260e"):
            yield None   # unsent notices, people joining, call records ("☎ Missed call")
            continue
        current = (number, _sent_at(day, hour, minute, meridiem), author)
        body = [text]
    if current is not None:
        yield _message(*current, body)
    if not seen_chat and first_odd_line is not None:
        raise ParseError(gettext("expected a LINE date or 'HH:MM<TAB>Name<TAB>text'"), line=first_odd_line,
                         source=source)


def parse(open_lines: OpenLines, *, source: str) -> ParsedChat:
    title = None
    with open_lines() as lines:
        for raw in lines:
            if strip_marks(raw).strip():
                title = title_of(raw)
                break
    return chat_from_reader(lambda: _records_of(open_lines, source), format="line", source=source, title=title)


def _records_of(open_lines: OpenLines, source: str) -> Iterator[ParsedMessage | None]:
    with open_lines() as lines:
        yield from _records(lines, source)


def looks_like(lines: Iterable[str]) -> bool:
    """True for the "[LINE]" header, or dated tab-separated messages near the top."""
    seen = dated = messages = 0
    for raw in lines:
        line = strip_marks(raw.rstrip("\r\n"))
        if not line.strip():
            continue
        if seen == 0 and line.lstrip().startswith("[LINE]"):
            return True
        seen += 1
        if _day(line.strip()):
            dated += 1
        elif _MESSAGE.fullmatch(line) and "\t" in line.split("\t", 1)[1]:
            messages += 1
        if seen >= 20:
            break
    return dated > 0 and messages > 0
