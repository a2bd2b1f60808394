"""kept columns: customers' last activity, first contact, customer since, open wait, score and list facets; conversations'
waits and "no reply needed"; a sale without a known amount; the report's daily figures

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00

Lists order and filter customers by columns kept on the customer (crm/kept.py), so they read no
conversation; the indexes cover live customers only, the lists' own condition. The report adds up daily
rows (crm/reports/daily.py) instead of walking messages. Everything kept is filled at the end by the app's own
code (`crm.kept.rebuild_all`, through a session on this migration's connection), so it is computed exactly as
it will be kept from now on.

Columns are added to customers and conversations without batch mode: a rebuilt table would lose the search
index's triggers (0002). Only sales is rebuilt (its amount may now be empty: "amount unknown").
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL AND merged_into_id IS NULL")
LIVE_WAITING = sa.text("deleted_at IS NULL AND merged_into_id IS NULL AND waiting_since IS NOT NULL")
LIVE_INDEXES = {
    'ix_customers_live_activity': ['last_activity_at', 'id'],
    'ix_customers_live_score': ['score', 'id'],
    'ix_customers_live_name': ['display_name', 'id'],
    'ix_customers_live_expected_value': ['expected_value', 'id'],
    'ix_customers_live_created': ['created_at', 'id'],
    'ix_customers_live_since': ['since_at', 'id'],
    'ix_customers_live_stage': ['stage', 'last_activity_at'],
    'ix_customers_live_assigned': ['assigned_to_id', 'last_activity_at'],
    'ix_customers_live_waiting': ['waiting_since'],
    'ix_customers_live_first_contact': ['first_contact_at'],
}
WAIT_COLUMNS = [f"w{index:02d}" for index in range(54)]


def _daily_columns():
    return [
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('conversations', sa.Integer(), nullable=False),
        sa.Column('customer_messages', sa.Integer(), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('unanswered', sa.Integer(), nullable=False),
        sa.Column('wait_seconds', sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in WAIT_COLUMNS),
    ]


def upgrade():
    op.add_column('customers', sa.Column('last_activity_at', sa.DateTime(), nullable=False,
                                         server_default='1970-01-01 00:00:00.000000'))
    op.add_column('customers', sa.Column('first_contact_at', sa.DateTime(), nullable=True))
    op.add_column('customers', sa.Column('first_conversation_id', sa.Integer(), nullable=True))
    op.add_column('customers', sa.Column('since_at', sa.DateTime(), nullable=False,
                                         server_default='1970-01-01 00:00:00.000000'))
    op.add_column('customers', sa.Column('waiting_since', sa.DateTime(), nullable=True))
    op.add_column('customers', sa.Column('score', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('customers', sa.Column('score_changes_at', sa.DateTime(), nullable=True))
    op.create_index(op.f('ix_customers_score_changes_at'), 'customers', ['score_changes_at'], unique=False)
    for name, columns in LIVE_INDEXES.items():
        where = LIVE_WAITING if name == 'ix_customers_live_waiting' else LIVE
        op.create_index(name, 'customers', columns, unique=False, sqlite_where=where, postgresql_where=where)
    # Over the trash only: over every customer, the planner took it for "deleted_at IS NULL" and read them all.
    op.drop_index('ix_customers_deleted_at', table_name='customers')
    op.create_index('ix_customers_deleted_at', 'customers', ['deleted_at'], unique=False,
                    sqlite_where=sa.text('deleted_at IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NOT NULL'))

    op.add_column('conversations', sa.Column('waiting_since', sa.DateTime(), nullable=True))
    op.add_column('conversations', sa.Column('no_reply', sa.String(length=10), nullable=True))
    op.add_column('conversations', sa.Column('no_reply_through', sa.DateTime(), nullable=True))
    op.drop_index('ix_conversations_waiting', table_name='conversations')
    op.create_index('ix_conversations_waiting', 'conversations', ['waiting_since', 'customer_id', 'deleted_at'],
                    unique=False)
    op.create_index('ix_conversations_no_reply', 'conversations', ['no_reply', 'last_message_at'], unique=False)
    op.drop_index('ix_conversations_deleted_at', table_name='conversations')
    op.create_index('ix_conversations_deleted_at', 'conversations', ['deleted_at'], unique=False,
                    sqlite_where=sa.text('deleted_at IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NOT NULL'))

    op.create_table('customer_facets',
    sa.Column('facet', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_facets_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('facet', 'customer_id', name=op.f('pk_customer_facets'))
    )
    op.create_index(op.f('ix_customer_facets_customer_id'), 'customer_facets', ['customer_id'], unique=False)

    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.alter_column('amount', existing_type=sa.Integer(), nullable=True)

    op.create_table('conversation_figures',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('tag_ids', sa.String(length=200), nullable=False),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('customer_messages', sa.Integer(), nullable=False),
    sa.Column('unanswered', sa.Integer(), nullable=False),
    sa.Column('waits', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_conversation_figures_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'day', name=op.f('pk_conversation_figures'))
    )
    op.create_table('daily_figures',
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    *_daily_columns(),
    sa.PrimaryKeyConstraint('day', 'channel', 'staff_id', name=op.f('pk_daily_figures'))
    )
    op.create_table('daily_tag_figures',
    sa.Column('tag_id', sa.Integer(), nullable=False),
    *_daily_columns(),
    sa.PrimaryKeyConstraint('day', 'tag_id', name=op.f('pk_daily_tag_figures'))
    )

    _fill_kept_columns()


def _fill_kept_columns():
    from crm.extensions import session_on
    from crm.kept import rebuild_all

    with session_on(op.get_bind()):
        rebuild_all(review_requests=False)  # that column comes with 0015, which fills it


def downgrade():
    op.drop_index(op.f('ix_customer_facets_customer_id'), table_name='customer_facets')
    op.drop_table('customer_facets')
    op.drop_table('daily_tag_figures')
    op.drop_table('daily_figures')
    op.drop_table('conversation_figures')

    op.execute("DELETE FROM sales WHERE amount IS NULL")
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.alter_column('amount', existing_type=sa.Integer(), nullable=False)

    op.drop_index('ix_conversations_no_reply', table_name='conversations')
    op.drop_index('ix_conversations_deleted_at', table_name='conversations')
    op.create_index('ix_conversations_deleted_at', 'conversations', ['deleted_at'], unique=False)
    op.drop_index('ix_conversations_waiting', table_name='conversations')
    op.create_index('ix_conversations_waiting', 'conversations', ['last_side', 'last_message_at', 'customer_id',
                                                                  'deleted_at'], unique=False)
    for name in ('no_reply_through', 'no_reply', 'waiting_since'):
        op.drop_column('conversations', name)

    for name in LIVE_INDEXES:
        op.drop_index(name, table_name='customers')
    op.drop_index('ix_customers_deleted_at', table_name='customers')
    op.create_index('ix_customers_deleted_at', 'customers', ['deleted_at'], unique=False)
    op.drop_index(op.f('ix_customers_score_changes_at'), table_name='customers')
    for name in ('score_changes_at', 'score', 'waiting_since', 'since_at', 'first_conversation_id',
                 'first_contact_at', 'last_activity_at'):
        op.drop_column('customers', name)
