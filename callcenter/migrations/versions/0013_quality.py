"""quality inspection: scorecards, work list, scores, comments, appeals, calibration

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quality_scorecards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('category', 'version', name='uq_quality_scorecards_version')
    )
    op.create_table('quality_work_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('agent_extension', sa.String(length=4), nullable=False),
    sa.Column('inspector', sa.String(length=40), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('picked_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'scored')", name='ck_quality_work_items_status'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid')
    )
    with op.batch_alter_table('quality_work_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_work_items_agent_extension'), ['agent_extension'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_work_items_inspector'), ['inspector'], unique=False)

    op.create_table('quality_calibrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.JSON(), nullable=True),
    sa.Column('reference_total', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['scorecard_id'], ['quality_scorecards.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quality_calibrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_calibrations_call_uniqueid'), ['call_uniqueid'], unique=False)

    op.create_table('quality_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('agent_extension', sa.String(length=4), nullable=False),
    sa.Column('inspector', sa.String(length=40), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('grade', sa.String(length=12), nullable=False),
    sa.Column('fatal', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('scored', 'appealed', 'final')", name='ck_quality_scores_status'),
    sa.ForeignKeyConstraint(['scorecard_id'], ['quality_scorecards.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_uniqueid')
    )
    with op.batch_alter_table('quality_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_scores_agent_extension'), ['agent_extension'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_scores_inspector'), ['inspector'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_scores_scored_at'), ['scored_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_scores_status'), ['status'], unique=False)

    op.create_table('quality_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('filed_by', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total_before', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=True),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['score_id'], ['quality_scores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('score_id')
    )
    op.create_table('quality_calibration_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calibration_id', sa.Integer(), nullable=False),
    sa.Column('inspector', sa.String(length=40), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calibration_id'], ['quality_calibrations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('calibration_id', 'inspector', name='uq_quality_calibration_scores')
    )
    with op.batch_alter_table('quality_calibration_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_calibration_scores_calibration_id'), ['calibration_id'], unique=False)

    op.create_table('quality_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=40), nullable=False),
    sa.Column('at_s', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['score_id'], ['quality_scores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quality_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_comments_score_id'), ['score_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quality_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_comments_score_id'))

    op.drop_table('quality_comments')
    with op.batch_alter_table('quality_calibration_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_calibration_scores_calibration_id'))

    op.drop_table('quality_calibration_scores')
    op.drop_table('quality_appeals')
    with op.batch_alter_table('quality_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_scores_status'))
        batch_op.drop_index(batch_op.f('ix_quality_scores_scored_at'))
        batch_op.drop_index(batch_op.f('ix_quality_scores_inspector'))
        batch_op.drop_index(batch_op.f('ix_quality_scores_agent_extension'))

    op.drop_table('quality_scores')
    with op.batch_alter_table('quality_calibrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_calibrations_call_uniqueid'))

    op.drop_table('quality_calibrations')
    with op.batch_alter_table('quality_work_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_work_items_inspector'))
        batch_op.drop_index(batch_op.f('ix_quality_work_items_agent_extension'))

    op.drop_table('quality_work_items')
    op.drop_table('quality_scorecards')
