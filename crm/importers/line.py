"""LINE: the chat history .txt from the phone ("[LINE] Riwayat obrolan dengan X" / "[LINE] Chat history
with X") and from LINE for PC ("Save chat").

After a short header, a date line starts each day: "2026/05/09(Sab)", "Sat, 05/09/2026", on PC
"2017.09.02 Saturday"; Thai phones count Buddhist-era years ("2569/05/09"). A phone's message is
"HH:MM<TAB>Name<TAB>text" (also "上午09:46", "午後9:25", "10:00 AM"); LINE for PC writes
"HH:MM Name text" with spaces, so a name is told from the text by the known names (the title, the
shop's names) or else is the first word. A message with line breaks is wrapped in double quotes.
A time with no name ("HH:MM<TAB>X unsent a message", "HH:MM<TAB><TAB>X joined") is a notice.
Times after midnight can be written "24:53": that is 00:53 the next day.
A line that looks like a date or a message but cannot be read is reported, never glued to a message.
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import date, datetime
from itertools import islice
from typing import Callable, Iterable, Iterator

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
    read_lines,
    strip_marks,
)

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

_TITLE = re.compile(
    r"\[LINE\]\s*(?:(?:Riwayat obrolan|Obrolan|Chat history|Chat) (?P<how>dengan|di|with|in))?"
    r"\s*(?P<name>.*?)\s*",
    re.IGNORECASE,
)
_TITLE_JAPANESE = re.compile(r"\[LINE\]\s*(?P<name>.+?)(?P<how>との|の)トーク履歴\s*")
_SAVED = re.compile(r"(?:Disimpan pada|Saved on|Tanggal simpan|保存日時|保存日期|บันทึกเมื่อ|บันทึกวันที่)\s*[:：]",
                    re.IGNORECASE)
_DATE_YEAR_FIRST = re.compile(
    r"([0-9]{4})[/.-]([0-9]{1,2})[/.-]([0-9]{1,2})\s*(?:[(（]\s*[^)）]{1,12}\s*[)）]|\s\w{2,12}\.?)?\s*")
_DATE_WEEKDAY_FIRST = re.compile(r"(\w{2,9})\.?,?\s+([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})\s*")
_DATE_LIKE = re.compile(r"[0-9]{4}[/.-][0-9]{1,2}[/.-][0-9]{1,2}\b|\w{2,9}\.?,?\s+[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}")
_MERIDIEM = _dates.MERIDIEM_PATTERN
_CLOCK = rf"(?:({_MERIDIEM})\s?)?([0-9]{{1,2}}):([0-9]{{2}})(?:\s?({_MERIDIEM}))?"
_MESSAGE = re.compile(rf"{_CLOCK}\t(.*)")
_PC_MESSAGE = re.compile(rf"{_CLOCK} (\S.*)")
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
# LINE for PC writes the kind with no brackets.
_PC_PLACEHOLDERS = {"photos": "photo", "photo": "photo", "stickers": "sticker", "sticker": "sticker",
                    "videos": "video", "video": "video", "files": "file", "file": "file", "foto": "photo",
                    "stiker": "sticker", "voice messages": "audio", "audio": "audio"}
_GROUP_EVENT = re.compile(r"\b(?:joined the group|left the group|added|invited|bergabung (?:ke|dengan) grup"
                          r"|keluar dari grup|menambahkan|mengundang)\b", re.IGNORECASE)


def title_of(first_line: str) -> str | None:
    return _title(first_line)[0]


def _title(first_line: str) -> tuple[str | None, bool]:
    """(title, is a group) from the first line."""
    line = strip_marks(first_line).strip()
    found = _TITLE_JAPANESE.fullmatch(line) or _TITLE.fullmatch(line)
    if not found:
        return None, False
    how = (found.group("how") or "").lower()
    return found.group("name") or None, how in ("di", "in", "の")


def _day(line: str) -> date | None:
    found = _DATE_YEAR_FIRST.fullmatch(line)
    if found:
        year, month, day = found.groups()
        return _dates.make_date(_dates.full_year(year), int(month), int(day))
    found = _DATE_WEEKDAY_FIRST.fullmatch(line)
    if not found:
        return None
    weekday, first, second, year = found.groups()
    month_first = _dates.make_date(_dates.full_year(year), int(first), int(second))
    day_first = _dates.make_date(_dates.full_year(year), int(second), int(first))
    wanted = _WEEKDAYS.get(weekday[:3].lower())
    # LINE in English writes month-first; the weekday settles phones set to day-first.
    if wanted is not None and day_first and day_first.weekday() == wanted and not (
        month_first and month_first.weekday() == wanted
    ):
        return day_first
    return month_first or day_first


def _sent_at(day: date | None, before: str | None, hour: str, minute: str, after: str | None) -> datetime | None:
    return _dates.at(day, _dates.clock(hour, minute, None, after or before, allow_past_midnight=True))


def _message(number: int, sent_at: datetime, author: str, lines: list[str], max_chars: int, cut: bool,
             pc: bool) -> ParsedMessage:
    body = "\n".join(lines).strip()
    if len(lines) > 1 and len(body) >= 2 and body.startswith('"') and body.endswith('"'):
        body = body[1:-1].replace('""', '"')
    body, truncated = cut_body(body, max_chars)
    if cut and not truncated:
        body, truncated = f"{body}\n{cut_note(max_chars)}", True
    kind = _PLACEHOLDERS.get(body.lower()) or (_PC_PLACEHOLDERS.get(body.lower()) if pc else None)
    return ParsedMessage(sent_at=sent_at, author=author, body=body, line=number,
                         attachments=(kind,) if kind else (), location=kind == "location",
                         contact=kind == "contact", truncated=truncated)


class _Names:
    """Tells "Bob Sanders Hi there" apart on LINE for PC: the longest known name that starts the line.
    Names are known from the caller, the title, and the file: the longest run of words that every
    line starting with the same first word shares (two lines at least)."""

    def __init__(self, known: Iterable[str]):
        self.known = sorted({" ".join(name.split()) for name in known if name and name.strip()}, key=len,
                            reverse=True)

    def learn(self, rests: Iterable[str]) -> None:
        prefixes: dict[str, int] = {}
        for rest in rests:
            words = rest.split(" ", 4)[:4]
            for size in range(1, len(words)):
                key = " ".join(words[:size])
                prefixes[key] = prefixes.get(key, 0) + 1
        learned = set()
        for key, count in prefixes.items():
            if " " in key or count < 2:
                continue
            name = key
            while True:
                longer = [k for k, c in prefixes.items() if c == count and k.startswith(name + " ")
                          and k.count(" ") == name.count(" ") + 1]
                if len(longer) != 1:
                    break
                name = longer[0]
            learned.add(name)
        self.known = sorted(set(self.known) | learned, key=len, reverse=True)

    def split(self, rest: str) -> tuple[str, str]:
        for name in self.known:
            if rest.startswith(name) and (len(rest) == len(name) or rest[len(name)] == " "):
                return name, rest[len(name) + 1:]
        author, _, text = rest.partition(" ")
        return author, text


def _records(lines: Iterable[str], source: str, options: ParseOptions, pc: bool, names: _Names,
             group_events: list[int]) -> Iterator[ParsedMessage | ParseWarning | None]:
    limits = options.limits
    day: date | None = None
    current: tuple[int, datetime, str] | None = None
    body: list[str] = []
    blanks: list[str] = []
    size = 0
    cut = False
    seen_chat = False
    first_odd_line = None
    for number, (raw, line_cut) in enumerate(read_lines(lines, limits.max_line_chars), 1):
        line = strip_marks(raw.rstrip("\r\n"))
        if not line.strip():
            blanks.append("")
            continue
        found = _MESSAGE.fullmatch(line) or (_PC_MESSAGE.fullmatch(line) if pc else None)
        new_day = None if found else _day(line.strip())
        if found is None and new_day is None:
            if _DATE_LIKE.match(line.strip()) and seen_chat:
                yield ParseWarning(number, gettext("this line looks like a date, but it cannot be read: "
                                                   "the messages after it were read with the date before it"))
            elif current is not None:
                if size <= limits.max_message_chars:
                    body.extend(blanks)
                    body.append(line)
                    size += len(line) + len(blanks) + 1
                else:
                    cut = True
                cut = cut or line_cut
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
            yield _message(*current, body, limits.max_message_chars, cut, pc)
            current = None
        if new_day is not None:
            day = new_day
            continue
        before, hour, minute, after, rest = found.groups()
        if "\t" in rest or not pc:
            author, tab, text = rest.partition("\t")
            author = author.strip()
            if not tab or not author or text.lstrip().startswith("\u260e"):
                if _GROUP_EVENT.search(rest):
                    group_events.append(number)
                yield None   # unsent notices, people joining, call records ("☎ Missed call")
                continue
        else:
            author, text = names.split(rest)
        sent_at = _sent_at(day, before, hour, minute, after)
        if sent_at is None:
            yield ParseWarning(number, gettext("this message has no readable date or time: it was left out"))
            continue
        current = (number, sent_at, author)
        body, size, cut = [text], len(text), line_cut
    if current is not None:
        yield _message(*current, body, limits.max_message_chars, cut, pc)
    if not seen_chat and first_odd_line is not None:
        raise ParseError(gettext("expected a LINE date or 'HH:MM<TAB>Name<TAB>text'"), line=first_odd_line,
                         source=source)


def _is_pc(lines: Iterable[str]) -> bool:
    """LINE for PC: dated, with "HH:MM Name text" and no tab-separated messages near the top."""
    tabs = spaces = 0
    for raw in islice(lines, 400):
        line = strip_marks(raw.rstrip("\r\n"))
        if _MESSAGE.fullmatch(line):
            tabs += 1
        elif _PC_MESSAGE.fullmatch(line):
            spaces += 1
    return tabs == 0 and spaces > 0


def parse(open_lines: OpenLines, *, source: str, options: ParseOptions | None = None,
          budget: Budget | None = None) -> ParsedChat:
    options = options or ParseOptions()
    title, titled_group = None, False
    with open_lines() as lines:
        head = list(islice((line for line, _ in read_lines(lines, 4096)), 400))
    for raw in head:
        if strip_marks(raw).strip():
            title, titled_group = _title(raw)
            break
    pc = _is_pc(head)
    names = _Names([*options.known_names, *([title] if title else [])])
    if pc:
        with open_lines() as lines:
            names.learn(found.group(5) for found in (
                _PC_MESSAGE.fullmatch(strip_marks(raw.rstrip("\r\n")))
                for raw, _ in read_lines(lines, options.limits.max_line_chars)) if found)
    group_events: list[int] = []

    def read() -> Iterator[ParsedMessage | ParseWarning | None]:
        group_events.clear()
        with open_lines() as lines:
            yield from _records(lines, source, options, pc, names, group_events)

    chat = chat_from_reader(read, format="line", source=source, title=title, budget=budget)
    chat.is_group = chat.is_group or titled_group or bool(group_events)
    return chat


def looks_like(lines: Iterable[str]) -> bool:
    """True for the "[LINE]" header, or dated messages (tab-separated, or PC's) near the top."""
    seen = dated = messages = pc_messages = 0
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
        elif dated and _PC_MESSAGE.fullmatch(line):
            pc_messages += 1
        if seen >= 20:
            break
    return dated > 0 and (messages > 0 or pc_messages > 1)
