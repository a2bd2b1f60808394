"""search index: SQLite FTS5 tables over messages, customers and handles, kept in sync by triggers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00

Only on SQLite; on another database search falls back to LIKE (see crm/search/query.py). The statements come
from crm.search.index, the one place that holds FTS5 SQL (like 0003 takes its starter tags from crm.needs):
`flask --app app reindex` drops and builds the same index and triggers, so a later change to them ships
as a migration that calls crm.search.rebuild_index(), and tests check the triggers are there at head.

A batch migration (render_as_batch) that rebuilds messages, conversations, customers, channel_identities
or conversation_tags drops their triggers with the old table: run `flask --app app reindex` after it,
or call rebuild_index() at its end.
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    from crm.search.index import create_statements

    for statement in create_statements(before_0013=True):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    from crm.search.index import drop_statements

    for statement in drop_statements():
        op.execute(statement)
