"""quick replies, the shop's settings, replies sent through click-to-chat links, and the starter quick replies

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00

- quick_replies: shop-wide (personal_of_id NULL) or one person's; a shortcut is unique among the live shop-wide
  ones and among each person's own (two partial unique indexes, so the database holds it under two staff
  saving at once). A new shop starts with the starter set of crm.replies.starter, Indonesian and English.
- quick_reply_uses: one row per quick reply put into a saved or sent reply (usage count, last use, report).
- reply_links: a click-to-chat link opened from Obrolan, with the message it logged (if it carried a text).
- shop_settings: what the owner types on the Shop details page (name, bank accounts, nudges), one row per key.

Downgrade removes the tables, starter replies with them.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CHANNELS = "('whatsapp', 'instagram', 'facebook', 'tiktok', 'x', 'telegram', 'email', 'phone', 'other')"


def upgrade():
    op.create_table('shop_settings',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_shop_settings_updated_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_shop_settings'))
    )
    op.create_table('quick_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shortcut', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('personal_of_id', sa.Integer(), nullable=True),
    sa.Column('starter', sa.String(length=40), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_quick_replies_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['personal_of_id'], ['users.id'], name=op.f('fk_quick_replies_personal_of_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quick_replies'))
    )
    with op.batch_alter_table('quick_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quick_replies_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index('uq_quick_replies_personal_shortcut', ['personal_of_id', 'shortcut'], unique=True,
                              sqlite_where=sa.text('deleted_at IS NULL'),
                              postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('uq_quick_replies_shop_shortcut', ['shortcut'], unique=True,
                              sqlite_where=sa.text('personal_of_id IS NULL AND deleted_at IS NULL'),
                              postgresql_where=sa.text('personal_of_id IS NULL AND deleted_at IS NULL'))

    op.create_table('reply_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('handle', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f('ck_reply_links_channel')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_reply_links_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_reply_links_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_reply_links_message_id_messages'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reply_links_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_links'))
    )
    with op.batch_alter_table('reply_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_links_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_links_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_links_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_links_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index('ix_reply_links_user_opened', ['user_id', 'opened_at'], unique=False)

    op.create_table('quick_reply_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quick_reply_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('reply_link_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_quick_reply_uses_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quick_reply_id'], ['quick_replies.id'],
                            name=op.f('fk_quick_reply_uses_quick_reply_id_quick_replies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_link_id'], ['reply_links.id'],
                            name=op.f('fk_quick_reply_uses_reply_link_id_reply_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quick_reply_uses_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quick_reply_uses'))
    )
    with op.batch_alter_table('quick_reply_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quick_reply_uses_reply_link_id'), ['reply_link_id'], unique=False)
        batch_op.create_index('ix_quick_reply_uses_reply_used', ['quick_reply_id', 'used_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quick_reply_uses_used_at'), ['used_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quick_reply_uses_user_id'), ['user_id'], unique=False)

    from crm.replies.starter import starter_reply_rows

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    replies = sa.table('quick_replies', sa.column('starter', sa.String), sa.column('shortcut', sa.String),
                       sa.column('title', sa.String), sa.column('body', sa.Text),
                       sa.column('created_at', sa.DateTime), sa.column('updated_at', sa.DateTime))
    op.bulk_insert(replies, [dict(row, created_at=now, updated_at=now) for row in starter_reply_rows()])


def downgrade():
    op.drop_table('quick_reply_uses')
    op.drop_table('reply_links')
    op.drop_table('quick_replies')
    op.drop_table('shop_settings')
