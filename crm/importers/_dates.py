"""Dates and clocks as chat apps write them, and the day-or-month-first decision for a whole file.

"04/03/26" is the 4th of March on an Indonesian phone and April 3rd on a US one. The file decides,
strongest evidence first:
  values   a first number above 12 can only be a day, a second one above 12 only a day in second place;
  order    an export runs forward in time: the reading in which the dates go backwards less often wins;
  locale   Indonesian notices mean day first;
  clock    "9:05 PM" after a date with slashes is a US phone (month first); "9.05 PM", "9:05 pm",
           "1:55 p. m." are phones that write the day first (Indonesia, Spain, Australia, India);
  default  the caller's preference (day first for an Indonesian shop), reported as ambiguous.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

# Words written before or after the time for the half of the day, lowercased, dots and spaces removed.
MERIDIEM = {
    "am": False, "pm": True, "a": False, "p": True,
    "오전": False, "오후": True, "午前": False, "午後": True, "上午": False, "下午": True,
    "ก่อนเที่ยง": False, "หลังเที่ยง": True,
}
MERIDIEM_PATTERN = r"(?:[AaPp]\.?[\s\u202f\u00a0]?[Mm]\.?|오전|오후|午前|午後|上午|下午|ก่อนเที่ยง|หลังเที่ยง)"
BUDDHIST_ERA_OFFSET = 543


def meridiem_is_pm(word: str | None) -> bool | None:
    if not word:
        return None
    key = "".join(ch for ch in word.lower() if ch not in ". \u202f\u00a0")
    return MERIDIEM.get(key)


@lru_cache(maxsize=4096)
def clock(hour: str, minute: str, second: str | None = None, meridiem: str | None = None,
          allow_past_midnight: bool = False) -> tuple[int, int, int, int] | None:
    """(hour, minute, second, days to add); LINE writes times after midnight as 24:53."""
    h, m, s = int(hour), int(minute), int(second or 0)
    pm = meridiem_is_pm(meridiem)
    if meridiem and pm is None:
        return None
    if pm is not None:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if pm else 0)
    extra_day = 0
    if allow_past_midnight and 24 <= h <= 29:
        h, extra_day = h - 24, 1
    if h > 23 or m > 59 or s > 59:
        return None
    return h, m, s, extra_day


def full_year(text: str) -> int | None:
    year = int(text)
    if len(text) == 2:
        return 2000 + year
    if len(text) != 4:
        return None
    # Thai phones count years from the Buddha's death: 2569 is 2026.
    return year - BUDDHIST_ERA_OFFSET if year >= 2400 else year


def make_date(year: int | None, month: int, day: int) -> date | None:
    if year is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=8192)
def date_readings(first: str, middle: str, third: str) -> tuple[date | None, date | None]:
    """The date read day-first and read month-first (None where impossible); year-first dates
    read the same both ways."""
    if len(first) == 4:
        year_first = make_date(full_year(first), int(middle), int(third))
        return year_first, year_first
    if len(middle) == 4:   # "06/2018/13": seen in the wild, the year between month and day
        year, a, b = full_year(middle), int(first), int(third)
    else:
        year, a, b = full_year(third), int(first), int(middle)
    return make_date(year, b, a), make_date(year, a, b)


def pick(readings: tuple[date | None, date | None], day_first: bool) -> date | None:
    # A date impossible in the file's order but possible in the other one comes from a second
    # phone's export pasted into the same file: read it the way it works.
    day, month = readings
    return (day or month) if day_first else (month or day)


def at(day: date | None, clock_: tuple[int, int, int, int] | None) -> datetime | None:
    if day is None or clock_ is None:
        return None
    h, m, s, extra = clock_
    moment = datetime(day.year, day.month, day.day, h, m, s)
    return moment + timedelta(days=extra) if extra else moment


@dataclass(frozen=True)
class DateOrder:
    day_first: bool | None
    ambiguous: bool
    basis: str | None


class DateOrderVotes:
    """Collects a file's dates as written (in file order) and decides the order once."""

    def __init__(self) -> None:
        self.day_only = 0          # dates that only work day-first
        self.month_only = 0
        self.ambiguous_dates = 0
        self.backwards = [0, 0]    # times the dates go back, read day-first / month-first
        self._previous: tuple[date | None, date | None] | None = None
        self.us_clock = 0          # "9:05 PM" with a date written with slashes
        self.other_clock = 0       # "9.05 PM", "9:05 pm", "1:55 p. m.", 24 hours
        self.english = 0
        self.indonesian = 0

    def add(self, first: str, middle: str, third: str, us_clock: bool) -> None:
        if us_clock:
            self.us_clock += 1
        else:
            self.other_clock += 1
        if len(first) == 4:
            return
        readings = date_readings(first, middle, third)
        day, month = readings
        if day and not month:
            self.day_only += 1
        elif month and not day:
            self.month_only += 1
        elif day and month and day != month:
            self.ambiguous_dates += 1
        previous = self._previous
        if previous is not None:
            for index in (0, 1):
                now, before = readings[index], previous[index]
                if now and before and now < before:
                    self.backwards[index] += 1
        self._previous = readings

    def decide(self, prefer_day_first: bool = True, forced: bool | None = None) -> DateOrder:
        natural = self._natural(prefer_day_first)
        if forced is not None:
            return DateOrder(forced, natural.ambiguous, "forced")
        return natural

    def _natural(self, prefer_day_first: bool) -> DateOrder:
        if not (self.day_only or self.month_only or self.ambiguous_dates):
            return DateOrder(None, False, None)
        if self.day_only != self.month_only:
            return DateOrder(self.day_only > self.month_only, False, "values")
        by_day, by_month = self.backwards
        if by_day != by_month:
            return DateOrder(by_day < by_month, False, "order")
        if self.indonesian > self.english:
            return DateOrder(True, True, "locale")
        if self.us_clock > self.other_clock:
            return DateOrder(False, True, "clock")
        return DateOrder(prefer_day_first, True, "default")


def is_us_clock(meridiem: str | None, date_separator: str) -> bool:
    return date_separator == "/" and meridiem is not None and meridiem.strip() in ("AM", "PM")
