"""The search index on PostgreSQL: the same query language and results as SQLite's FTS5 (crm.search.index).

- messages_search holds one row per live message: its time key (seconds(sent_at) * 2**31 + id, as on SQLite),
  and a tsvector of its words plus the facet tokens of crm.search.index (side, channel, staff, stage, live
  tags), so "newest first" is a walk down the key and a filter is a lexeme the GIN index intersects.
- customers_search holds each live customer's name, notes and handles, weighted A, B and C, so a phrase can
  be held to one of them as FTS5 holds it to one column.
- Handles are also indexed by pg_trgm on channel_identities: any part of a phone number or handle.
- Words are what FTS5's unicode61 tokenizer with remove_diacritics sees: runs of letters and digits, without
  accents (unaccent) and lower case; obrolan_search_words() turns text into those runs separated by spaces,
  and the `simple` configuration gives each run a position, for phrases.
- Statement-level triggers keep both tables in step with every write (an import of a thousand messages is
  one INSERT's worth of trigger work); the postgres_search migration installs them, `flask reindex` builds
  them again.

Matched words are marked in Python (mark_words) the way FTS5's highlight() marks them, so snippets and the
"best" order come out of crm.search.query unchanged.
"""
from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import text

from ..extensions import db
from .index import _BASE, _HIGH, _LOW, FACET_CODES, FACET_KIND, KEY_SHIFT

# FTS5's prefix indexes (prefix='3 4 5 6'): each word's first 3 to 6 letters are lexemes of their own, marked
# with a character no word holds, so "gami" reads one list instead of merging those of every word it starts.
PREFIX, MIN_PREFIX, MAX_PREFIX = ">", 3, 6

# Long enough for any chat message; a tsvector holds at most 1 MB, so a pasted book would fail the write.
INDEXED_CHARS = 100_000

TABLES = ("messages_search", "customers_search")
INDEXES = ("messages_search_document", "messages_search_conversation", "customers_search_document",
           "identities_search_handle")
FUNCTIONS = (
    "obrolan_search_words(text)", "obrolan_message_key(timestamp, integer)", "obrolan_prefixes(tsvector)",
    "messages_search_index(integer[])", "messages_search_reindex_conversations(integer[])",
    "customers_search_reindex(integer[])", "messages_search_on_insert()", "messages_search_on_delete()",
    "messages_search_on_update()", "messages_search_on_conversation()", "messages_search_on_tags_insert()",
    "messages_search_on_tags_delete()", "messages_search_on_tags_update()", "customers_search_on_insert()",
    "customers_search_on_update()", "customers_search_on_delete()", "customers_search_on_identities_insert()",
    "customers_search_on_identities_update()", "customers_search_on_identities_delete()",
)
TRIGGERS = {
    "messages_search_insert": ("messages", "INSERT", "NEW TABLE AS new_rows", "messages_search_on_insert"),
    "messages_search_delete": ("messages", "DELETE", "OLD TABLE AS old_rows", "messages_search_on_delete"),
    "messages_search_update": ("messages", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                               "messages_search_on_update"),
    "messages_search_conversation": ("conversations", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                                     "messages_search_on_conversation"),
    "messages_search_tags_insert": ("conversation_tags", "INSERT", "NEW TABLE AS new_rows",
                                    "messages_search_on_tags_insert"),
    "messages_search_tags_delete": ("conversation_tags", "DELETE", "OLD TABLE AS old_rows",
                                    "messages_search_on_tags_delete"),
    "messages_search_tags_update": ("conversation_tags", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                                    "messages_search_on_tags_update"),
    "customers_search_insert": ("customers", "INSERT", "NEW TABLE AS new_rows", "customers_search_on_insert"),
    "customers_search_update": ("customers", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                                "customers_search_on_update"),
    "customers_search_delete": ("customers", "DELETE", "OLD TABLE AS old_rows", "customers_search_on_delete"),
    "customers_search_identities_insert": ("channel_identities", "INSERT", "NEW TABLE AS new_rows",
                                           "customers_search_on_identities_insert"),
    "customers_search_identities_update": ("channel_identities", "UPDATE",
                                           "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                                           "customers_search_on_identities_update"),
    "customers_search_identities_delete": ("channel_identities", "DELETE", "OLD TABLE AS old_rows",
                                           "customers_search_on_identities_delete"),
}


def _token_sql(kind: str, number: str) -> str:
    """crm.search.index.facet_token() in PostgreSQL; NULL for a NULL number."""
    return (f"CASE WHEN ({number}) IS NOT NULL THEN chr({FACET_KIND[kind]}) || chr({_LOW} + ({number}) % {_BASE})"
            f" || CASE WHEN ({number}) >= {_BASE} THEN chr({_HIGH} + ({number}) / {_BASE}) ELSE '' END END")


def _code_sql(kind: str, expr: str) -> str:
    cases = " ".join(f"WHEN '{value}' THEN {code}" for value, code in FACET_CODES[kind].items())
    return f"(CASE {expr} {cases} ELSE 0 END)"


def _functions(unaccent_schema: str, unicode_classes: bool) -> list[str]:
    unaccent = f"{unaccent_schema}.unaccent('{unaccent_schema}.unaccent'::regdictionary, %s)"
    words = f"left(body, {INDEXED_CHARS})"
    if unicode_classes:
        # Symbols first: unaccent spells some out ("©" is "(C)"), and FTS5 never sees a word in them.
        words = f"regexp_replace({words}, '[^[:alnum:]]+', ' ', 'g')"
    # Without a locale that knows letters beyond ASCII (a "C" database), accents must go before the
    # letters-and-digits test, or "café" would be read as "caf".
    words = f"regexp_replace(lower({unaccent % words}), '[^[:alnum:]]+', ' ', 'g')"
    words = f"""CREATE FUNCTION obrolan_search_words(body text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {words} $$"""
    key = f"""CREATE FUNCTION obrolan_message_key(sent_at timestamp, id integer) RETURNS bigint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(floor(extract(epoch FROM sent_at))::bigint, 0) * {KEY_SHIFT} + id
      $$"""
    prefixes = f"""CREATE FUNCTION obrolan_prefixes(words tsvector) RETURNS tsvector
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_to_tsvector(array_agg('{PREFIX}' || left(w.lexeme, n))), ''::tsvector)
        FROM unnest(words) AS w, generate_series({MIN_PREFIX}, least({MAX_PREFIX}, length(w.lexeme))) AS n
      $$"""
    # PL/pgSQL, not SQL functions: PL/pgSQL keeps each statement's plan for the session, where a SQL
    # function would plan its INSERT again on every write (2 ms a message).
    index = f"""CREATE FUNCTION messages_search_index(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
        IF cardinality(ids) = 0 THEN RETURN; END IF;
        {_index_messages("m.id = ANY(ids) AND m.deleted_at IS NULL", few=True)}
        ON CONFLICT (key) DO UPDATE SET conversation_id = EXCLUDED.conversation_id, document = EXCLUDED.document;
      END $$"""
    reindex_conversations = """CREATE FUNCTION messages_search_reindex_conversations(ids integer[]) RETURNS void
      LANGUAGE plpgsql AS $$ BEGIN
        IF cardinality(ids) = 0 THEN RETURN; END IF;  -- most updates of a conversation: a new message's times
        DELETE FROM messages_search WHERE conversation_id = ANY(ids);
        PERFORM messages_search_index(ARRAY(SELECT id FROM messages WHERE conversation_id = ANY(ids)));
      END $$"""
    customers = """CREATE FUNCTION customers_search_reindex(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF cardinality(ids) = 0 THEN RETURN; END IF;
        DELETE FROM customers_search WHERE customer_id = ANY(ids);
        INSERT INTO customers_search (customer_id, document)
          SELECT c.id, setweight(to_tsvector('simple', obrolan_search_words(c.display_name)), 'A')
                 || setweight(to_tsvector('simple', obrolan_search_words(c.notes)), 'B')
                 || setweight(to_tsvector('simple', obrolan_search_words(coalesce(
                      (SELECT string_agg(i.handle, ' ' ORDER BY i.id) FROM channel_identities i
                       WHERE i.customer_id = c.id), ''))), 'C')
          FROM customers c WHERE c.id = ANY(ids) AND c.deleted_at IS NULL AND c.merged_into_id IS NULL;
      END $$"""
    return [words, key, prefixes, index, reindex_conversations, customers, *_trigger_functions()]


def _index_messages(where: str, few: bool) -> str:
    """The index rows of the messages `m` meeting `where`. `few`: a trigger's handful, whose tags are looked up
    per conversation; otherwise every message, with all live tags gathered in one pass."""
    tag_tokens = f"array_agg({_token_sql('tag', 'ct.tag_id')})"
    if few:
        tags = (f"LEFT JOIN LATERAL (SELECT {tag_tokens} AS tokens FROM conversation_tags ct "
                "WHERE ct.conversation_id = m.conversation_id AND ct.removed_at IS NULL) t ON true")
    else:
        tags = (f"LEFT JOIN (SELECT ct.conversation_id, {tag_tokens} AS tokens FROM conversation_tags ct "
                "WHERE ct.removed_at IS NULL GROUP BY ct.conversation_id) t ON t.conversation_id = m.conversation_id")
    return f"""INSERT INTO messages_search (key, conversation_id, document)
          SELECT obrolan_message_key(m.sent_at, m.id), m.conversation_id,
                 w.words || obrolan_prefixes(w.words) || array_to_tsvector(array_remove(ARRAY[
                   {_token_sql('side', _code_sql('side', 'm.side'))},
                   {_token_sql('channel', _code_sql('channel', 'c.channel'))},
                   {_token_sql('stage', _code_sql('stage', 'cu.stage'))},
                   {_token_sql('staff', 'c.logged_by_id')}] || coalesce(t.tokens, '{{}}'), NULL))
          FROM messages m
          CROSS JOIN LATERAL (SELECT to_tsvector('simple', obrolan_search_words(m.body)) AS words) w
          LEFT JOIN conversations c ON c.id = m.conversation_id
          LEFT JOIN customers cu ON cu.id = c.customer_id
          {tags}
          WHERE {where}"""



def _trigger_function(name: str, body: str) -> str:
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        {body}
        RETURN NULL;
      END $$"""


_PAIRED = "old_rows o FULL JOIN new_rows n ON n.id = o.id"


def _trigger_functions() -> list[str]:
    message_changed = ("(o.body, o.sent_at, o.side, o.deleted_at, o.conversation_id) IS DISTINCT FROM "
                       "(n.body, n.sent_at, n.side, n.deleted_at, n.conversation_id)")
    customer_changed = ("(o.display_name, o.notes, o.deleted_at, o.merged_into_id) IS DISTINCT FROM "
                        "(n.display_name, n.notes, n.deleted_at, n.merged_into_id)")
    conversation_changed = ("(o.channel, o.logged_by_id, o.customer_id) IS DISTINCT FROM "
                            "(n.channel, n.logged_by_id, n.customer_id)")
    return [
        _trigger_function("messages_search_on_insert",
                          "PERFORM messages_search_index(ARRAY(SELECT id FROM new_rows WHERE deleted_at IS NULL));"),
        _trigger_function("messages_search_on_delete", """
          DELETE FROM messages_search s USING old_rows o WHERE s.key = obrolan_message_key(o.sent_at, o.id);"""),
        _trigger_function("messages_search_on_update", f"""
          DELETE FROM messages_search s USING (SELECT o.* FROM {_PAIRED} WHERE {message_changed}) o
            WHERE s.key = obrolan_message_key(o.sent_at, o.id);
          PERFORM messages_search_index(ARRAY(SELECT n.id FROM {_PAIRED} WHERE n.id IS NOT NULL
                                              AND {message_changed}));"""),
        _trigger_function("messages_search_on_conversation", f"""
          PERFORM messages_search_reindex_conversations(ARRAY(SELECT coalesce(n.id, o.id) FROM {_PAIRED}
                                                              WHERE {conversation_changed}));"""),
        _trigger_function("messages_search_on_tags_insert", """
          PERFORM messages_search_reindex_conversations(ARRAY(SELECT DISTINCT conversation_id FROM new_rows
                                                              WHERE removed_at IS NULL));"""),
        _trigger_function("messages_search_on_tags_delete", """
          PERFORM messages_search_reindex_conversations(ARRAY(SELECT DISTINCT conversation_id FROM old_rows
                                                              WHERE removed_at IS NULL));"""),
        # conversation_tags has no id: a changed row is one whose old and new versions differ.
        _trigger_function("messages_search_on_tags_update", """
          PERFORM messages_search_reindex_conversations(ARRAY(
            SELECT conversation_id FROM (
              (SELECT conversation_id, tag_id, removed_at IS NULL AS live FROM old_rows
               EXCEPT SELECT conversation_id, tag_id, removed_at IS NULL FROM new_rows)
              UNION (SELECT conversation_id, tag_id, removed_at IS NULL FROM new_rows
               EXCEPT SELECT conversation_id, tag_id, removed_at IS NULL FROM old_rows)) changed));"""),
        _trigger_function("customers_search_on_insert",
                          "PERFORM customers_search_reindex(ARRAY(SELECT id FROM new_rows));"),
        _trigger_function("customers_search_on_update", f"""
          PERFORM customers_search_reindex(ARRAY(SELECT coalesce(n.id, o.id) FROM {_PAIRED}
                                                 WHERE n.id IS NULL OR o.id IS NULL OR {customer_changed}));
          PERFORM messages_search_reindex_conversations(ARRAY(
            SELECT c.id FROM conversations c JOIN new_rows n ON n.id = c.customer_id JOIN old_rows o ON o.id = n.id
            WHERE o.stage IS DISTINCT FROM n.stage));"""),
        _trigger_function("customers_search_on_delete",
                          "DELETE FROM customers_search s USING old_rows o WHERE s.customer_id = o.id;"),
        _trigger_function("customers_search_on_identities_insert",
                          "PERFORM customers_search_reindex(ARRAY(SELECT DISTINCT customer_id FROM new_rows));"),
        _trigger_function("customers_search_on_identities_update", """
          PERFORM customers_search_reindex(ARRAY(SELECT customer_id FROM old_rows
                                                 UNION SELECT customer_id FROM new_rows));"""),
        _trigger_function("customers_search_on_identities_delete",
                          "PERFORM customers_search_reindex(ARRAY(SELECT DISTINCT customer_id FROM old_rows));"),
    ]


EXTENSIONS = ("CREATE EXTENSION IF NOT EXISTS unaccent", "CREATE EXTENSION IF NOT EXISTS pg_trgm")


def drop_statements() -> list[str]:
    return ([f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, (table, *_rest) in TRIGGERS.items()]
            + [f"DROP TABLE IF EXISTS {name}" for name in TABLES]
            + ["DROP INDEX IF EXISTS identities_search_handle"]
            + [f"DROP FUNCTION IF EXISTS {name}" for name in FUNCTIONS])


def create_statements(unaccent_schema: str, unicode_classes: bool) -> list[str]:
    """Tables, functions and triggers, then the index filled from the tables (the postgres_search migration,
    `flask reindex`). The GIN indexes are made after the fill: built at once, several times faster than row by row."""
    tables = [
        "CREATE TABLE messages_search (key bigint PRIMARY KEY, conversation_id integer NOT NULL, "
        "document tsvector NOT NULL)",
        "CREATE TABLE customers_search (customer_id integer PRIMARY KEY, document tsvector NOT NULL)",
    ]
    triggers = [f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
                for name, (table, event, transition, function) in TRIGGERS.items()]
    fill = [
        _index_messages("m.deleted_at IS NULL", few=False),
        "SELECT customers_search_reindex(ARRAY(SELECT id FROM customers))",
        "CREATE INDEX messages_search_document ON messages_search USING gin (document)",
        "CREATE INDEX messages_search_conversation ON messages_search (conversation_id)",
        "CREATE INDEX customers_search_document ON customers_search USING gin (document)",
        "CREATE INDEX identities_search_handle ON channel_identities USING gin (handle gin_trgm_ops)",
        "ANALYZE messages_search",
        "ANALYZE customers_search",
    ]
    return tables + _functions(unaccent_schema, unicode_classes) + triggers + fill


def install(connection) -> None:
    """What the postgres_search migration runs on PostgreSQL (unaccent and pg_trgm are trusted extensions: the
    database's owner may create them)."""
    for statement in EXTENSIONS:
        connection.execute(text(statement))
    schema = connection.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'")).scalar_one()
    unicode_classes = connection.execute(text("SELECT 'é' ~ '^[[:alnum:]]$'")).scalar_one()
    for statement in create_statements(schema, unicode_classes):
        connection.execute(text(statement))


def rebuild() -> None:
    connection = db.session.connection()
    for statement in drop_statements():
        connection.execute(text(statement))
    install(connection)


def is_installed() -> bool:
    tables = {row[0] for row in db.session.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))}
    triggers = {row[0] for row in db.session.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
    return set(TABLES) <= tables and set(TRIGGERS) <= triggers


# Queries ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")  # what unicode61 reads as a word: letters and digits


def _lexeme(token: str, suffix: str = "") -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'" + (":" + suffix if suffix else "")


def _term_query(term, weight: str = "", prefixes: bool = False) -> str:
    """One word or phrase: FTS5's "a b c"* is a <-> b <-> c:* here; `weight` holds it to one column.
    `prefixes`: the index holds prefix lexemes (messages), which a lone word of 3 to 6 letters uses."""
    if prefixes and term.prefix and len(term.tokens) == 1 and len(term.tokens[0]) <= MAX_PREFIX:
        return "(" + _lexeme(PREFIX + term.tokens[0]) + ")"
    parts = [_lexeme(token, weight) for token in term.tokens]
    if term.prefix:
        parts[-1] = _lexeme(term.tokens[-1], "*" + weight)
    return "(" + " <-> ".join(parts) + ")"


def _any_column(term) -> str:
    if len(term.tokens) == 1:
        return _term_query(term)
    # A phrase lies within one of name, notes and handles, as FTS5 keeps it within one column.
    return "(" + " | ".join(_term_query(term, weight) for weight in "ABC") + ")"


def messages_query(parsed, filters) -> str:
    from .index import facet_token

    facets = [_lexeme(token) for token in filters.facets()]
    parts = [_term_query(term, prefixes=True) for term in parsed.include] + facets
    if not parsed.include:
        # Filters alone: every message carries a side, so this is every message that meets them.
        parts.insert(0, "(" + " | ".join(_lexeme(facet_token("side", side)) for side in FACET_CODES["side"]) + ")")
    query = " & ".join(parts)
    if parsed.exclude:
        query = f"({query}) & !({' | '.join(_term_query(term, prefixes=True) for term in parsed.exclude)})"
    return query


def customers_query(parsed) -> str | None:
    if not parsed.include:
        return None
    query = " & ".join(_any_column(term) for term in parsed.include)
    if parsed.exclude:
        query = f"({query}) & !({' | '.join(_any_column(term) for term in parsed.exclude)})"
    return query


# A search first walks the newest WALK messages (newest first, stopping at the window), as FTS5 walks its rowids:
# a common word or phrase fills the window there, whatever the planner would guess about it (its guesses for
# phrases and for several common words at once are far too low). When the walk found enough to expect the next
# DEEPER messages to fill the window (a phrase of medium frequency: "ready stok" is in 1% of the messages), it walks
# on through them: the index would fetch and recheck every older message holding both words, thousands of rows
# read from all over the table. What the walks leave unfilled, the GIN index finds among older messages. Either
# way the index alone gives the keys, and the rows are joined after: joined before the LIMIT, PostgreSQL would
# fetch every match's message, conversation and customer before sorting. Matches in the trash are dropped
# afterwards, and the next batch fetched if that left the window short.
WALK, DEEPER = 5000, 20000
_ROWS = f"""
SELECT f.key, m.id, m.conversation_id, m.side, m.body,
       m.deleted_at IS NULL AND c.deleted_at IS NULL AND cu.deleted_at IS NULL AND cu.merged_into_id IS NULL
FROM found f
LEFT JOIN messages m ON m.id = (f.key & {KEY_SHIFT - 1})::integer
LEFT JOIN conversations c ON c.id = m.conversation_id
LEFT JOIN customers cu ON cu.id = c.customer_id
ORDER BY f.key DESC
"""
# One statement, one round trip: the walk; where it ends; the deeper walk when the first one's matches promise
# half as many again as the window still needs; and only when the walks left the window short, the index below
# their end. Each part past the first runs only when the one before it came short.
HITS_SQL = """
WITH walked AS MATERIALIZED (
  SELECT key FROM (SELECT key, document FROM messages_search WHERE key >= %(low)s AND key < %(high)s
                   ORDER BY key DESC LIMIT %(walk)s) newest
  WHERE document @@ CAST(%(match)s AS tsquery) LIMIT %(window)s
), walk AS MATERIALIZED (
  SELECT count(*) AS found,
         count(*) < %(window)s AND 2 * count(*) * %(deeper)s >= 3 * %(walk)s * (%(window)s - count(*)) AS deeper
  FROM walked
), walk_end AS (
  SELECT key FROM messages_search WHERE key >= %(low)s AND key < %(high)s
  ORDER BY key DESC OFFSET %(walk)s - 1 LIMIT 1
), walked_deeper AS MATERIALIZED (
  SELECT key FROM (SELECT key, document FROM messages_search
                   WHERE (SELECT deeper FROM walk) AND key >= %(low)s AND key < (SELECT key FROM walk_end)
                   ORDER BY key DESC LIMIT %(deeper)s) next_newest
  WHERE document @@ CAST(%(match)s AS tsquery) LIMIT (SELECT %(window)s - found FROM walk)
), walks_end AS (
  SELECT CASE WHEN (SELECT deeper FROM walk)
              THEN (SELECT key FROM messages_search WHERE key >= %(low)s AND key < %(high)s
                    ORDER BY key DESC OFFSET %(walk)s + %(deeper)s - 1 LIMIT 1)
              ELSE (SELECT key FROM walk_end) END AS key
), older AS MATERIALIZED (
  SELECT key FROM messages_search
  WHERE (SELECT found FROM walk) + (SELECT count(*) FROM walked_deeper) < %(window)s
    AND document @@ CAST(%(match)s AS tsquery) AND key >= %(low)s AND key < %(high)s
    AND key + 0 < (SELECT key FROM walks_end)  -- "+ 0": a key range the planner cannot size must not pick the index
  ORDER BY key DESC LIMIT %(window)s
), found AS (
  SELECT key FROM walked UNION ALL SELECT key FROM walked_deeper UNION ALL SELECT key FROM older
  ORDER BY key DESC LIMIT %(window)s
)""" + _ROWS

CUSTOMERS_SQL = """
SELECT s.customer_id, c.display_name, c.notes FROM customers_search s JOIN customers c ON c.id = s.customer_id
WHERE s.document @@ CAST(%(match)s AS tsquery) ORDER BY s.customer_id DESC LIMIT %(limit)s
"""

HANDLES_SQL = """
SELECT customer_id FROM channel_identities WHERE handle ILIKE %(pattern)s ORDER BY id DESC LIMIT %(limit)s
"""


def _spans(body: str, terms) -> list[tuple[int, int]]:
    """Where FTS5's highlight() would mark the terms in `body`: each instance of each word or phrase, a word
    also where it starts a longer one (a prefix term); overlapping instances become one."""
    if body.isascii():  # most chats: lower() keeps every offset, and words are runs of [a-z0-9]
        lowered = body.lower()
        spans = [match.span(1) for term in terms for match in _ascii_pattern(term).finditer(lowered)]
    else:
        spans = _word_spans(body, terms)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@lru_cache(maxsize=256)
def _ascii_pattern(term) -> re.Pattern:
    """The term's instances in lower-case ASCII text, as whole words (the last one's rest too, for a prefix);
    in a lookahead, so that overlapping instances ("ha ha" in "ha ha ha") are all found."""
    words = r"[^a-z0-9]+".join(re.escape(token) for token in term.tokens)
    return re.compile(r"(?=(?<![a-z0-9])(" + words + (r"[a-z0-9]*" if term.prefix else r"(?![a-z0-9])") + "))")


def _word_spans(body: str, terms) -> list[tuple[int, int]]:
    from .query import fold

    found = [(match.start(), match.end(), fold(match.group())) for match in _TOKEN.finditer(body)]
    words = [word for _, _, word in found]
    spans = []
    for term in terms:
        size, last = len(term.tokens), term.tokens[-1]
        for at in range(len(words) - size + 1):
            word = words[at + size - 1]
            if (words[at:at + size - 1] == list(term.tokens[:-1])
                    and (word == last or (term.prefix and word.startswith(last)))):
                spans.append((found[at][0], found[at + size - 1][1]))
    return spans


def mark_words(body: str, terms) -> str:
    from .query import CLOSE, OPEN

    pieces, at = [], 0
    for start, end in _spans(body, terms):
        pieces += [body[at:start], OPEN, body[start:end], CLOSE]
        at = end
    return "".join(pieces) + body[at:]


def marked_fragment(body: str, terms, tokens: int = 16) -> str | None:
    """FTS5's snippet(): about `tokens` words around the first match, marked; None when nothing matches."""
    from .query import CLOSE, OPEN

    spans = _spans(body, terms)
    if not spans:
        return None
    words = [(match.start(), match.end()) for match in _TOKEN.finditer(body)]
    first = next(index for index, (start, _end) in enumerate(words) if start >= spans[0][0])
    begin = max(0, min(first - tokens // 4, len(words) - tokens))
    end = min(len(words), begin + tokens)
    start_char = 0 if begin == 0 else words[begin][0]
    end_char = len(body) if end == len(words) else words[end - 1][1]
    pieces, at = [], start_char
    for start, stop in spans:
        if start >= start_char and stop <= end_char:
            pieces += [body[at:start], OPEN, body[start:stop], CLOSE]
            at = stop
    return ("…" if begin else "") + "".join(pieces) + body[at:end_char] + ("…" if end < len(words) else "")


def hits(parsed, filters, low: int, high: int, window: int) -> list[tuple]:
    """(key, message id, conversation id, side, marked body, length, tainted) of the newest live matches."""
    from .query import CLOSE, OPEN

    params = {"match": messages_query(parsed, filters), "low": low, "high": high, "walk": WALK, "deeper": DEEPER}
    found = []
    while len(found) < window:
        # A few more than the window needs: a match or two in the trash should not cost a second round trip.
        wanted = window - len(found) + (window - len(found)) // 10 + 2
        batch = _cursor().execute(HITS_SQL, {**params, "window": wanted}).fetchall()
        found += [row[:5] for row in batch if row[5]]
        if len(batch) < wanted:
            break
        params["high"] = batch[-1][0]  # the window is full, but some were in the trash: on from the last one
    del found[window:]
    return [(key, message_id, conversation_id, side, mark_words(body, parsed.include), len(body),
             OPEN in body or CLOSE in body) for key, message_id, conversation_id, side, body in found]


def matching_customers(parsed, limit: int) -> list[tuple[int, bool, str | None]]:
    """(customer id, matched in the name, the marked part of the notes) of live customers, newest first."""
    match = customers_query(parsed)
    if match is None:
        return []
    rows = _cursor().execute(CUSTOMERS_SQL, {"match": match, "limit": limit}).fetchall()
    return [(customer_id, bool(_spans(name, parsed.include)), marked_fragment(notes or "", parsed.include))
            for customer_id, name, notes in rows]


def handle_matches(fragment: str, limit: int) -> list[int]:
    pattern = "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [row[0] for row in _cursor().execute(HANDLES_SQL, {"pattern": pattern, "limit": limit}).fetchall()]


def describe(conversation_ids: list[int]) -> list[tuple]:
    """crm.search.query._describe's row for each conversation, times made aware."""
    rows = _cursor().execute(
        "SELECT c.id, c.channel, c.first_message_at, c.last_message_at, cu.id, cu.display_name, cu.stage, u.name "
        "FROM conversations c JOIN customers cu ON cu.id = c.customer_id LEFT JOIN users u ON u.id = c.logged_by_id "
        "WHERE c.id = ANY(%s)", (conversation_ids,)).fetchall()
    return [(row[0], row[1], _aware(row[2]), _aware(row[3]), *row[4:]) for row in rows]


def customers_with_handles(customer_ids: list[int], stage: str | None) -> list[tuple]:
    """(id, name, stage, channel, handle) of the live ones among the customers, a row per handle."""
    return _cursor().execute(
        "SELECT c.id, c.display_name, c.stage, i.channel, i.handle FROM customers c "
        "LEFT JOIN channel_identities i ON i.customer_id = c.id "
        "WHERE c.id = ANY(%s) AND c.deleted_at IS NULL AND c.merged_into_id IS NULL "
        "AND (CAST(%s AS text) IS NULL OR c.stage = %s) ORDER BY i.id", (customer_ids, stage, stage)).fetchall()


def _aware(value):
    from datetime import timezone

    return value.replace(tzinfo=timezone.utc) if value else None


def _cursor():
    """A psycopg cursor on the session's connection (same transaction), as crm.search.query uses sqlite3's."""
    return db.session.connection().connection.driver_connection.cursor()
