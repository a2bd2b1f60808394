"""search index on PostgreSQL: tsvector tables kept by triggers, unaccent and pg_trgm

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00

Only on PostgreSQL (SQLite's FTS5 index is 0002's). The statements come from crm.search.postgres, as 0002's
come from crm.search.index; `flask --app app reindex` drops and builds the same objects again.
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    from crm.search.postgres import install

    install(op.get_bind())


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    from crm.search.postgres import drop_statements

    for statement in drop_statements():
        op.execute(statement)
