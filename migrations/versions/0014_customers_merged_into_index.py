"""customers: a partial index of the customers merged into another, so orders and the report leave out the
customers who no longer count (trashed or merged away) from two small indexes instead of reading every
order's customer

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

MERGED = sa.text("merged_into_id IS NOT NULL")


def upgrade():
    op.create_index('ix_customers_merged_into_id', 'customers', ['merged_into_id'], unique=False,
                    sqlite_where=MERGED, postgresql_where=MERGED)


def downgrade():
    op.drop_index('ix_customers_merged_into_id', table_name='customers')
