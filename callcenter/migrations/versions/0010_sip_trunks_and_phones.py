"""carriers (SIP trunks), the access numbers they deliver, agents' SIP phone credentials

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carriers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=24), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('password', sa.String(length=128), nullable=True),
    sa.Column('register', sa.Boolean(), nullable=False),
    sa.Column('outbound', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('access_numbers',
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('carrier_id', sa.Integer(), nullable=False),
    sa.Column('entry', sa.String(length=40), nullable=True),
    sa.Column('skill', sa.String(length=32), nullable=True),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.CheckConstraint('entry IS NULL OR skill IS NULL', name='ck_access_numbers_one_target'),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('access_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_numbers_carrier_id'), ['carrier_id'], unique=False)
    op.create_table('agent_phones',
    sa.Column('extension', sa.String(length=4), nullable=False),
    sa.Column('sip_password', sa.String(length=64), nullable=False),
    sa.Column('webrtc_password', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('extension')
    )


def downgrade() -> None:
    op.drop_table('agent_phones')
    with op.batch_alter_table('access_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_numbers_carrier_id'))
    op.drop_table('access_numbers')
    op.drop_table('carriers')
