"""acd: agent skills, queues, agent state log, call queued_at

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_state_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.String(length=32), nullable=False),
    sa.Column('extension', sa.String(length=4), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stream_id')
    )
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_state_log_extension'), ['extension'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_state_log_started_at'), ['started_at'], unique=False)

    op.create_table('queues',
    sa.Column('skill', sa.String(length=32), nullable=False),
    sa.Column('ring_time_s', sa.Integer(), nullable=False),
    sa.Column('wrapup_s', sa.Integer(), nullable=False),
    sa.Column('service_level_s', sa.Integer(), nullable=False),
    sa.Column('overflow', sa.String(length=100), nullable=False),
    sa.Column('no_answer_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('skill')
    )
    op.create_table('agent_skills',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('skill', sa.String(length=32), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name='ck_agent_skills_level'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'skill')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('queued_at')

    op.drop_table('agent_skills')
    op.drop_table('queues')
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_state_log_started_at'))
        batch_op.drop_index(batch_op.f('ix_agent_state_log_extension'))

    op.drop_table('agent_state_log')
