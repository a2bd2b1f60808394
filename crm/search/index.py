"""The FTS5 index of messages and customers, kept in sync by triggers: its tables, the triggers, the rebuild.

Migration 0002 installs it and `flask reindex` builds it again. Each live message's row sits under a time key,
seconds(sent_at) * 2**31 + id, and carries facet tokens (side, channel, staff, stage, live tags) that the
query intersects like words (see crm.search.query).
"""
from __future__ import annotations

from sqlalchemy import text

from ..extensions import db

KEY_SHIFT = 2**31  # message ids stay below 2**31; seconds * 2**31 fits in 63 bits until 2106

# Facet tokens: one private-use character for the kind, then the value's code in private-use characters.
# unicode61 keeps private-use characters as word characters and nobody types them, so a facet can never
# meet a word. The codes are fixed: add new values at the end and run `flask reindex`.
FACET_KIND = {"side": 0xE010, "channel": 0xE011, "staff": 0xE012, "stage": 0xE013, "tag": 0xE014}
FACET_CODES = {
    "side": {"customer": 1, "staff": 2},
    "channel": {"whatsapp": 1, "instagram": 2, "facebook": 3, "tiktok": 4, "x": 5, "telegram": 6, "email": 7,
                "phone": 8, "other": 9},
    "stage": {"none": 1, "new_lead": 2, "interested": 3, "negotiating": 4, "won": 5, "lost": 6},
}
_LOW, _HIGH, _BASE = 0xE100, 0xF100, 4096


def facet_token(kind: str, value) -> str:
    code = FACET_CODES[kind].get(value, 0) if kind in FACET_CODES else int(value)
    token = chr(FACET_KIND[kind]) + chr(_LOW + code % _BASE)
    return token + (chr(_HIGH + code // _BASE) if code >= _BASE else "")


def _message_key(row: str) -> str:
    return f"(coalesce(CAST(strftime('%s', {row}.sent_at) AS INTEGER), 0) * {KEY_SHIFT} + {row}.id)"


def _code_sql(kind: str, expr: str) -> str:
    cases = " ".join(f"WHEN '{value}' THEN {code}" for value, code in FACET_CODES[kind].items())
    return f"(CASE {expr} {cases} ELSE 0 END)"


def _encode_sql(kind: str, number: str) -> str:
    """facet_token() in SQL; NULL for a NULL number (char(NULL) would give a NUL character)."""
    return (f"CASE WHEN ({number}) IS NOT NULL THEN char({FACET_KIND[kind]}) || char({_LOW} + ({number}) % {_BASE})"
            f" || CASE WHEN ({number}) >= {_BASE} THEN char({_HIGH} + ({number}) / {_BASE}) ELSE '' END END")


def _facets_sql(message: str) -> str:
    """The facet tokens of a message row (alias `message`): the same expression in triggers and rebuild."""
    return f"""coalesce((
      SELECT {_encode_sql('side', _code_sql('side', f'{message}.side'))}
        || ' ' || {_encode_sql('channel', _code_sql('channel', 'c.channel'))}
        || ' ' || {_encode_sql('stage', _code_sql('stage', 'cu.stage'))}
        || coalesce(' ' || {_encode_sql('staff', 'c.logged_by_id')}, '')
        || coalesce(' ' || (SELECT group_concat({_encode_sql('tag', 'ct.tag_id')}, ' ') FROM conversation_tags ct
                            WHERE ct.conversation_id = c.id AND ct.removed_at IS NULL), '')
      FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = {message}.conversation_id
    ), {_encode_sql('side', _code_sql('side', f'{message}.side'))})"""


def _index_messages(where: str) -> str:
    """Statements that (re)write the index rows of the live messages `m` meeting `where`."""
    return f"""
      DELETE FROM messages_fts WHERE rowid IN (SELECT {_message_key('m')} FROM messages m WHERE {where});
      INSERT INTO messages_fts(rowid, body, facets)
        SELECT {_message_key('m')}, m.body, {_facets_sql('m')} FROM messages m
        WHERE {where} AND m.deleted_at IS NULL ORDER BY 1;"""


def _index_customer(customer_id: str) -> str:
    return f"""
      DELETE FROM customers_fts WHERE rowid = {customer_id};
      INSERT INTO customers_fts(rowid, name, notes, handles)
        SELECT c.id, c.display_name, c.notes,
               coalesce((SELECT group_concat(i.handle, ' ') FROM channel_identities i WHERE i.customer_id = c.id), '')
        FROM customers c WHERE c.id = {customer_id} AND c.deleted_at IS NULL AND c.merged_into_id IS NULL;"""


_TOKENIZE = "unicode61 remove_diacritics 2"
_TABLES = {
    "messages_fts": f"""CREATE VIRTUAL TABLE messages_fts USING fts5(body, facets, tokenize="{_TOKENIZE}",
                        prefix='3 4 5 6')""",
    "customers_fts": f"""CREATE VIRTUAL TABLE customers_fts USING fts5(name, notes, handles, tokenize="{_TOKENIZE}",
                         prefix='3')""",
    # Handles again as trigrams: any part of a phone number or a handle ("3456", "sari.bat") is found.
    "identities_fts": "CREATE VIRTUAL TABLE identities_fts USING fts5(handle, tokenize='trigram')",
}
_INSERT_BODY = f"""BEGIN
      INSERT INTO messages_fts(rowid, body, facets) VALUES ({_message_key('new')}, new.body, {_facets_sql('new')});
    END"""
# An import job's messages are left to index_job_messages(): FTS5 writes its pending index out at every commit,
# and a job commits every few hundred messages (so staff can write between its batches), which made the trigger a
# quarter of a big import's time, against under half of that for a few large ordered chunks (bench/README.md).
_INSERT_LEAVING_JOBS = f"""AFTER INSERT ON messages WHEN new.deleted_at IS NULL
      AND (SELECT import_job_id FROM conversations WHERE id = new.conversation_id) IS NULL {_INSERT_BODY}"""
# Before migration 0010 there are no jobs (nor their column), and from 0013 on the trigger leaves them out.
INSERT_TRIGGER_BEFORE_0013 = f"AFTER INSERT ON messages WHEN new.deleted_at IS NULL {_INSERT_BODY}"
_TRIGGERS = {
    "messages_fts_insert": _INSERT_LEAVING_JOBS,
    "messages_fts_delete": f"""AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
      DELETE FROM messages_fts WHERE rowid = {_message_key('old')};
    END""",
    "messages_fts_update": f"""AFTER UPDATE OF id, body, sent_at, side, deleted_at, conversation_id ON messages BEGIN
      DELETE FROM messages_fts WHERE rowid = {_message_key('old')};
      INSERT INTO messages_fts(rowid, body, facets)
        SELECT {_message_key('new')}, new.body, {_facets_sql('new')} WHERE new.deleted_at IS NULL;
    END""",
    "messages_fts_conversation": f"""AFTER UPDATE OF channel, logged_by_id, customer_id ON conversations
    WHEN old.channel IS NOT new.channel OR old.logged_by_id IS NOT new.logged_by_id
      OR old.customer_id IS NOT new.customer_id BEGIN{_index_messages('m.conversation_id = new.id')}
    END""",
    "messages_fts_stage": f"""AFTER UPDATE OF stage ON customers WHEN old.stage IS NOT new.stage BEGIN{
      _index_messages('m.conversation_id IN (SELECT id FROM conversations WHERE customer_id = new.id)')}
    END""",
    "messages_fts_tag_insert": f"""AFTER INSERT ON conversation_tags WHEN new.removed_at IS NULL BEGIN{
      _index_messages('m.conversation_id = new.conversation_id')}
    END""",
    "messages_fts_tag_delete": f"""AFTER DELETE ON conversation_tags WHEN old.removed_at IS NULL BEGIN{
      _index_messages('m.conversation_id = old.conversation_id')}
    END""",
    "messages_fts_tag_update": f"""AFTER UPDATE OF removed_at, tag_id, conversation_id ON conversation_tags
    WHEN (old.removed_at IS NULL) != (new.removed_at IS NULL) OR old.tag_id != new.tag_id
      OR old.conversation_id != new.conversation_id BEGIN{
      _index_messages('m.conversation_id IN (old.conversation_id, new.conversation_id)')}
    END""",
    "customers_fts_insert": f"AFTER INSERT ON customers BEGIN{_index_customer('new.id')}\n    END",
    "customers_fts_update": f"""AFTER UPDATE OF id, display_name, notes, deleted_at, merged_into_id ON customers BEGIN
      DELETE FROM customers_fts WHERE rowid = old.id;{_index_customer('new.id')}
    END""",
    "customers_fts_delete": "AFTER DELETE ON customers BEGIN DELETE FROM customers_fts WHERE rowid = old.id; END",
    "identities_fts_insert": f"""AFTER INSERT ON channel_identities BEGIN
      INSERT INTO identities_fts(rowid, handle) VALUES (new.id, new.handle);{_index_customer('new.customer_id')}
    END""",
    "identities_fts_update": f"""AFTER UPDATE OF id, handle, customer_id ON channel_identities BEGIN
      DELETE FROM identities_fts WHERE rowid = old.id;
      INSERT INTO identities_fts(rowid, handle) VALUES (new.id, new.handle);{_index_customer('old.customer_id')}
      {_index_customer('new.customer_id')}
    END""",
    "identities_fts_delete": f"""AFTER DELETE ON channel_identities BEGIN
      DELETE FROM identities_fts WHERE rowid = old.id;{_index_customer('old.customer_id')}
    END""",
}
_FILL = (
    # In key order: FTS5 writes a segment whenever a rowid is lower than the one before.
    f"""INSERT INTO messages_fts(rowid, body, facets)
      SELECT {_message_key('m')}, m.body, {_facets_sql('m')} FROM messages m WHERE m.deleted_at IS NULL ORDER BY 1""",
    """INSERT INTO customers_fts(rowid, name, notes, handles)
      SELECT c.id, c.display_name, c.notes,
             coalesce((SELECT group_concat(i.handle, ' ') FROM channel_identities i WHERE i.customer_id = c.id), '')
      FROM customers c WHERE c.deleted_at IS NULL AND c.merged_into_id IS NULL""",
    "INSERT INTO identities_fts(rowid, handle) SELECT id, handle FROM channel_identities",
    "INSERT INTO messages_fts(messages_fts) VALUES ('optimize')",
    "INSERT INTO customers_fts(customers_fts) VALUES ('optimize')",
)
INDEX_TABLES = tuple(_TABLES)


def drop_statements() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in _TRIGGERS] + [
        f"DROP TABLE IF EXISTS {name}" for name in _TABLES]


def create_statements(*, before_0013: bool = False) -> list[str]:
    """The index and its triggers, filled from the tables: migration 0002 runs these (`before_0013`: as they were
    then), so does a rebuild."""
    triggers = {**_TRIGGERS, "messages_fts_insert": INSERT_TRIGGER_BEFORE_0013} if before_0013 else _TRIGGERS
    return (list(_TABLES.values()) + [f"CREATE TRIGGER {name} {body}" for name, body in triggers.items()]
            + list(_FILL))


def insert_trigger_statements(*, before_0013: bool = False) -> list[str]:
    """Migration 0013's change: the insert trigger made again, leaving import jobs' messages out (or not)."""
    body = INSERT_TRIGGER_BEFORE_0013 if before_0013 else _INSERT_LEAVING_JOBS
    return ["DROP TRIGGER IF EXISTS messages_fts_insert", f"CREATE TRIGGER messages_fts_insert {body}"]


JOB_CHUNK = 10_000  # message ids per chunk: about 0.2 s of the write lock each on a modest PC


def job_message_chunks(job_id: int) -> list[tuple[int, int]]:
    """Id ranges covering what an import job wrote, for index_job_messages() one range at a time."""
    if db.engine.dialect.name != "sqlite":
        return []  # PostgreSQL's statement-level triggers index each batch in one go
    low, high = db.session.execute(text(
        "SELECT min(m.id), max(m.id) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.import_job_id = :job"), {"job": job_id}).one()
    if low is None:
        return []
    return [(start, min(start + JOB_CHUNK - 1, high)) for start in range(low, high + 1, JOB_CHUNK)]


def index_job_messages(job_id: int, first_id: int, last_id: int) -> None:
    """Index a job's messages with ids in [first_id, last_id], in key order (see _INSERT_LEAVING_JOBS). A tag
    given meanwhile may have indexed some already (its trigger indexes the whole conversation): those go first."""
    where = ("m.id BETWEEN :first AND :last AND m.conversation_id IN "
             "(SELECT id FROM conversations WHERE import_job_id = :job)")
    for statement in _index_messages(where).split(";"):
        if statement.strip():
            db.session.execute(text(statement), {"first": first_id, "last": last_id, "job": job_id})


def rebuild_index() -> bool:
    """Drop and build the whole index and its triggers again (`flask reindex`); False on a database with
    no index of its own."""
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        from . import postgres

        postgres.rebuild()
        return True
    if dialect != "sqlite":
        return False
    for statement in drop_statements() + create_statements():
        db.session.execute(text(statement))
    return True


def index_is_installed() -> bool:
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        from . import postgres

        return postgres.is_installed()
    if dialect != "sqlite":
        return False
    names = {row[0] for row in db.session.execute(
        text("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"))}
    return set(_TABLES) | set(_TRIGGERS) <= names


def index_counts() -> dict[str, int]:
    """Rows in the index: messages, customers and (on SQLite) handles."""
    if db.engine.dialect.name == "postgresql":
        tables = {"messages": "messages_search", "customers": "customers_search"}
    else:
        tables = {"messages": "messages_fts", "customers": "customers_fts", "handles": "identities_fts"}
    return {kind: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for kind, table in tables.items()}


def is_index_table(name: str) -> bool:
    from .postgres import INDEXES, TABLES

    return (any(name == table or name.startswith(table + "_") for table in _TABLES)
            or name in TABLES or name in INDEXES)


def include_in_autogenerate(name, type_, parent_names) -> bool:
    """Alembic's include_name: the index (FTS5's tables and shadow tables, PostgreSQL's tables and indexes)
    is not in the models, and must not be dropped by the next `flask db migrate`."""
    return not (type_ in ("table", "index") and name and is_index_table(name))
