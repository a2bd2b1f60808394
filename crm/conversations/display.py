"""How an import's findings read on the paste preview and the Import page: the date order it used and why,
and the messages it could not save as they were."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, gettext, ngettext
from flask_babel import lazy_gettext as _l

DATE_ORDER_BASIS = {
    "values": _l("a date in the file fits only this order"),
    "order": _l("only this order keeps the messages in time order"),
    "clock": _l("the phone's clock style (like 9:05 PM) goes with this order"),
    "locale": _l("the phone's language goes with this order"),
    "default": _l("no date in the file tells the day from the month, so the shop's usual order was used"),
    "forced": _l("as chosen"),
}


def _day(value: str | None) -> date | None:
    return datetime.fromisoformat(value).date() if value else None


def _swapped(day: date | None) -> date | None:
    if day is None:
        return None
    try:
        return date(day.year, day.day, day.month)
    except ValueError:
        return None


def _span(first: date | None, last: date | None) -> str:
    if first is None:
        return ""
    if last is None or last == first:
        return format_date(first, "long")
    return f"{format_date(first, 'long')} – {format_date(last, 'long')}"


def date_order(order: dict) -> dict:
    """{"used": "day first" or "month first", "span": the chat's dates as read, "other": the same dates read the
    other way (only where the file allows both), "why": how it was decided, "ambiguous"}."""
    first, last = _day(order.get("first")), _day(order.get("last"))
    other_first, other_last = _swapped(first), _swapped(last)
    return {
        "day_first": order["day_first"],
        "used": str(_l("day first (31/12)") if order["day_first"] else _l("month first (12/31)")),
        "span": _span(first, last),
        "other": (_span(other_first, other_last) if order.get("ambiguous") and other_first
                  and (last is None or other_last) else ""),
        "why": str(DATE_ORDER_BASIS.get(order.get("basis") or "default", "")),
        "ambiguous": order.get("ambiguous", False),
        "file": order.get("file", ""),
    }


def note_text(note: dict, max_chars: int) -> str:
    count = note["count"]
    kind = note["kind"]
    if kind == "future":
        return ngettext("%(num)d message is dated in the future: check the day and the month, and the phone’s "
                        "clock.", "%(num)d messages are dated in the future: check the day and the month, and "
                        "the phone’s clock.", count)
    if kind == "undated":
        return ngettext("%(num)d message had no readable time: it is saved at the time of the message before it.",
                        "%(num)d messages had no readable time: each is saved at the time of the message before it.",
                        count)
    if kind == "untimed":
        return ngettext("This chat has no times: its %(num)d message is saved at the time of the import.",
                        "This chat has no times: its %(num)d messages are saved at the time of the import.", count)
    if kind == "cut":
        return ngettext("%(num)d message was longer than %(limit)d characters: it was cut, with a note at the end.",
                        "%(num)d messages were longer than %(limit)d characters: they were cut, with a note at the "
                        "end.", count, limit=max_chars)
    return f"{kind}: {count}"


def job_headline(job, summary) -> str:
    """What an import did (or is doing), in a few words: never "Imported" when nothing was."""
    status = job.status
    if status == "queued":
        return gettext("Waiting for the import before it to finish") if job.started_at is None and _another_running(
            job) else gettext("Starting")
    if status == "running":
        return gettext("Checking the file") if job.dry_run else gettext("Importing")
    if status == "confirm":
        return gettext("Check the dates before saving")
    if status == "failed":
        return gettext("The import failed: nothing was saved")
    if status == "interrupted":
        return gettext("The import was interrupted (the server stopped): nothing was saved")
    if status == "discarded":
        return gettext("Discarded: nothing was saved")
    imported = summary.messages_imported if summary else 0
    if job.dry_run:
        return gettext("Checked, nothing saved")
    if imported:
        return ngettext("Imported %(num)d message", "Imported %(num)d messages", imported)
    if summary and summary.duplicates_skipped and not summary.errors:
        return gettext("Nothing new: every message was imported before")
    return gettext("Nothing imported")


def job_outcome(job) -> str:
    """One line for the list of recent imports."""
    from .importing import ImportSummary

    summary = ImportSummary.from_dict(job.summary) if job.summary else None
    if job.status == "running":
        return ngettext("Importing: %(num)d message saved so far", "Importing: %(num)d messages saved so far",
                        job.messages_saved)
    if job.status == "done" and job.dry_run and summary:
        return ngettext("Checked: %(num)d message to import", "Checked: %(num)d messages to import",
                        summary.messages_imported)
    return job_headline(job, summary)


def _another_running(job) -> bool:
    from ..extensions import db
    from ..models import ImportJob

    return db.session.execute(db.select(ImportJob.id).where(
        ImportJob.status == "running", ImportJob.id != job.id).limit(1)).first() is not None
