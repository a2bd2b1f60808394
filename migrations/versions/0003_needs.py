"""needs: the starter need tags, and an index for "waiting on us"

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:00:00

The starter tags come from crm.needs.matching (pure data, no app, no database), so a new shop starts with the
current starter set; a shop that already has a tag of the same name keeps its own. Downgrade removes
only starter tags nobody edited.

"Waiting on us" lists live conversations whose last message is the customer's, longest wait first:
(last_side, last_message_at) answers it from the index at any size of shop, and with customer_id and
deleted_at in it too, counting them never reads the table. "New prospects this week" counts customers
by created_at.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _starter_rows():
    from crm.needs.matching import STARTER_TAGS

    return [
        {"name": t.name, "title": t.title_en, "colour": t.colour, "kind": t.kind, "keywords": "\n".join(t.keywords)}
        for t in STARTER_TAGS
    ]


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_waiting', ['last_side', 'last_message_at', 'customer_id', 'deleted_at'],
                              unique=False)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_created_at'), ['created_at'], unique=False)

    tags = sa.table('tags', sa.column('name', sa.String), sa.column('title', sa.String),
                    sa.column('colour', sa.String), sa.column('kind', sa.String), sa.column('keywords', sa.Text))
    have = {row[0] for row in op.get_bind().execute(sa.select(tags.c.name))}
    op.bulk_insert(tags, [row for row in _starter_rows() if row["name"] not in have])


def downgrade():
    tags = sa.table('tags', sa.column('name', sa.String), sa.column('title', sa.String),
                    sa.column('colour', sa.String), sa.column('kind', sa.String), sa.column('keywords', sa.Text))
    for row in _starter_rows():
        op.execute(tags.delete().where(*(tags.c[key] == value for key, value in row.items())))

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_created_at'))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_waiting')
