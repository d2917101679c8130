"""recordings (issue 11): metadata, checksum, flags, retention and legal hold per call recording;
the recording notice per access number

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recordings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('problem', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retain_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('legal_hold', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('hold_by', sa.String(length=40), nullable=True),
    sa.Column('hold_reason', sa.String(length=200), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("problem IS NULL OR problem IN ('missing', 'unplayable', 'altered')",
                       name='ck_recordings_problem'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid')
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recordings_problem'), ['problem'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_retain_until'), ['retain_until'], unique=False)
    with op.batch_alter_table('access_numbers') as batch_op:
        batch_op.add_column(sa.Column('recording_notice', sa.Boolean(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('access_numbers') as batch_op:
        batch_op.drop_column('recording_notice')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_retain_until'))
        batch_op.drop_index(batch_op.f('ix_recordings_problem'))
    op.drop_table('recordings')
