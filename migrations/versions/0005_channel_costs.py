"""channel costs: what each channel cost the shop per month (ads, boosts, staff hours), entered by the owner

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00

One row per channel and month (month is the 1st of that month); the channel report spreads a month's cost
evenly over its days, so any period gets its share (crm/reports/figures.py).
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CHANNELS = "('whatsapp', 'instagram', 'facebook', 'tiktok', 'x', 'telegram', 'email', 'phone', 'other')"


def upgrade():
    op.create_table('channel_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('ads', sa.Integer(), nullable=False),
    sa.Column('boosts', sa.Integer(), nullable=False),
    sa.Column('staff_hours', sa.Float(), nullable=False),
    sa.Column('hourly_cost', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f('ck_channel_costs_channel')),
    sa.CheckConstraint('ads >= 0 AND boosts >= 0 AND staff_hours >= 0 AND hourly_cost >= 0',
                       name=op.f('ck_channel_costs_not_negative')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_channel_costs_updated_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_costs')),
    sa.UniqueConstraint('channel', 'month', name='uq_channel_costs_channel_month')
    )


def downgrade():
    op.drop_table('channel_costs')
