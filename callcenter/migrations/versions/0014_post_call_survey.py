"""the post-call survey: offered and answered on the call's row; one offer a day per number

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('survey_offered', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('survey_offered_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('survey_answer', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('survey_answered_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint('ck_calls_survey_answer', 'survey_answer IS NULL OR survey_answer IN (1, 2, 3)')
    op.create_table('survey_offers',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('number', sa.String(length=32), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
                    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('number', 'day', name='uq_survey_offers_number_day'))


def downgrade() -> None:
    op.drop_table('survey_offers')
    with op.batch_alter_table('calls') as batch:
        batch.drop_constraint('ck_calls_survey_answer', type_='check')
        for name in ('survey_answered_at', 'survey_answer', 'survey_offered_at', 'survey_offered'):
            batch.drop_column(name)
