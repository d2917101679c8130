"""routing_decisions (the router's choice and the core's reason per decision) and call_holds,
for the call's journey and handle time

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agent_extension', sa.String(length=4), nullable=False),
    sa.Column('skill', sa.String(length=32), nullable=False),
    sa.Column('service_class', sa.String(length=12), nullable=False),
    sa.Column('callback', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid', 'agent_extension', 'decided_at', name='uq_routing_decisions')
    )
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_decisions_call_uniqueid'), ['call_uniqueid'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_decisions_decided_at'), ['decided_at'], unique=False)

    op.create_table('call_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('extension', sa.String(length=4), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('hold', 'resume')", name='ck_call_holds_action'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid', 'extension', 'at', 'action', name='uq_call_holds')
    )
    with op.batch_alter_table('call_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_holds_call_uniqueid'), ['call_uniqueid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_holds_call_uniqueid'))
    op.drop_table('call_holds')
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_decisions_decided_at'))
        batch_op.drop_index(batch_op.f('ix_routing_decisions_call_uniqueid'))
    op.drop_table('routing_decisions')
