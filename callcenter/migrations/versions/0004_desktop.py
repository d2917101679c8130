"""desktop: teams, transfers, wrap-ups, audit log, work order priority

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('call_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('from_extension', sa.String(length=4), nullable=False),
    sa.Column('to_skill', sa.String(length=32), nullable=True),
    sa.Column('to_extension', sa.String(length=4), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('call_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_transfers_call_uniqueid'), ['call_uniqueid'], unique=False)

    op.create_table('call_wrapups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('extension', sa.String(length=4), nullable=False),
    sa.Column('disposition', sa.String(length=24), nullable=False),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid', 'extension', name='uq_call_wrapups_call_agent')
    )
    with op.batch_alter_table('call_wrapups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_wrapups_call_uniqueid'), ['call_uniqueid'], unique=False)

    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id'], name='fk_teams_supervisor', ondelete='SET NULL', use_alter=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_supervisor_id'), ['supervisor_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_team_id'), ['team_id'], unique=False)
        batch_op.create_foreign_key("fk_users_team", 'teams', ['team_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.String(length=8), server_default='normal', nullable=False))
        batch_op.add_column(sa.Column('created_by', sa.String(length=40), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('created_by')
        batch_op.drop_column('priority')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint("fk_users_team", type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_team_id'))
        batch_op.drop_column('team_id')

    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_supervisor_id'))

    op.drop_table('teams')
    with op.batch_alter_table('call_wrapups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_wrapups_call_uniqueid'))

    op.drop_table('call_wrapups')
    with op.batch_alter_table('call_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_transfers_call_uniqueid'))

    op.drop_table('call_transfers')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
