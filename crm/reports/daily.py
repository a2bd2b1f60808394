"""The report's daily figures, kept in step with the conversations they come from (crm.kept calls `refresh`).

The report (crm.reports.figures) adds up days instead of walking messages: per shop day, channel and staff
member in `daily_figures`, per day and tag in `daily_tag_figures`: conversations started, customer messages,
first responses answered and unanswered, the sum of the waits, and how many waits fell in each step of
WAIT_STEPS (for the median).

Each live conversation of a live customer has one `conversation_figures` row per day it adds to, holding what
it added and under which channel, staff member and tags. When it changes (a message logged, deleted or
restored, a tag added or removed, the conversation or its customer trashed, restored or merged), `refresh`
takes its old rows back out of the daily sums and puts the new ones in: the daily rows always equal the sums
of the rows behind them (tests/test_kept.py rebuilds them from scratch and compares).

Days are the shop's (SHOP_TIMEZONE); after changing the time zone run `flask --app app rebuild-kept`.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import bindparam, tuple_

from ..extensions import db
from ..formatting import shop_zone
from ..models import (
    WAIT_COLUMNS,
    WAIT_STEPS,
    ConversationFigures,
    ConversationTag,
    DailyFigures,
    DailyTagFigures,
)
from .figures import first_responses

MEASURES = ("conversations", "customer_messages", "answered", "unanswered", "wait_seconds", *WAIT_COLUMNS)
_INDEX = {name: index for index, name in enumerate(MEASURES)}


def wait_step(seconds: int) -> int:
    """The index in WAIT_COLUMNS of a wait: the first step it does not exceed."""
    minutes = seconds / 60
    for index, step in enumerate(WAIT_STEPS):
        if minutes <= step:
            return index
    return len(WAIT_STEPS)


def conversation_rows(conversation_id: int, channel: str, staff_id: int, tag_ids: Iterable[int],
                      messages: list[tuple[datetime, str]], zone) -> list[dict]:
    """The conversation_figures rows of one counted conversation, from its live messages (sent_at, side) in
    the order sent. Pure."""
    tags = " ".join(str(tag_id) for tag_id in sorted(set(tag_ids)))
    days: dict[date, dict] = {}

    def on(moment: datetime) -> dict:
        day = moment.astimezone(zone).date()
        if day not in days:
            days[day] = {"conversation_id": conversation_id, "day": day, "channel": channel, "staff_id": staff_id,
                         "tag_ids": tags, "started": 0, "customer_messages": 0, "unanswered": 0, "waits": []}
        return days[day]

    if messages:
        on(messages[0][0])["started"] = 1
    for sent_at, side in messages:
        if side == "customer":
            on(sent_at)["customer_messages"] += 1
    for response in first_responses(messages):
        row = on(response.asked_at)
        if response.waited is None:
            row["unanswered"] += 1
        else:
            row["waits"].append(max(0, round(response.waited.total_seconds())))
    for row in days.values():
        row["waits"] = " ".join(str(wait) for wait in row["waits"])
    return [days[day] for day in sorted(days)]


def _measures(row) -> list[int]:
    """What a conversation_figures row adds to its daily rows, in MEASURES order."""
    waits = [int(wait) for wait in (row["waits"] or "").split()]
    values = [0] * len(MEASURES)
    values[0], values[1] = row["started"], row["customer_messages"]
    values[2], values[3], values[4] = len(waits), row["unanswered"], sum(waits)
    for wait in waits:
        values[5 + wait_step(wait)] += 1
    return values


def new_sums() -> tuple[dict, dict]:
    """Deltas to the daily rows, by (day, channel, staff) and by (day, tag): `refresh` adds to them."""
    return defaultdict(lambda: [0] * len(MEASURES)), defaultdict(lambda: [0] * len(MEASURES))


def refresh(counted: dict[int, tuple[str, int, list[int]]], messages: dict[int, list[tuple[datetime, str]]],
            conversation_ids: Iterable[int], sums: tuple[dict, dict] | None = None) -> None:
    """Replace the figures of these conversations. `counted` holds the ones that count (live, of a live
    customer) with their channel, staff member and live tag ids; `messages` their live messages in order.
    Conversations not in `counted` add nothing any more. With `sums` (from `new_sums`), the daily rows are
    not written but the deltas added there, for `write_sums` to write once (a rebuild)."""
    ids = list(conversation_ids)
    if not ids:
        return
    zone = shop_zone()
    table = ConversationFigures.__table__
    old = [dict(row._mapping) for row in db.session.execute(
        db.select(table).where(table.c.conversation_id.in_(ids)))]
    new = [row for conversation_id, (channel, staff_id, tag_ids) in counted.items()
           for row in conversation_rows(conversation_id, channel, staff_id, tag_ids,
                                        messages.get(conversation_id, []), zone)]
    by_key, by_tag = sums or new_sums()
    for rows, sign in ((old, -1), (new, 1)):
        for row in rows:
            values = _measures(row)
            for key_values in (by_key[(row["day"], row["channel"], row["staff_id"])],
                               *(by_tag[(row["day"], int(tag))] for tag in row["tag_ids"].split())):
                for index, value in enumerate(values):
                    key_values[index] += sign * value
    if old:
        db.session.execute(db.delete(table).where(table.c.conversation_id.in_(ids)))
    if new:
        db.session.execute(db.insert(table), new)
    if sums is None:
        write_sums((by_key, by_tag))


def write_sums(sums: tuple[dict, dict]) -> None:
    by_key, by_tag = sums
    _add(DailyFigures.__table__, ("day", "channel", "staff_id"), by_key)
    _add(DailyTagFigures.__table__, ("day", "tag_id"), by_tag)


def _add(table, keys: tuple[str, ...], deltas: dict[tuple, list[int]]) -> None:
    """Add the deltas to the daily rows, making the rows that are missing, as one statement that adds (so two
    writers never lose each other's figures): INSERT ... ON CONFLICT DO UPDATE on SQLite and PostgreSQL, an
    UPDATE that adds and then an INSERT of the missing keys elsewhere."""
    rows = [dict(zip(keys, key, strict=True)) | dict(zip(MEASURES, values, strict=True))
            for key, values in deltas.items() if any(values)]
    if not rows:
        return
    dialect = db.engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        statement = insert(table)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in keys],
            set_={name: table.c[name] + statement.excluded[name] for name in MEASURES},
        ), rows)
        return
    key_columns = [table.c[name] for name in keys]
    existing = {tuple(row) for row in db.session.execute(
        db.select(*key_columns).where(tuple_(*key_columns).in_([tuple(row[k] for k in keys) for row in rows])))}
    updates = [{"k_" + name: row[name] for name in keys} | {"d_" + name: row[name] for name in MEASURES}
               for row in rows if tuple(row[k] for k in keys) in existing]
    if updates:
        db.session.execute(
            db.update(table).where(*(table.c[name] == bindparam("k_" + name) for name in keys))
            .values({name: table.c[name] + bindparam("d_" + name) for name in MEASURES}),
            updates, execution_options={"synchronize_session": False},
        )
    inserts = [row for row in rows if tuple(row[k] for k in keys) not in existing]
    if inserts:
        db.session.execute(db.insert(table), inserts)


def live_need_tags(conversation_ids: list[int]) -> dict[int, list[int]]:
    """Every live tag of these conversations (the report keeps need tags when it reads them, so a tag that
    changes kind needs no refresh)."""
    found: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(conversation_ids), 500):
        for conversation_id, tag_id in db.session.execute(
            db.select(ConversationTag.conversation_id, ConversationTag.tag_id)
            .where(ConversationTag.conversation_id.in_(conversation_ids[start : start + 500]),
                   ConversationTag.removed_at.is_(None))
        ):
            found[conversation_id].append(tag_id)
    return found
