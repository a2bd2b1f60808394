"""orders: items, payment, shipping and a dated step per status; sales become paid orders; customers' address;
suggestions dismissed from the chat

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00

Every sale becomes an order of the same customer, channel, amount (its total; "amount not known", 0011, an
unknown total), recorder and creation time, with the steps "awaiting payment" and "paid" on the sale's day (at
the time it was recorded when that was the same day in the shop's zone, else at noon), so Today, the customer
page and the report count it where they did.
The sales table goes: "won" counts paid orders from here on. Going down makes a sale of each paid order.
"""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CHANNELS = "('whatsapp', 'instagram', 'facebook', 'tiktok', 'x', 'telegram', 'email', 'phone', 'other')"
STATUSES = "('awaiting_payment', 'paid', 'packed', 'shipped', 'delivered', 'returned', 'cancelled')"
METHODS = "('bank_transfer', 'ewallet', 'cod', 'marketplace')"


def _zone() -> ZoneInfo:
    try:
        from flask import current_app

        return ZoneInfo(current_app.config["SHOP_TIMEZONE"])
    except (RuntimeError, KeyError):
        return ZoneInfo("Asia/Jakarta")


def _as_utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _naive(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def upgrade():
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('payment_method', sa.String(length=20), nullable=True),
    sa.Column('shipping_cost', sa.Integer(), nullable=False),
    sa.Column('discount', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('courier', sa.String(length=20), nullable=False),
    sa.Column('tracking_number', sa.String(length=40), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('recipient_phone', sa.String(length=40), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source_message_id', sa.Integer(), nullable=True),
    sa.Column('review_asked_at', sa.DateTime(), nullable=True),
    sa.Column('repeat_reminded_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f('ck_orders_channel')),
    sa.CheckConstraint(f"status IN {STATUSES}", name=op.f('ck_orders_status')),
    sa.CheckConstraint(f"payment_method IS NULL OR payment_method IN {METHODS}", name=op.f('ck_orders_payment_method')),
    sa.CheckConstraint('shipping_cost >= 0 AND discount >= 0 AND (total IS NULL OR total >= 0)',
                       name=op.f('ck_orders_amounts')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_orders_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_orders_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_orders_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_message_id'], ['messages.id'], name=op.f('fk_orders_source_message_id_messages'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('source_message_id', name=op.f('uq_orders_source_message_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_orders_status_customer', ['status', 'customer_id'], unique=False)

    op.create_table('order_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('variant', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity >= 1 AND (unit_price IS NULL OR unit_price >= 0)', name=op.f('ck_order_items_item')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_items_order_id_orders'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_items'))
    )
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_items_order_id'), ['order_id'], unique=False)

    op.create_table('order_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(f"status IN {STATUSES}", name=op.f('ck_order_steps_status')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_order_steps_message_id_messages'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_steps_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_order_steps_recorded_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_steps')),
    sa.UniqueConstraint('order_id', 'status', name='uq_order_steps_order_status')
    )
    with op.batch_alter_table('order_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_steps_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_order_steps_status_at', ['status', 'at', 'order_id'], unique=False)

    op.create_table('dismissed_suggestions',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('dismissed_by_id', sa.Integer(), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dismissed_by_id'], ['users.id'],
                            name=op.f('fk_dismissed_suggestions_dismissed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_dismissed_suggestions_message_id_messages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'kind', name=op.f('pk_dismissed_suggestions'))
    )
    # Not in batch mode: a rebuilt customers table would lose the search index's triggers (0002).
    op.add_column('customers', sa.Column('address', sa.Text(), nullable=False, server_default=''))

    _sales_to_orders()
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_sold_on'))
        batch_op.drop_index(batch_op.f('ix_sales_customer_id'))
    op.drop_table('sales')


def _sales_to_orders():
    connection = op.get_bind()
    zone = _zone()
    sales = connection.execute(sa.text(
        "SELECT id, customer_id, amount, sold_on, channel, created_by_id, created_at FROM sales ORDER BY id"
    )).mappings().all()
    for sale in sales:
        sold_on = sale["sold_on"] if isinstance(sale["sold_on"], date) else date.fromisoformat(str(sale["sold_on"]))
        created_at = _as_utc(sale["created_at"])
        local = created_at.astimezone(zone)
        paid_at = created_at if local.date() == sold_on else datetime.combine(sold_on, time(12), tzinfo=zone)
        order_id = connection.execute(sa.text(
            "INSERT INTO orders (customer_id, channel, status, shipping_cost, discount, total, courier,"
            " tracking_number, recipient_name, recipient_phone, address, note, created_by_id, created_at,"
            " updated_at) VALUES (:customer_id, :channel, 'paid', 0, 0, :amount, '', '', '', '', '', '',"
            " :created_by_id, :created_at, :created_at) RETURNING id"
        ), {"customer_id": sale["customer_id"], "channel": sale["channel"], "amount": sale["amount"],
            "created_by_id": sale["created_by_id"], "created_at": _naive(created_at)}).scalar_one()
        for status in ("awaiting_payment", "paid"):
            connection.execute(sa.text(
                "INSERT INTO order_steps (order_id, status, at, recorded_by_id, recorded_at)"
                " VALUES (:order_id, :status, :at, :by, :recorded_at)"
            ), {"order_id": order_id, "status": status, "at": _naive(paid_at), "by": sale["created_by_id"],
                "recorded_at": _naive(created_at)})


def downgrade():
    op.create_table('sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=True),  # None: amount not known (0011)
    sa.Column('sold_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f('ck_sales_channel')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_sales_amount')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sales_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sales_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales'))
    )
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_sold_on'), ['sold_on'], unique=False)
    connection = op.get_bind()
    zone = _zone()
    paid = connection.execute(sa.text(
        "SELECT o.customer_id, o.total, o.channel, o.created_by_id, o.created_at, s.at FROM orders o"
        " JOIN order_steps s ON s.order_id = o.id AND s.status = 'paid'"
        " WHERE o.status NOT IN ('cancelled', 'returned') ORDER BY s.at, o.id"
    )).mappings().all()
    for order in paid:
        connection.execute(sa.text(
            "INSERT INTO sales (customer_id, amount, sold_on, channel, created_by_id, created_at)"
            " VALUES (:customer_id, :amount, :sold_on, :channel, :created_by_id, :created_at)"
        ), {"customer_id": order["customer_id"], "amount": order["total"],
            "sold_on": _as_utc(order["at"]).astimezone(zone).date(), "channel": order["channel"],
            "created_by_id": order["created_by_id"], "created_at": _naive(_as_utc(order["created_at"]))})

    op.drop_column('customers', 'address')
    op.drop_table('dismissed_suggestions')
    with op.batch_alter_table('order_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_order_steps_status_at')
        batch_op.drop_index(batch_op.f('ix_order_steps_message_id'))
    op.drop_table('order_steps')
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_items_order_id'))
    op.drop_table('order_items')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_customer')
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))
        batch_op.drop_index(batch_op.f('ix_orders_conversation_id'))
    op.drop_table('orders')
