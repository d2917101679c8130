"""ivr: password lockout, recharge cards, work orders, callbacks, journey

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_journey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('input', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid', 'seq', name='uq_call_journey_seq')
    )
    with op.batch_alter_table('call_journey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_journey_call_uniqueid'), ['call_uniqueid'], unique=False)

    op.create_table('callback_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid')
    )
    op.create_table('work_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('caller_number', sa.String(length=32), nullable=True),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_orders_customer_id'), ['customer_id'], unique=False)

    op.create_table('recharge_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('pin_hash', sa.String(length=256), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by_account_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['used_by_account_id'], ['accounts.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('password_verified', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('handoff_reason', sa.String(length=64), nullable=True))

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('password_locked_until', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('password_locked_until')
        batch_op.drop_column('password_failures')

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('handoff_reason')
        batch_op.drop_column('password_verified')
        batch_op.drop_column('language')

    op.drop_table('recharge_cards')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_orders_customer_id'))

    op.drop_table('work_orders')
    op.drop_table('callback_requests')
    with op.batch_alter_table('call_journey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_journey_call_uniqueid'))

    op.drop_table('call_journey')
