"""ivr_attempts: secrets tried in the voice menu (service password, recharge card PIN), to limit
guessing per customer, card, account and calling number, and per call and day

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ivr_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('caller_number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['card_id'], ['recharge_cards.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ivr_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_ivr_attempts_account', ['kind', 'account_id', 'at'], unique=False)
        batch_op.create_index('ix_ivr_attempts_card', ['kind', 'card_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_attempts_call_uniqueid'), ['call_uniqueid'], unique=False)
        batch_op.create_index('ix_ivr_attempts_customer', ['kind', 'customer_id', 'at'], unique=False)
        batch_op.create_index('ix_ivr_attempts_number', ['kind', 'caller_number', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ivr_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_ivr_attempts_number')
        batch_op.drop_index('ix_ivr_attempts_customer')
        batch_op.drop_index(batch_op.f('ix_ivr_attempts_call_uniqueid'))
        batch_op.drop_index('ix_ivr_attempts_card')
        batch_op.drop_index('ix_ivr_attempts_account')

    op.drop_table('ivr_attempts')
