"""Search past customer threads: what a shop types, turned into a bounded full-text search.

    results = search('gamis "ready stok" -reseller', Filters(channel="whatsapp", stage="won"))
    results.threads    # conversations with their best matching messages, snippets highlighted
    results.customers  # customers whose name, notes or handles match, phone fragments included

The query language (`parse_query`, pure): plain words must all match, and each also finds longer words it
starts ("gami" finds "gamis", "harga" finds "harganya"); "an exact phrase"; -word and -"a phrase" leave
messages out. Anything else is text: an unmatched quote, a lone *, AND/OR/NEAR, col:umn, brackets.
Every word goes to FTS5 quoted, so nothing typed is ever read as FTS5 syntax and nothing can error.

Why it stays fast at a million messages, however common the words:
- The index holds each live message under a time key, seconds(sent_at) * 2**31 + id, so "newest first" is
  FTS5's own rowid order (it stops after the window) and a date range is a rowid range.
- Every query reads at most the newest WINDOW matching messages. Relevance ("best") ranks that window:
  FTS5's bm25() first counts every match of every word in the whole index (25 ms for "kak" alone), so the
  score here is bm25's term-frequency and length parts from highlight() over the window, where every
  message holds every word anyway. "Older matches" moves the window back.
- The filters are words in the index too: each message's row carries private-use tokens for its side,
  channel, the staff who logged it, the customer's stage and the conversation's live tags. FTS5 intersects
  them like words, so a rare filter costs no scan. Triggers rewrite a conversation's rows when its tags,
  channel or staff change, and a customer's when the stage changes.
- Prefix indexes for 3 to 6 characters: a prefix query without one merges every word it starts in full.

The FTS5 schema, its triggers and the rebuild are in crm.search.index; the queries over it are here.
PostgreSQL has its own index behind the same `search()` (tsvector and pg_trgm, crm.search.postgres), with
the same query language and results. On another database search falls back to LIKE over the same window
(correct, slower, without accent folding) and the index functions do nothing.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from flask import current_app
from markupsafe import Markup, escape

from ..extensions import db
from ..identities import phone_fragment_digits
from .index import FACET_CODES, KEY_SHIFT, facet_token

WINDOW = 100  # matching messages a search reads at most (SEARCH_WINDOW setting)
PER_PAGE = 10  # conversations per page (SEARCH_PER_PAGE setting)
HITS_SHOWN = 3  # matching messages shown per conversation
MIN_PREFIX = 3  # shorter words match only themselves ("ok", "xl")
MAX_TERMS = 12
MAX_TOKEN = 40
MAX_QUERY = 300
SNIPPET_CHARS = 180
ORDERS = ("best", "newest")

OPEN, CLOSE = "\x02", "\x03"  # highlight() markers; control characters no chat text carries


# The query language ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    tokens: tuple[str, ...]  # folded words, as the index holds them
    phrase: bool = False  # typed in quotes: these words, in this order, whole
    exclude: bool = False

    @property
    def prefix(self) -> bool:
        return not self.phrase and len(self.tokens[-1]) >= MIN_PREFIX


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    terms: tuple[Term, ...] = ()

    @property
    def include(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.exclude)

    @property
    def exclude(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.exclude)

    def __bool__(self) -> bool:
        return bool(self.terms)


_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\uff02": '"'})


def fold(text: str) -> str:
    """Lower case without accents, as the index's unicode61 remove_diacritics 2 sees a word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def tokenise(text: str) -> list[str]:
    """Runs of letters and digits, folded; private-use characters are dropped (they are the facets)."""
    tokens, current = [], []
    for ch in fold(text):
        if ch.isalnum() and not ("\ue000" <= ch <= "\uf8ff"):
            current.append(ch)
        elif current:
            tokens.append("".join(current)[:MAX_TOKEN])
            current = []
    if current:
        tokens.append("".join(current)[:MAX_TOKEN])
    return tokens


_PIECE = re.compile(r'(-?)"([^"]*)"|([^\s"]+)')


def parse_query(query: str) -> ParsedQuery:
    """Words, "phrases" and -exclusions; whatever does not parse is read as plain words, never an error."""
    text_ = " ".join((query or "")[:MAX_QUERY].translate(_QUOTES).split())
    scanned = text_
    if scanned.count('"') % 2:  # a quote nobody closed is a separator, not the start of a phrase
        last = scanned.rfind('"')
        scanned = scanned[:last] + " " + scanned[last + 1:]
    terms: list[Term] = []
    for match in _PIECE.finditer(scanned):
        minus, quoted, word = match.groups()
        if word is not None:
            term = Term(tuple(tokenise(word)), phrase=False, exclude=word.startswith("-") and len(word) > 1)
        else:
            term = Term(tuple(tokenise(quoted)), phrase=True, exclude=bool(minus))
        if term.tokens and term not in terms:
            terms.append(term)
    return ParsedQuery(text_, tuple(terms[:MAX_TERMS]))


def _fts_string(term: Term) -> str:
    # Tokens are letters and digits only, so quoting cannot break out; FTS5 re-tokenises the string itself.
    return '"' + " ".join(term.tokens) + '"' + ("*" if term.prefix else "")


# Filters and results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    tag_id: int | None = None
    stage: str | None = None
    staff_id: int | None = None  # who logged the conversation
    side: str | None = None  # "customer" or "staff" (our messages)
    date_from: date | None = None  # in the shop's time zone, inclusive
    date_to: date | None = None

    def facets(self) -> list[str]:
        chosen = [("side", self.side), ("channel", self.channel), ("stage", self.stage),
                  ("staff", self.staff_id), ("tag", self.tag_id)]
        return [facet_token(kind, value) for kind, value in chosen if value not in (None, "")]

    @property
    def active(self) -> bool:
        return bool(self.facets() or self.date_from or self.date_to)

    @property
    def about_messages(self) -> bool:
        """Filters that only a message can meet; customers are not listed under them."""
        return bool(self.side or self.tag_id or self.staff_id or self.date_from or self.date_to)


@dataclass
class Hit:
    message_id: int
    key: int
    side: str
    snippet: Markup
    score: float
    sent_at: datetime | None = None  # to the second (from the key); set for the hits shown


@dataclass
class Thread:
    conversation_id: int
    hits: list[Hit] = field(default_factory=list)
    score: float = 0.0
    newest: int = 0
    channel: str = ""
    customer_id: int = 0
    customer_name: str = ""
    stage: str = ""
    logged_by: str | None = None
    first_message_at: datetime | None = None
    last_message_at: datetime | None = None

    @property
    def shown(self) -> list[Hit]:
        return self.hits[:HITS_SHOWN]

    @property
    def more(self) -> int:
        return max(0, len(self.hits) - HITS_SHOWN)


@dataclass
class SearchResults:
    query: ParsedQuery
    filters: Filters
    order: str = "best"
    page: int = 1
    threads: list[Thread] = field(default_factory=list)
    thread_count: int = 0  # conversations in this window
    message_count: int = 0  # matching messages in this window
    older_than: int | None = None  # set when older matches may exist: the key to continue before
    before: int | None = None  # the window this page shows ends before this key
    customers: list = field(default_factory=list)
    searched: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.thread_count / _per_page()))


def window_size() -> int:
    """Matching messages one search reads at most."""
    return int(current_app.config.get("SEARCH_WINDOW", WINDOW))


def _per_page() -> int:
    return int(current_app.config.get("SEARCH_PER_PAGE", PER_PAGE))


def _backend() -> str:
    """"fts" (SQLite's FTS5), "postgres" (crm.search.postgres), or "like" on any other database (or when
    the SEARCH_BACKEND setting says so)."""
    if current_app.config.get("SEARCH_BACKEND", "index") == "like":
        return "like"
    return {"sqlite": "fts", "postgresql": "postgres"}.get(db.engine.dialect.name, "like")


def _uses_fts() -> bool:
    return _backend() == "fts"


def search(query: str, filters: Filters | None = None, *, order: str = "best", page: int = 1,
           before: int | None = None, customers: int = 5) -> SearchResults:
    """Conversations whose messages match, best or newest first, a page at a time; and matching customers."""
    parsed = parse_query(query)
    filters = filters or Filters()
    order = order if order in ORDERS else "best"
    results = SearchResults(parsed, filters, order, max(1, page), before=before)
    if not parsed.include and not filters.active:
        return results
    results.searched = True
    hits = {"fts": _fts_hits, "postgres": _postgres_hits, "like": _like_hits}[_backend()]
    rows = hits(parsed, filters, before, window_size())
    if len(rows) >= window_size():
        results.older_than = rows[-1].key
    _group(results, rows)
    if customers and results.page == 1 and before is None and parsed.include and not filters.about_messages:
        results.customers = matching_customers(parsed, filters, limit=customers)
    return results


@dataclass
class _Row:
    key: int
    message_id: int
    conversation_id: int
    side: str
    marked: str  # the body with OPEN/CLOSE around matched words
    length: int  # of the body
    tainted: bool = False  # the body itself holds OPEN or CLOSE


def _group(results: SearchResults, rows: list[_Row]) -> None:
    results.message_count = len(rows)
    best = results.order == "best"
    words = results.query.include
    average = (sum(r.length for r in rows) / len(rows)) if rows and best else 1.0
    threads: dict[int, Thread] = {}
    for row in rows:  # newest first
        score = _score(row, words, average) if best else 0.0
        thread = threads.get(row.conversation_id)
        if thread is None:
            thread = threads[row.conversation_id] = Thread(row.conversation_id, newest=row.key, score=score)
        thread.hits.append(Hit(row.message_id, row.key, row.side, Markup(""), score))
        thread.score = max(thread.score, score)
    ordered = list(threads.values())
    if best:
        ordered.sort(key=lambda t: (-t.score, -t.newest))
    results.thread_count = len(ordered)
    per_page = _per_page()
    results.page = min(results.page, results.pages)
    start = (results.page - 1) * per_page
    results.threads = ordered[start:start + per_page]
    by_id = {row.message_id: row for row in rows}
    for thread in results.threads:
        if best:
            thread.hits.sort(key=lambda h: (-h.score, -h.key))
        for hit in thread.shown:
            row = by_id[hit.message_id]
            hit.snippet = snippet(row.marked, tainted=row.tainted)
            hit.sent_at = datetime.fromtimestamp(hit.key // KEY_SHIFT, timezone.utc)
    _describe(results.threads)


_WORD = re.compile(r"[a-z0-9]+")


def _span_tokens(span: str) -> tuple[str, ...]:
    lowered = span.lower()
    return tuple(_WORD.findall(lowered)) if lowered.isascii() else tuple(tokenise(span))


def _score(row: _Row, words: tuple[Term, ...], average: float, k1: float = 1.2, b: float = 0.75) -> float:
    """bm25's term frequency and length parts; a whole-word match counts more than a longer word it starts."""
    if not words:
        return 0.0
    counts = [0.0] * len(words)
    for piece in row.marked.split(OPEN)[1:]:
        tokens = _span_tokens(piece.partition(CLOSE)[0])
        for index, word in enumerate(words):
            if tokens == word.tokens:
                counts[index] += 1.0
                break
            if (word.prefix and len(tokens) == len(word.tokens) and tokens[:-1] == word.tokens[:-1]
                    and tokens[-1].startswith(word.tokens[-1])):
                counts[index] += 0.7
                break
    norm = k1 * (1 - b + b * row.length / max(average, 1.0))
    return sum(c * (k1 + 1) / (c + norm) for c in counts if c)


def snippet(marked: str, width: int = SNIPPET_CHARS, tainted: bool = False) -> Markup:
    """The part of a message around its first match, escaped, with the matched words in <mark>.
    `tainted`: the text itself holds the marker characters, so it is shown plain."""
    if tainted:
        marked = marked.replace(OPEN, "").replace(CLOSE, "")
    start = max(0, marked.find(OPEN))
    if len(marked) > width:
        begin = max(0, start - width // 3)
        if begin:
            space = marked.rfind(" ", 0, begin + 1)
            begin = space + 1 if space > begin - 20 else begin
        end = min(len(marked), begin + width)
        if end < len(marked):
            space = marked.rfind(" ", begin, end)
            end = space if space > end - 20 else end
        piece = marked[begin:end]
        if piece.count(OPEN) > piece.count(CLOSE):
            piece += CLOSE
        if piece.find(CLOSE) != -1 and (piece.find(OPEN) == -1 or piece.find(CLOSE) < piece.find(OPEN)):
            piece = OPEN + piece
        marked = ("…" if begin else "") + piece + ("…" if end < len(marked) else "")
    safe = str(escape(" ".join(marked.split())))
    return Markup(safe.replace(OPEN, "<mark>").replace(CLOSE, "</mark>"))


def _describe(threads: list[Thread]) -> None:
    """Customer, channel, staff and times of the conversations on the page: one query."""
    from ..models import Conversation, Customer, User

    if not threads:
        return
    ids = [t.conversation_id for t in threads]
    if _backend() == "postgres":
        from . import postgres

        rows = postgres.describe(ids)
    elif _uses_fts():
        rows = [(*row[:2], _utc(row[2]), _utc(row[3]), *row[4:]) for row in _driver().execute(
            "SELECT c.id, c.channel, c.first_message_at, c.last_message_at, cu.id, cu.display_name, cu.stage, "
            "u.name FROM conversations c JOIN customers cu ON cu.id = c.customer_id "
            f"LEFT JOIN users u ON u.id = c.logged_by_id WHERE c.id IN ({', '.join('?' * len(ids))})", ids)]
    else:
        rows = db.session.execute(
            db.select(Conversation.id, Conversation.channel, Conversation.first_message_at,
                      Conversation.last_message_at, Customer.id, Customer.display_name, Customer.stage, User.name)
            .join(Customer, Customer.id == Conversation.customer_id)
            .outerjoin(User, User.id == Conversation.logged_by_id).where(Conversation.id.in_(ids))
        ).all()
    found = {row[0]: row for row in rows}
    for thread in threads:
        row = found.get(thread.conversation_id)
        if row:
            (_, thread.channel, thread.first_message_at, thread.last_message_at, thread.customer_id,
             thread.customer_name, thread.stage, thread.logged_by) = row


def _utc(stored: str | None) -> datetime | None:
    """A time as crm.models.UTCDateTime stores it (naive UTC text), made aware."""
    return datetime.fromisoformat(stored).replace(tzinfo=timezone.utc) if stored else None


def _driver():
    """The session's own sqlite3 connection (same transaction): for the few hot queries of a search,
    SQLAlchemy's statement and row handling costs more than SQLite's work."""
    return db.session.connection().connection.driver_connection


# Customers -----------------------------------------------------------------------------------------------


_HANDLE_QUERY = re.compile(r"@?[\w.\-]{3,100}")


@dataclass
class ShownIdentity:
    channel: str
    display: str


@dataclass
class FoundCustomer:
    id: int
    display_name: str
    stage: str
    identities: list[ShownIdentity] = field(default_factory=list)


@dataclass
class CustomerMatch:
    customer: FoundCustomer
    notes: Markup | None = None  # the part of the notes that matched, highlighted


def matching_customers(parsed: ParsedQuery, filters: Filters | None = None, limit: int = 8) -> list[CustomerMatch]:
    """Live customers: a phone fragment or handle first, then names, then notes and handles with the words."""
    from ..customers.services import find_customers as find_by_like

    filters = filters or Filters()
    backend = _backend()
    if backend == "like":
        found = find_by_like(parsed.text, limit=limit * 3)
        return _customer_matches([c.id for c in found], {}, filters, limit)
    first: list[int] = []
    digits = phone_fragment_digits(parsed.text)
    handle = parsed.text.removeprefix("@").lower() if _HANDLE_QUERY.fullmatch(parsed.text) else None
    for fragment in filter(None, (digits, handle)):
        first += _handle_matches(fragment, limit)
    by_name, others, notes = [], [], {}
    words = " AND ".join(_fts_string(t) for t in parsed.include)
    if backend == "postgres":
        from . import postgres

        for customer_id, in_name, note in postgres.matching_customers(parsed, limit * 3):
            (by_name if in_name else others).append(customer_id)
            if note:
                notes[customer_id] = snippet(note)
    elif words:
        match = f"({{name notes handles}} : ({words}))"
        if parsed.exclude:
            match += f" NOT ({{name notes handles}} : ({' OR '.join(_fts_string(t) for t in parsed.exclude)}))"
        rows = _driver().execute(
            "SELECT rowid, instr(highlight(customers_fts, 0, char(2), char(3)), char(2)) > 0, "
            "snippet(customers_fts, 1, char(2), char(3), '…', 16) FROM customers_fts "
            "WHERE customers_fts MATCH ? ORDER BY rowid DESC LIMIT ?", (match, limit * 3))
        for customer_id, in_name, note in rows:
            (by_name if in_name else others).append(customer_id)
            if OPEN in (note or ""):
                notes[customer_id] = snippet(note)
    return _customer_matches(list(dict.fromkeys(first + by_name + others)), notes, filters, limit)


def _customer_matches(ids: list[int], notes: dict, filters: Filters, limit: int) -> list[CustomerMatch]:
    """The live ones among `ids`, in that order, with their handles: one query."""
    from ..models import ChannelIdentity, Customer

    if not ids:
        return []
    if _backend() == "postgres":
        from . import postgres

        rows = postgres.customers_with_handles(ids, filters.stage)
    elif _uses_fts():
        rows = _driver().execute(
            "SELECT c.id, c.display_name, c.stage, i.channel, i.handle FROM customers c "
            "LEFT JOIN channel_identities i ON i.customer_id = c.id "
            f"WHERE c.id IN ({', '.join('?' * len(ids))}) AND c.deleted_at IS NULL AND c.merged_into_id IS NULL "
            "AND (? IS NULL OR c.stage = ?) ORDER BY i.id", [*ids, filters.stage, filters.stage]).fetchall()
    else:
        statement = (
            db.select(Customer.id, Customer.display_name, Customer.stage, ChannelIdentity.channel,
                      ChannelIdentity.handle)
            .outerjoin(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
            .where(Customer.id.in_(ids), Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))
            .order_by(ChannelIdentity.id)
        )
        if filters.stage:
            statement = statement.where(Customer.stage == filters.stage)
        rows = db.session.execute(statement).all()
    found: dict[int, FoundCustomer] = {}
    handles: dict[int, list[tuple[str, str]]] = {}
    for customer_id, name, stage, channel, handle in rows:
        found.setdefault(customer_id, FoundCustomer(customer_id, name, stage))
        handles.setdefault(customer_id, [])
        if channel:
            handles[customer_id].append((channel, handle))
    shown = [i for i in ids if i in found
             and (not filters.channel or any(channel == filters.channel for channel, _ in handles[i]))][:limit]
    for customer_id in shown:
        found[customer_id].identities = [ShownIdentity(c, _display_handle(c, h)) for c, h in handles[customer_id]]
    return [CustomerMatch(found[i], notes.get(i)) for i in shown]


@lru_cache(maxsize=4096)
def _display_handle(channel: str, handle: str) -> str:
    # phonenumbers takes ~50 us to format a number; the same customers come up again and again as you type.
    from ..identities import display_handle

    return display_handle(channel, handle)


def _handle_matches(fragment: str, limit: int) -> list[int]:
    if len(fragment) < 3:  # trigrams
        return []
    if _backend() == "postgres":
        from . import postgres

        return postgres.handle_matches(fragment, limit * 3)
    return [row[0] for row in _driver().execute(
        "SELECT i.customer_id FROM identities_fts f JOIN channel_identities i ON i.id = f.rowid "
        "WHERE identities_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?",
        ('"' + fragment.replace('"', '""') + '"', limit * 3))]


# The SQLite FTS5 index -----------------------------------------------------------------------------------


def _fts_match(parsed: ParsedQuery, filters: Filters) -> str:
    include = " AND ".join(_fts_string(t) for t in parsed.include)
    facets = " AND ".join(f'"{token}"' for token in filters.facets())
    if include and facets:
        match = f"(body : ({include})) AND (facets : ({facets}))"
    elif include:
        match = f"body : ({include})"
    else:
        # Filters alone: every message carries a side, so this is every message that meets them.
        everything = " OR ".join(f'"{facet_token("side", side)}"' for side in FACET_CODES["side"])
        match = f"facets : (({everything}){' AND ' + facets if facets else ''})"
    if parsed.exclude:
        match = f"({match}) NOT (body : ({' OR '.join(_fts_string(t) for t in parsed.exclude)}))"
    return match


def _key_range(filters: Filters, before: int | None) -> tuple[int, int]:
    from ..formatting import shop_zone

    low, high = -(2**62), 2**62
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=shop_zone())
        low = int(start.timestamp()) * KEY_SHIFT
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=shop_zone())
        high = int(end.timestamp()) * KEY_SHIFT
    if before is not None:
        high = min(high, before)
    return low, high


_HITS_SQL = f"""
SELECT f.rowid, m.id, m.conversation_id, m.side, highlight(messages_fts, 0, char(2), char(3)), length(m.body),
       instr(m.body, char(2)) + instr(m.body, char(3)) > 0
FROM messages_fts f
JOIN messages m ON m.id = (f.rowid & {KEY_SHIFT - 1})
JOIN conversations c ON c.id = m.conversation_id
JOIN customers cu ON cu.id = c.customer_id
WHERE messages_fts MATCH :match AND f.rowid >= :low AND f.rowid < :high
  AND m.deleted_at IS NULL AND c.deleted_at IS NULL AND cu.deleted_at IS NULL AND cu.merged_into_id IS NULL
ORDER BY f.rowid DESC
LIMIT :window
"""


def hits_sql(parsed: ParsedQuery, filters: Filters, before: int | None = None, window: int = WINDOW):
    """The one statement a search runs over the index, with its parameters (the benchmark runs it alone)."""
    low, high = _key_range(filters, before)
    if _backend() == "postgres":
        from . import postgres

        return postgres.HITS_SQL, {"match": postgres.messages_query(parsed, filters), "low": low, "high": high,
                                   "window": window, "walk": postgres.WALK,
                                   "deeper": postgres.DEEPER}
    return _HITS_SQL, {"match": _fts_match(parsed, filters), "low": low, "high": high, "window": window}


def _fts_hits(parsed: ParsedQuery, filters: Filters, before: int | None, window: int) -> list[_Row]:
    sql, params = hits_sql(parsed, filters, before, window)
    return [_Row(*row) for row in _driver().execute(sql, params).fetchall()]


# PostgreSQL's index (crm.search.postgres) ----------------------------------------------------------------


def _postgres_hits(parsed: ParsedQuery, filters: Filters, before: int | None, window: int) -> list[_Row]:
    from . import postgres

    low, high = _key_range(filters, before)
    return [_Row(*row) for row in postgres.hits(parsed, filters, low, high, window)]


# Any other database: LIKE over the same window ------------------------------------------------------------


def _like_hits(parsed: ParsedQuery, filters: Filters, before: int | None, window: int) -> list[_Row]:
    from sqlalchemy import and_, exists, not_, or_

    from ..models import Conversation, ConversationTag, Customer, Message

    def contains(term: Term):
        pattern = "%" + " ".join(term.tokens).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return Message.body.ilike(pattern, escape="\\")

    statement = (
        db.select(Message.id, Message.conversation_id, Message.side, Message.body, Message.sent_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(Message.deleted_at.is_(None), Conversation.deleted_at.is_(None), Customer.deleted_at.is_(None),
               Customer.merged_into_id.is_(None), *[contains(t) for t in parsed.include])
    )
    if parsed.exclude:
        statement = statement.where(not_(or_(*[contains(t) for t in parsed.exclude])))
    for column, value in ((Conversation.channel, filters.channel), (Customer.stage, filters.stage),
                          (Conversation.logged_by_id, filters.staff_id), (Message.side, filters.side)):
        if value not in (None, ""):
            statement = statement.where(column == value)
    if filters.tag_id:
        statement = statement.where(exists().where(and_(
            ConversationTag.conversation_id == Conversation.id, ConversationTag.tag_id == filters.tag_id,
            ConversationTag.removed_at.is_(None))))
    low, high = _key_range(filters, before)
    if low > -(2**62):
        statement = statement.where(Message.sent_at >= datetime.fromtimestamp(low // KEY_SHIFT, timezone.utc))
    if high < 2**62:
        statement = statement.where(Message.sent_at < datetime.fromtimestamp(high // KEY_SHIFT + 1, timezone.utc))
    statement = statement.order_by(Message.sent_at.desc(), Message.id.desc()).limit(window * 2)
    rows = []
    for message_id, conversation_id, side, body, sent_at in db.session.execute(statement):
        key = int(sent_at.timestamp()) * KEY_SHIFT + message_id
        if key < high:
            rows.append(_Row(key, message_id, conversation_id, side, _mark(body, parsed), len(body),
                             OPEN in body or CLOSE in body))
    return sorted(rows, key=lambda r: -r.key)[:window]


def _mark(body: str, parsed: ParsedQuery) -> str:
    words = [re.escape(" ".join(t.tokens)) for t in parsed.include]
    if not words:
        return body
    pattern = re.compile(r"(?<!\w)(" + "|".join(words) + r")\w*", re.I)
    return pattern.sub(lambda m: OPEN + m.group(0) + CLOSE, body)
