"""calls: end reasons as stable codes, the IVR failure in its own column (end_detail)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Every sentence cdr.end_reason wrote before this revision (its wording never changed), frozen
# here: the code may change later, this history may not.
SENTENCES = {
    'agent hung up': 'agent_hangup',
    'caller hung up': 'caller_hangup',
    'ended by ivr': 'ivr_ended',
    'caller asked for a call back': 'callback_requested',
    'caller abandoned while agent phone rang': 'abandoned_ringing',
    'caller abandoned while waiting': 'abandoned_waiting',
    'caller hung up on hold': 'hung_up_on_hold',
    'caller hung up in ivr': 'hung_up_in_ivr',
    'caller hung up before queueing': 'hung_up_before_queue',
    'lost: channel gone without an end event': 'lost',
    'ended in stage unknown': 'unknown',
}
# "... (IVR unreachable)" was appended to any of them when the IVR had failed
DETAILS = {' (IVR unreachable)': 'ivr_unreachable', ' (IVR error)': 'ivr_error'}
CODES = tuple(SENTENCES.values())

calls = sa.table('calls', sa.column('end_reason', sa.String), sa.column('end_detail', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_detail', sa.String(length=32), nullable=True))

    # plain UPDATEs with bound values: the same on SQLite and PostgreSQL, and set-wise on big tables
    for suffix, detail in DETAILS.items():
        for sentence, code in SENTENCES.items():
            op.execute(calls.update().where(calls.c.end_reason == sentence + suffix)
                       .values(end_reason=code, end_detail=detail))
        op.execute(calls.update().where(calls.c.end_reason.like('ended in stage %' + suffix))
                   .values(end_reason='unknown', end_detail=detail))
    for sentence, code in SENTENCES.items():
        op.execute(calls.update().where(calls.c.end_reason == sentence).values(end_reason=code))
    # "ended in stage <any stage>", and any text this table does not know
    op.execute(calls.update().where(calls.c.end_reason.is_not(None), calls.c.end_reason.not_in(CODES))
               .values(end_reason='unknown'))


def downgrade() -> None:
    for sentence, code in SENTENCES.items():
        for suffix, detail in DETAILS.items():
            op.execute(calls.update().where(calls.c.end_reason == code, calls.c.end_detail == detail)
                       .values(end_reason=sentence + suffix))
        op.execute(calls.update().where(calls.c.end_reason == code).values(end_reason=sentence))

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('end_detail')
