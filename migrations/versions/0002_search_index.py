"""search index: SQLite FTS5 tables over messages, customers and handles, kept in sync by triggers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00

Only on SQLite: another database gets its own index (crm/search.py falls back to LIKE there).
The index holds live rows only (messages.deleted_at, customers.deleted_at and customers.merged_into_id
are null); triggers keep it so on every insert, update and delete, also for raw bulk INSERTs, and
`flask --app app reindex` rebuilds it from the tables (crm/search.py rebuild_index, the same expressions).

messages_fts's rowid is not the message id but a time key, seconds(sent_at) * 2**31 + id: newest first
is then FTS5's own rowid order, cheap however common the word, and a date range is a rowid range.
Migrations do not import the app, so the statements are written out here; tests check that a rebuild
gives exactly what the triggers keep.
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TOKENIZE = "unicode61 remove_diacritics 2"


def _message_key(row):
    return f"(coalesce(CAST(strftime('%s', {row}.sent_at) AS INTEGER), 0) * 2147483648 + {row}.id)"


def _refresh_customer(customer_id):
    # Delete then re-insert: the customer's name, notes and every handle as one document, if still live.
    return f"""
    DELETE FROM customers_fts WHERE rowid = {customer_id};
    INSERT INTO customers_fts(rowid, name, notes, handles)
      SELECT c.id, c.display_name, c.notes,
             coalesce((SELECT group_concat(i.handle, ' ') FROM channel_identities i WHERE i.customer_id = c.id), '')
      FROM customers c
      WHERE c.id = {customer_id} AND c.deleted_at IS NULL AND c.merged_into_id IS NULL;"""


STATEMENTS = (
    f"""CREATE VIRTUAL TABLE messages_fts USING fts5(body, tokenize="{TOKENIZE}", prefix='2 3')""",
    f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
      INSERT INTO messages_fts(rowid, body) VALUES ({_message_key('new')}, new.body);
    END""",
    f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
      DELETE FROM messages_fts WHERE rowid = {_message_key('old')};
    END""",
    f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, body, sent_at, deleted_at ON messages BEGIN
      DELETE FROM messages_fts WHERE rowid = {_message_key('old')};
      INSERT INTO messages_fts(rowid, body) SELECT {_message_key('new')}, new.body WHERE new.deleted_at IS NULL;
    END""",
    f"""CREATE VIRTUAL TABLE customers_fts USING fts5(name, notes, handles, tokenize="{TOKENIZE}", prefix='2 3')""",
    f"""CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN{_refresh_customer('new.id')}
    END""",
    f"""CREATE TRIGGER customers_fts_update AFTER UPDATE OF id, display_name, notes, deleted_at, merged_into_id
    ON customers BEGIN
      DELETE FROM customers_fts WHERE rowid = old.id;{_refresh_customer('new.id')}
    END""",
    """CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
      DELETE FROM customers_fts WHERE rowid = old.id;
    END""",
    # Handles again, as trigrams: any part of a phone number or a handle ("3456", "sari.bat") is found.
    """CREATE VIRTUAL TABLE identities_fts USING fts5(handle, tokenize='trigram')""",
    f"""CREATE TRIGGER identities_fts_insert AFTER INSERT ON channel_identities BEGIN
      INSERT INTO identities_fts(rowid, handle) VALUES (new.id, new.handle);{_refresh_customer('new.customer_id')}
    END""",
    f"""CREATE TRIGGER identities_fts_update AFTER UPDATE OF id, handle, customer_id ON channel_identities BEGIN
      DELETE FROM identities_fts WHERE rowid = old.id;
      INSERT INTO identities_fts(rowid, handle) VALUES (new.id, new.handle);{_refresh_customer('old.customer_id')}
      {_refresh_customer('new.customer_id')}
    END""",
    f"""CREATE TRIGGER identities_fts_delete AFTER DELETE ON channel_identities BEGIN
      DELETE FROM identities_fts WHERE rowid = old.id;{_refresh_customer('old.customer_id')}
    END""",
    # Fill the index from what is there already.
    f"""INSERT INTO messages_fts(rowid, body) SELECT {_message_key('messages')}, body FROM messages
      WHERE deleted_at IS NULL""",
    """INSERT INTO customers_fts(rowid, name, notes, handles)
      SELECT c.id, c.display_name, c.notes,
             coalesce((SELECT group_concat(i.handle, ' ') FROM channel_identities i WHERE i.customer_id = c.id), '')
      FROM customers c WHERE c.deleted_at IS NULL AND c.merged_into_id IS NULL""",
    """INSERT INTO identities_fts(rowid, handle) SELECT id, handle FROM channel_identities""",
)

DROPS = (
    "DROP TRIGGER IF EXISTS identities_fts_delete",
    "DROP TRIGGER IF EXISTS identities_fts_update",
    "DROP TRIGGER IF EXISTS identities_fts_insert",
    "DROP TABLE IF EXISTS identities_fts",
    "DROP TRIGGER IF EXISTS customers_fts_delete",
    "DROP TRIGGER IF EXISTS customers_fts_update",
    "DROP TRIGGER IF EXISTS customers_fts_insert",
    "DROP TABLE IF EXISTS customers_fts",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in DROPS:
        op.execute(statement)
