"""wallboard alert thresholds per queue (NULL: the defaults in agent_desktop.wallboard.AlertLimits)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = ('alert_service_level_pct', 'alert_wait_s', 'alert_not_ready_min', 'alert_on_call_min')


def upgrade() -> None:
    with op.batch_alter_table('queues') as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('queues') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
