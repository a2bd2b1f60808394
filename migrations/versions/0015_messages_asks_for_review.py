"""messages: whether a message of ours asks the customer for a review, read from its text once as it is written,
with a partial index of those few by chat and time, so Today's "ask for a review" reads no chat text

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 15:00:00

The flag is filled at the end by the app's own reading (`crm.kept.refresh_review_requests`, through a session on this
migration's connection), so it is computed exactly as it will be from now on. The column is added without batch
mode: a rebuilt table would lose the search index's triggers (0002).
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('messages', sa.Column('asks_for_review', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_messages_asks_for_review', 'messages', ['conversation_id', 'sent_at'], unique=False,
                    sqlite_where=sa.text("asks_for_review = 1"), postgresql_where=sa.text("asks_for_review = true"))
    _fill()


def _fill():
    from crm.extensions import session_on
    from crm.kept import refresh_review_requests

    with session_on(op.get_bind()):
        refresh_review_requests()


def downgrade():
    op.drop_index('ix_messages_asks_for_review', table_name='messages')
    op.drop_column('messages', 'asks_for_review')
