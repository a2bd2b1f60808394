"""import jobs: imports run in the background and write hidden until they publish; names customers were imported under

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:00:00

import_jobs holds each import's options, progress and summary. Customers and conversations get import_job_id:
set while an import that made them is still running (deleted_at is set too, so every page leaves them out);
the import's last, short transaction clears both. imported_names remembers the names a customer's chats came
under, so the same chat imported again finds them after a rename or a merge.

The two columns are added with ALTER TABLE (no batch rebuild), so the search index's triggers on customers and
conversations stay; the downgrade rebuilds those tables and then the search index (see 0002).
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

STATUSES = "('queued', 'running', 'confirm', 'done', 'failed', 'interrupted', 'discarded')"


def upgrade():
    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('source_name', sa.String(length=255), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('upload', sa.Boolean(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('lines_read', sa.Integer(), nullable=False),
    sa.Column('messages_total', sa.Integer(), nullable=False),
    sa.Column('messages_done', sa.Integer(), nullable=False),
    sa.Column('messages_saved', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('pending', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint(f"status IN {STATUSES}", name=op.f('ck_import_jobs_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_jobs_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_jobs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_import_jobs_status', ['status', 'id'], unique=False)

    op.create_table('imported_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_imported_names_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_names')),
    sa.UniqueConstraint('channel', 'name_key', 'customer_id', name='uq_imported_names_channel_name_key_customer_id')
    )
    with op.batch_alter_table('imported_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_names_customer_id'), ['customer_id'], unique=False)

    # Plain ALTER TABLE ADD COLUMN (SQLite allows a REFERENCES clause on a new column that defaults to NULL).
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ('customers', 'conversations'):
        if sqlite:  # a named column constraint, as the models' naming convention names it
            op.execute(f"ALTER TABLE {table} ADD COLUMN import_job_id INTEGER CONSTRAINT "
                       f"fk_{table}_import_job_id_import_jobs REFERENCES import_jobs (id)")
        else:
            op.add_column(table, sa.Column('import_job_id', sa.Integer(), nullable=True))
            op.create_foreign_key(op.f(f'fk_{table}_import_job_id_import_jobs'), table, 'import_jobs',
                                  ['import_job_id'], ['id'])
        op.create_index(op.f(f'ix_{table}_import_job_id'), table, ['import_job_id'], unique=False)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the batch rebuilds below would trip over the search triggers: they are made again at the end
        from crm.search.index import create_statements, drop_statements

        for statement in drop_statements():
            op.execute(statement)
    for table in ('conversations', 'customers'):
        if not sqlite:
            op.drop_constraint(op.f(f'fk_{table}_import_job_id_import_jobs'), table, type_='foreignkey')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_import_job_id'))
            batch_op.drop_column('import_job_id')
    with op.batch_alter_table('imported_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_names_customer_id'))
    op.drop_table('imported_names')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_status')
        batch_op.drop_index(batch_op.f('ix_import_jobs_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_import_jobs_created_at'))
    op.drop_table('import_jobs')
    if sqlite:
        for statement in create_statements(before_0013=True):
            op.execute(statement)
