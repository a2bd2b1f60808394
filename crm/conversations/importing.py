"""Saving parsed chats: which conversation, each message once, and what was left out and why.

Parsers (crm.importers) are pure; who is who is decided in chat_plans.py; this module is the one place that turns
their output into rows. An ImportRun says where the rows go:
- a paste (`ImportRun(read_first=True)`): into the session, committed once by the view;
- a dry run (`ImportRun(dry_run=True)`): nowhere; only reads, so it takes no write lock, and counts what an
  import would do;
- an import job (`ImportRun(job=...)`, crm.conversations.import_jobs): in batches of BATCH messages, each its
  own short transaction, so staff keep logging chats while 100,000 lines go in. Until the job publishes,
  what it writes is hidden: its new customers and conversations carry import_job_id and deleted_at (every page
  already leaves out what is in the trash), and messages for a conversation that already exists wait in a
  hidden conversation of their own, moved over when the job publishes.
Messages stream from the parser, so a 100,000-line export never sits in memory as objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from flask import current_app
from sqlalchemy import bindparam, insert

from ..customers.services import IdentityInput, create_customer, find_identity
from ..extensions import db
from ..formatting import shop_zone
from ..identities import InvalidHandle, normalise_handle
from ..importers import ParsedChat, ParseError, ParseOptions, parse_file, parse_path
from ..importers._common import MAX_WARNINGS
from ..models import Conversation, ConversationTag, Customer, Message
from ..needs.tagging import current_matcher, tag_conversations
from ..orders.reading import asks_for_review
from ..search.index import index_job_messages, job_message_chunks
from .chat_plans import (
    ChatPlan,
    ChooseTheShop,
    GroupChat,
    ImportProblem,
    match_customer,
    name_key,
    plan_chat,
    reading_options,
    remember_customer_names,
    remember_our_names,
)
from .services import UNTIMED, _existing, conversation_near, fingerprint, in_the_future, print_text

BATCH = 500  # messages per transaction of a job: each holds SQLite's write lock while it writes
# Messages of a conversation this import creates are held until it ends, so its need tags go in first (see
# _save_new_conversation); past either bound they are written as they come and tagged afterwards.
MAX_HELD = 20_000
MAX_HELD_CHARS = 8_000_000
LINES_NOTED = 20          # line numbers kept per kind of note, per file
WARNINGS_KEPT = 200       # unreadable lines listed per import (the count is always whole)


def preview_notes(plan: ChatPlan) -> ImportSummary:
    """What the paste preview tells besides the messages: lines it could not read, the date order it used,
    messages dated in the future or without a time."""
    run = ImportRun(dry_run=True)
    record_reading(run.summary, plan.chat)
    for _row in _rows(plan, run):
        pass
    return run.summary


# --- what an import found ----------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    files: int = 0
    conversations: int = 0
    messages_imported: int = 0
    duplicates_skipped: int = 0
    customers_created: int = 0
    customers_matched: int = 0
    system_lines_skipped: int = 0
    group_chats_skipped: int = 0
    future_dated: int = 0  # messages dated more than a few minutes after now: often a misread date format
    errors: list[dict] = field(default_factory=list)
    # Lines the parser could not read: {"file", "line", "message"} (the first WARNINGS_KEPT; the count is whole).
    warnings: list[dict] = field(default_factory=list)
    unreadable_lines: int = 0
    unreadable_more: bool = False  # a parser lists the first MAX_WARNINGS of a file's unreadable lines
    # Messages to look at: {"file", "kind", "count", "lines"}; kinds: "future" (saved as dated), "undated"
    # (saved at the time of the message before), "untimed" (no times at all: saved at the time of the import),
    # "cut" (longer than the limit).
    notes: list[dict] = field(default_factory=list)
    # How each file's dates were read: {"file", "day_first", "ambiguous", "basis", "first", "last"}.
    date_orders: list[dict] = field(default_factory=list)
    # Chats where nobody is known to be the shop: {"file", "authors"}; the Import page asks.
    undecided: list[dict] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)
    last_conversation_id: int | None = None  # where the last message of the last chat is, new or not

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items()
                if key not in ("conversation_ids", "last_conversation_id")}

    @classmethod
    def from_dict(cls, data: dict | None) -> ImportSummary:
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in (data or {}).items() if key in known})

    def note(self, source: str, kind: str) -> dict:
        for note in self.notes:
            if note["file"] == source and note["kind"] == kind:
                return note
        note = {"file": source, "kind": kind, "count": 0, "lines": []}
        self.notes.append(note)
        return note

    def add_note(self, source: str, kind: str, line: int | None) -> None:
        note = self.note(source, kind)
        note["count"] += 1
        if line is not None and len(note["lines"]) < LINES_NOTED:
            note["lines"].append(line)

    def noted(self, kind: str) -> int:
        return sum(note["count"] for note in self.notes if note["kind"] == kind)

    @property
    def ambiguous_date_orders(self) -> list[dict]:
        return [order for order in self.date_orders if order["ambiguous"]]


def record_reading(summary: ImportSummary, chat: ParsedChat) -> None:
    """What the parser read around: unreadable lines and the date order used."""
    summary.unreadable_lines += len(chat.warnings)
    summary.unreadable_more = summary.unreadable_more or len(chat.warnings) >= MAX_WARNINGS
    for warning in chat.warnings:
        if len(summary.warnings) >= WARNINGS_KEPT:
            break
        summary.warnings.append({"file": chat.source, "line": warning.line, "message": warning.message})
    if chat.day_first is not None and not any(o["file"] == chat.source for o in summary.date_orders):
        summary.date_orders.append({
            "file": chat.source, "day_first": chat.day_first, "ambiguous": chat.date_order_ambiguous,
            "basis": chat.date_order_basis,
            "first": chat.first.isoformat() if chat.first else None,
            "last": chat.last.isoformat() if chat.last else None,
        })


# --- where rows go ----------------------------------------------------------------------------------------


@dataclass
class _Conv:
    """A conversation an import writes to. `write_id` is where its new messages go: the conversation itself, or
    (for one that already exists, in a job) the hidden conversation holding them until the job publishes."""

    id: int
    customer_id: int
    channel: str
    new: bool
    first: datetime | None
    last: datetime | None
    last_side: str | None
    write_id: int | None = None


class ImportRun:
    """One import's writes (see the module's docstring) and what it has made so far."""

    def __init__(self, *, dry_run: bool = False, job=None, logged_by_id: int | None = None,
                 on_progress: Callable[[ImportRun], None] | None = None, read_first: bool = False):
        self.dry = dry_run
        # A paste is read whole before its one transaction begins, so the write lock is held for the inserts only.
        self.read_first = read_first and not dry_run and job is None
        self.job_id = job.id if job is not None and not dry_run else None
        self.staged = self.job_id is not None
        self.logged_by_id = logged_by_id
        self.on_progress = on_progress
        self.summary = ImportSummary()
        self.lines_read = 0
        self.messages_total = 0
        self.messages_done = 0
        self._fake_id = 0
        self._new_customers: dict[tuple, int] = {}     # ("name", key) / ("handle", channel, handle) -> id
        self.new_customer_ids: list[int] = []
        self._conversations: dict[int, _Conv] = {}
        self._new_by_customer: dict[tuple[int, str], list[_Conv]] = {}
        self.shadows: dict[int, int] = {}               # hidden conversation id -> the existing one it is for
        self.touched_existing: set[int] = set()
        self.our_names: dict[str, set[str]] = {}
        self.customer_names: set[tuple[int, str, str]] = set()
        self._dry_prints: set[str] = set()

    def _next_fake_id(self) -> int:
        self._fake_id -= 1
        return self._fake_id

    # -- batches ----------------------------------------------------------------------------------------------

    def begin_batch(self) -> None:
        """A job takes SQLite's write lock first, so what it checks (which messages exist) still holds when it
        writes; on PostgreSQL this is an ordinary row update."""
        if self.staged:
            from ..models import ImportJob

            db.session.execute(db.update(ImportJob).where(ImportJob.id == self.job_id)
                               .values(heartbeat_at=datetime.now(timezone.utc)))

    def end_batch(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self)
        if self.staged:
            db.session.commit()

    def index_written(self) -> None:
        """Put what a job wrote in the search index, a chunk at a time between other writers' turns (the insert
        trigger leaves a job's messages out: see crm.search.index)."""
        if not self.staged:
            return
        for first_id, last_id in job_message_chunks(self.job_id):
            self.begin_batch()
            index_job_messages(self.job_id, first_id, last_id)
            self.end_batch()

    # -- customers --------------------------------------------------------------------------------------------

    def find_customer(self, name: str, channel: str, handle: str | None):
        """(customer or an id this run made, how it was found)."""
        if handle:
            try:
                made = self._new_customers.get(("handle", channel, normalise_handle(channel, handle)))
            except InvalidHandle:
                made = None
            if made is not None:
                return made, "handle"
        found, matched_by = match_customer(name, channel, handle)
        if found is not None:
            return found, matched_by
        made = self._new_customers.get(("name", name_key(name)))
        return (made, "name") if made is not None else (None, None)

    def customer_id_for(self, plan: ChatPlan) -> int:
        if plan.customer is not None:
            self.summary.customers_matched += 1
            return plan.customer.id
        made, _ = self.find_customer(plan.customer_name, plan.channel, plan.handle)
        if made is not None:
            self.summary.customers_matched += 1
            return made.id if isinstance(made, Customer) else made
        self.summary.customers_created += 1
        handle = None
        if plan.handle:
            try:
                handle = normalise_handle(plan.channel, plan.handle)
            except InvalidHandle:
                pass
        if self.dry:
            customer_id = self._next_fake_id()
        else:
            identities = []
            # A number that belongs to a customer in the trash stays theirs, so a restore finds it again.
            if handle and find_identity(plan.channel, plan.handle) is None:
                identities = [IdentityInput(plan.channel, plan.handle)]
            customer = create_customer(plan.customer_name, identities=identities, audited=not self.staged)
            if self.staged:
                customer.import_job_id, customer.deleted_at = self.job_id, datetime.now(timezone.utc)
                db.session.flush()
            customer_id = customer.id
            self.new_customer_ids.append(customer_id)
        self._new_customers[("name", name_key(plan.customer_name))] = customer_id
        if handle:
            self._new_customers[("handle", plan.channel, handle)] = customer_id
        return customer_id

    # -- conversations ----------------------------------------------------------------------------------------

    def conversation(self, conversation_id: int) -> _Conv | None:
        """The conversation a message already logged is in, as this import sees it; None if it is in the trash."""
        if conversation_id in self.shadows:
            conversation_id = self.shadows[conversation_id]
        known = self._conversations.get(conversation_id)
        if known is not None:
            return known
        row = db.session.get(Conversation, conversation_id)
        if row is None or row.deleted_at is not None:
            return None
        return self._existing_conv(row)

    def _existing_conv(self, row: Conversation) -> _Conv:
        found = self._conversations.get(row.id)
        if found is None:
            found = _Conv(row.id, row.customer_id, row.channel, False, row.first_message_at, row.last_message_at,
                          row.last_side, None if self.staged else row.id)
            self._conversations[row.id] = found
        return found

    def conversation_near(self, customer_id: int, channel: str, when: datetime) -> _Conv | None:
        """A live conversation within the gap of `when`, or one this import made (the latest of them)."""
        gap = timedelta(hours=current_app.config["CONVERSATION_GAP_HOURS"])
        candidates = [c for c in self._new_by_customer.get((customer_id, channel), ())
                      if c.last is not None and c.last >= when - gap and c.first <= when + gap]
        if customer_id > 0:
            row = conversation_near(customer_id, channel, when)
            if row is not None:
                candidates.append(self._existing_conv(row))
        return max(candidates, key=lambda c: c.last) if candidates else None

    def new_conversation(self, customer_id: int, channel: str) -> _Conv:
        if self.dry:
            conversation_id = self._next_fake_id()
        else:
            conversation_id = self._insert_conversation(customer_id, channel)
        made = _Conv(conversation_id, customer_id, channel, True, None, None, None, conversation_id)
        self._conversations[conversation_id] = made
        self._new_by_customer.setdefault((customer_id, channel), []).append(made)
        return made

    def _insert_conversation(self, customer_id: int, channel: str) -> int:
        # Core, not the ORM: its times are set by one UPDATE at the end, which a cached object would not see.
        values = {"customer_id": customer_id, "channel": channel, "logged_by_id": self.logged_by_id}
        if self.staged:
            values.update(import_job_id=self.job_id, deleted_at=datetime.now(timezone.utc))
        table = Conversation.__table__
        return db.session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()

    def write_id(self, conversation: _Conv) -> int:
        if conversation.write_id is None:  # an existing conversation, in a job: its messages wait hidden
            conversation.write_id = self._insert_conversation(conversation.customer_id, conversation.channel)
            self.shadows[conversation.write_id] = conversation.id
        if not conversation.new:
            self.touched_existing.add(conversation.id)
        return conversation.write_id

    # -- messages ---------------------------------------------------------------------------------------------

    def existing(self, prints: list[str], customer_id: int) -> dict[str, int]:
        if self.dry:
            return {}
        return _existing(prints)

    def seen_in_dry_run(self, print_: str) -> bool:
        """Dry runs write nothing, so repeats within the upload are remembered here (64 bits of each)."""
        key = print_[:16]
        if key in self._dry_prints:
            return True
        self._dry_prints.add(key)
        return False

    def insert(self, rows: list[dict]) -> None:
        if not self.dry and rows:
            self._logged_meanwhile(len(rows) - _insert_messages(rows, shown=not self.staged))

    def save_new_conversation(self, conversation_id: int, rows: list[dict], matcher) -> None:
        if not self.dry:
            self._logged_meanwhile(len(rows) - _save_new_conversation(conversation_id, rows, matcher,
                                                                      shown=not self.staged))

    def _logged_meanwhile(self, count: int) -> None:
        # Someone logged the same message while this import ran (checked, but not under a lock on PostgreSQL).
        self.summary.messages_imported -= count
        self.summary.duplicates_skipped += count

    # -- the end of a chat, the end of the run ------------------------------------------------------------

    def chat_saved(self, plan: ChatPlan, customer_id: int, touched: list[_Conv]) -> None:
        new = [c for c in touched if c.new]
        if not self.dry and new:
            db.session.execute(
                db.update(Conversation.__table__).where(Conversation.__table__.c.id == bindparam("cid")).values(
                    first_message_at=bindparam("first"), last_message_at=bindparam("last"),
                    last_side=bindparam("side")),
                [{"cid": c.id, "first": c.first, "last": c.last, "side": c.last_side} for c in new],
            )
        staff = {author for author, side in plan.sides.items() if side == "staff"}
        self.our_names.setdefault(plan.channel, set()).update(staff)
        if plan.author and customer_id > 0:
            self.customer_names.add((customer_id, plan.channel, plan.author))
        if not self.staged and not self.dry:
            self.finish()

    def finish(self) -> None:
        """What a paste or a published job does last: the times and tags of existing conversations that got
        messages, and the names to remember."""
        from .services import refresh_conversation_times

        for conversation_id in sorted(self.touched_existing):
            row = db.session.get(Conversation, conversation_id)
            if row is not None:
                refresh_conversation_times(row)
        tag_conversations(sorted(self.touched_existing))
        for channel, names in self.our_names.items():
            remember_our_names(channel, names)
        remember_customer_names(self.customer_names)
        self.touched_existing.clear()
        self.our_names.clear()
        self.customer_names.clear()


# --- saving a chat -----------------------------------------------------------------------------------------


def _local_to_utc(sent_at: datetime | None, zone) -> datetime | None:
    if sent_at is None:
        return None
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=zone)
    return sent_at.astimezone(timezone.utc)


@dataclass
class _Row:
    sent_at: datetime
    side: str
    author: str
    body: str
    attachments: str
    # The fingerprint's parts apart from the customer (known only once the rows are read, for a paste).
    print_time: datetime
    print_text: str
    occurrence: int


def _rows(plan: ChatPlan, run: ImportRun) -> Iterator[_Row]:
    """Messages as rows. Occurrence numbers count repeats within the same minute. A message dated in the future
    is saved as dated and counted; one without a readable time in a chat that has times takes the time of the
    one before it; a chat with no times at all (a plain paste) is saved at the time of the import."""
    zone = shop_zone()
    now = datetime.now(timezone.utc)
    summary, source, lines_before = run.summary, plan.chat.source, run.lines_read
    minute, seen, previous_text, previous_time = None, {}, "", None
    no_times = plan.chat.message_count > 0 and plan.chat.untimed_messages >= plan.chat.message_count
    first_time = _local_to_utc(plan.chat.first, zone)
    for message in plan.chat.messages():
        run.lines_read = lines_before + message.line
        body = message.body.strip() or ("\n".join(message.attachments))
        if not body:
            continue
        side = plan.sides.get(message.author, "customer")
        same_text = print_text(body, message.attachments)
        sent_at = _local_to_utc(message.sent_at, zone)
        if message.truncated:
            summary.add_note(source, "cut", message.line)
        if no_times:
            # No times (a plain paste): the message before it makes the fingerprint stable when pasted again.
            row = _Row(now, side, message.author.strip()[:200], body, "\n".join(message.attachments),
                       UNTIMED, previous_text + "\x1e" + same_text, 1)
            previous_text = same_text
            yield row
            continue
        if sent_at is None:
            sent_at = previous_time or first_time or now
            summary.add_note(source, "undated", message.line)
        if in_the_future(sent_at):  # saved as dated, and said: often a date read the wrong way round
            summary.add_note(source, "future", message.line)
            summary.future_dated += 1
        previous_time = sent_at
        this_minute = sent_at.replace(second=0, microsecond=0)
        if this_minute != minute:
            minute, seen = this_minute, {}
        key = (side, " ".join(same_text.split()))
        seen[key] = seen.get(key, 0) + 1
        previous_text = same_text
        yield _Row(sent_at, side, message.author.strip()[:200], body, "\n".join(message.attachments),
                   sent_at, same_text, seen[key])
    if no_times:
        summary.add_note(source, "untimed", None)
        summary.note(source, "untimed")["count"] = plan.chat.message_count


def _batches(rows: Iterable[_Row], size: int) -> Iterator[list[_Row]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def save_chat(plan: ChatPlan, run: ImportRun) -> None:
    """Add the chat's new messages; a gap longer than CONVERSATION_GAP_HOURS starts another conversation.
    Each batch is read from the parser before its transaction begins, so a job holds the write lock only
    while it writes."""
    rows: Iterable[_Row] = _rows(plan, run)
    if run.read_first:
        rows = list(rows)
    run.begin_batch()
    writer = _ChatWriter(plan, run, run.customer_id_for(plan))
    run.end_batch()
    for batch in _batches(rows, BATCH):
        prints = writer.fingerprints(batch)  # hashing is pure work: done before the write lock is taken
        run.begin_batch()
        writer.add(batch, prints)
        run.end_batch()
    run.begin_batch()
    writer.finish()
    run.end_batch()


class _ChatWriter:
    """Places one chat's rows in conversations, batch by batch."""

    def __init__(self, plan: ChatPlan, run: ImportRun, customer_id: int):
        self.plan, self.run, self.customer_id = plan, run, customer_id
        self.gap = timedelta(hours=current_app.config["CONVERSATION_GAP_HOURS"])
        self.matcher = current_matcher()
        self.touched: dict[int, _Conv] = {}
        self.held: dict[int, list[dict]] = {}
        self.held_chars = 0
        self.held_prints: set[str] = set()
        self.released: set[int] = set()   # new conversations whose held messages went in with their tags
        self.to_tag: set[int] = set()     # new conversations that got messages after that: tagged at the end
        self.current: _Conv | None = None
        self.last_time: datetime | None = None

    def fingerprints(self, batch: list[_Row]) -> list[str]:
        channel, customer_id = self.plan.channel, self.customer_id
        return [fingerprint(channel, customer_id, row.print_time, row.side, row.print_text, row.occurrence)
                for row in batch]

    def add(self, batch: list[_Row], prints: list[str]) -> None:
        run, summary = self.run, self.run.summary
        channel, customer_id = self.plan.channel, self.customer_id
        existing = run.existing(prints, customer_id)
        ready, held_prints, dry = [], self.held_prints, run.dry
        created_at = datetime.now(timezone.utc)
        # Per message only what changes per message: this loop runs 100,000 times for a big export.
        current, write_to, holding = self.current, None, False
        last_time, gap = self.last_time, self.gap
        for row, print_ in zip(batch, prints, strict=True):
            starts_session = last_time is None or row.sent_at - last_time > gap
            last_time = row.sent_at
            if print_ in held_prints or (dry and run.seen_in_dry_run(print_)):
                summary.duplicates_skipped += 1
                continue
            if print_ in existing:
                summary.duplicates_skipped += 1
                if starts_session or current is None:
                    # Logged before, maybe then put in the trash: then new messages go elsewhere.
                    current, write_to = run.conversation(existing[print_]), None
                continue
            if starts_session or current is None:
                self._release_held()
                current = (run.conversation_near(customer_id, channel, row.sent_at)
                           or run.new_conversation(customer_id, channel))
                write_to = None
            if write_to is None:
                self.touched.setdefault(current.id, current)
                write_to = current.id if dry else run.write_id(current)
                holding = current.new and current.id not in self.released
            if current.first is None or row.sent_at < current.first:
                current.first = row.sent_at
            if current.last is None or row.sent_at >= current.last:
                current.last, current.last_side = row.sent_at, row.side
            message = {
                "conversation_id": write_to, "sent_at": row.sent_at, "side": row.side, "author_name": row.author,
                "body": row.body, "attachments": row.attachments, "fingerprint": print_, "created_at": created_at,
                # Given, not left to the column's default: the default costs SQLAlchemy 7 us a row in a bulk insert.
                "asks_for_review": asks_for_review(row.side, row.body),
            }
            if holding:
                self.held.setdefault(current.id, []).append(message)
                self.held_chars += len(row.body)
                held_prints.add(print_)
            else:
                ready.append(message)
                if current.new:
                    self.to_tag.add(current.id)
            existing[print_] = current.id  # a repeat later in the same batch is a duplicate too
            summary.messages_imported += 1
        self.current, self.last_time = current, last_time
        run.messages_done += len(batch)
        run.insert(ready)
        if self.held_chars > MAX_HELD_CHARS or sum(map(len, self.held.values())) > MAX_HELD:
            self._release_held()  # a huge conversation: its tags come from what is held, and again at the end

    def _release_held(self) -> None:
        for conversation_id, rows in self.held.items():
            self.run.save_new_conversation(conversation_id, rows, self.matcher)
            self.released.add(conversation_id)
        self.held.clear()
        self.held_prints.clear()
        self.held_chars = 0

    def finish(self) -> None:
        self._release_held()
        run, summary = self.run, self.run.summary
        if not run.dry and self.to_tag:
            tag_conversations(sorted(self.to_tag))
        run.chat_saved(self.plan, self.customer_id, list(self.touched.values()))
        summary.system_lines_skipped += self.plan.chat.system_lines_skipped
        summary.conversations += len(self.touched)
        summary.conversation_ids.extend(self.touched)
        if self.current is not None:
            summary.last_conversation_id = self.current.id


def _save_new_conversation(conversation_id: int, rows: list[dict], matcher, *, shown: bool) -> int:
    """Tags first (their reasons pointing at messages once those exist), then the messages, indexed once.
    Returns how many messages went in."""
    customer_rows = [row for row in rows if row["side"] == "customer"]
    matches = matcher.first_matches([row["body"] for row in customer_rows])
    now = datetime.now(timezone.utc)
    tags = ConversationTag.__table__
    if matches:
        db.session.execute(insert(tags), [
            {"conversation_id": conversation_id, "tag_id": int(key), "source": "auto", "reason_word": match.word,
             "reason_keyword": match.keyword, "created_at": now}
            for key, match in matches.items()
        ])
    inserted = _insert_messages(rows, shown=shown)
    if not matches:
        return inserted
    prints = [customer_rows[match.message_index]["fingerprint"] for match in matches.values()]
    id_of = dict(db.session.execute(
        db.select(Message.fingerprint, Message.id).where(Message.fingerprint.in_(prints))).all())
    reasons = [{"tag": int(key), "reason": id_of.get(customer_rows[match.message_index]["fingerprint"])}
               for key, match in matches.items()]
    db.session.execute(
        db.update(tags).where(tags.c.conversation_id == conversation_id, tags.c.tag_id == bindparam("tag"))
        .values(reason_message_id=bindparam("reason")), reasons)
    return inserted


def _insert_messages(rows: list[dict], *, shown: bool) -> int:
    """One multi-row INSERT per 1,000 messages rather than one statement per message: on SQLite each statement
    that fires the search index trigger gets a savepoint, and FTS5 writes its pending index out at every
    savepoint, which made row-by-row inserts nearly 3 times slower. Asking for RETURNING is what makes SQLAlchemy
    send them as "insertmanyvalues" pages (SQLite 3.35+; older ones get the plain executemany).
    A Core insert on the table, because the ORM's bulk insert costs as much again in Python per row.
    A message logged by someone else meanwhile (same fingerprint) is left alone; returns how many went in.
    Messages `shown` at once are past the ORM, so crm.kept is told; a job's hidden ones are kept from when the job
    publishes (recomputing them at every batch's commit was a third of an import's time)."""
    if not rows:
        return 0
    if shown:
        from ..kept import mark_conversations

        mark_conversations({row["conversation_id"] for row in rows})
    table = Message.__table__
    statement = _insert_skipping_fingerprints_taken(table)
    if db.engine.dialect.insert_executemany_returning:
        return len(db.session.execute(statement.returning(table.c.id), rows).all())
    return db.session.execute(statement, rows).rowcount


def _insert_skipping_fingerprints_taken(table):
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        return insert(table)
    return dialect_insert(table).on_conflict_do_nothing(index_elements=["fingerprint"])


# --- a file, a zip or a folder -----------------------------------------------------------------------------


def import_path(
    path,
    *,
    format: str = "auto",
    channel: str | None = None,
    me: Iterable[str] = (),
    customer_name: str | None = None,
    day_first: bool | None = None,
    run: ImportRun | None = None,
    logged_by_id: int | None = None,
    on_file=None,
) -> ImportSummary:
    """Import every chat under a file, zip or folder into `run` (by default: into the session, for the caller to
    commit). A chat that cannot be read or placed is reported with its file and line and the others go on;
    a database error propagates, so the caller's rollback leaves the database as it was (a job's batches are
    hidden until it publishes)."""
    run = run or ImportRun(logged_by_id=logged_by_id)
    summary = run.summary
    sources = set()
    options = reading_options(channel, me, day_first=day_first)
    for chat in _chats_under(path, format, options):
        if on_file:
            on_file()
        if isinstance(chat, ParseError):
            sources.add(chat.source)
            summary.errors.append({"file": chat.source, "line": chat.line, "message": chat.message})
            continue
        sources.add(chat.source)
        summary.group_chats_skipped = max(summary.group_chats_skipped, chat.account_groups_skipped)
        record_reading(summary, chat)
        run.messages_total += chat.message_count
        try:
            plan = plan_chat(chat, channel=channel, me=me, customer_name=customer_name, find=run.find_customer)
        except GroupChat as problem:
            summary.group_chats_skipped += 1
            summary.errors.append({"file": chat.source, "line": None, "message": str(problem)})
            run.messages_done += chat.message_count
            continue
        except ChooseTheShop as problem:
            summary.undecided.append({"file": chat.source, "authors": problem.authors[:30]})
            summary.errors.append({"file": chat.source, "line": None, "message": str(problem)})
            run.messages_done += chat.message_count
            continue
        except ImportProblem as problem:
            summary.errors.append({"file": chat.source, "line": None, "message": str(problem)})
            run.messages_done += chat.message_count
            continue
        save_chat(plan, run)
    run.index_written()
    summary.files = len(sources)
    return summary


def _chats_under(path, format: str, options: ParseOptions):
    if format == "auto" or Path(path).is_dir():
        yield from parse_path(path, options=options)
        return
    try:
        yield from parse_file(path, format=format, options=options)
    except ParseError as error:
        yield error
