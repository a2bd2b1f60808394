"""search index: the insert trigger leaves an import job's messages out; the job indexes them in large ordered
chunks before it publishes (crm.search.index.index_job_messages)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 20:00:00

Only the one trigger changes, so nothing is reindexed: what jobs wrote before is indexed already.
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    from crm.search.index import insert_trigger_statements

    for statement in insert_trigger_statements():
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    from crm.search.index import insert_trigger_statements

    for statement in insert_trigger_statements(before_0013=True):
        op.execute(statement)
