"""work orders: lifecycle, groups, timeline, linked calls, deadlines; return visits

Revision ID: 0007
Revises: 0006

Existing orders come along: "open" becomes "new", each gets its type's first group, its creator
as owner (first responder), a "created" step on its timeline and its call linked. Deadlines
need the business calendar and work_orders.toml, which live in the center's home, not here:
the sweep (callcenter.orders.sweep) fixes them for any open order that has none.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# frozen here: the group each type went to first when this revision was written
GROUPS = ('repair', 'complaints', 'service_quality', 'field_service', 'billing', 'business', 'consult', 'general')
FIRST_GROUP = {
    'fault_phone': 'repair', 'fault_broadband': 'repair', 'complaint': 'complaints', 'billing': 'billing',
    'consult': 'consult', 'other': 'general',
}

orders = sa.table('work_orders', sa.column('id', sa.Integer), sa.column('status', sa.String),
                  sa.column('category', sa.String), sa.column('group_code', sa.String),
                  sa.column('owner', sa.String), sa.column('created_by', sa.String),
                  sa.column('created_at', sa.DateTime(timezone=True)), sa.column('updated_at', sa.DateTime(timezone=True)),
                  sa.column('resolved_at', sa.DateTime(timezone=True)), sa.column('call_uniqueid', sa.String))
groups = sa.table('order_groups', sa.column('code', sa.String), sa.column('name', sa.String))
events = sa.table('work_order_events', sa.column('order_id', sa.Integer), sa.column('at', sa.DateTime(timezone=True)),
                  sa.column('actor', sa.String), sa.column('action', sa.String), sa.column('from_status', sa.String),
                  sa.column('to_status', sa.String), sa.column('comment', sa.String), sa.column('detail', sa.JSON))
order_calls = sa.table('work_order_calls', sa.column('order_id', sa.Integer), sa.column('call_uniqueid', sa.String),
                       sa.column('kind', sa.String), sa.column('at', sa.DateTime(timezone=True)))


def upgrade() -> None:
    op.create_table('order_groups',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('order_group_members',
    sa.Column('group_code', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_code'], ['order_groups.code'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_code', 'user_id')
    )
    op.create_table('work_order_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('call_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['work_orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'call_uniqueid', name='uq_work_order_calls')
    )
    with op.batch_alter_table('work_order_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_calls_call_uniqueid'), ['call_uniqueid'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_calls_order_id'), ['order_id'], unique=False)

    op.create_table('work_order_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('detail', sa.JSON(), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['work_orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('work_order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_events_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_order_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_callback_requests_work_order_id'), ['work_order_id'], unique=False)
        batch_op.create_foreign_key('fk_callback_requests_work_order', 'work_orders', ['work_order_id'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fields', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('group_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('assignee', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('reply_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reply_warn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolve_warn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('close_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_index(batch_op.f('ix_work_orders_assignee'), ['assignee'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_orders_group_code'), ['group_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_orders_status'), ['status'], unique=False)
        batch_op.create_foreign_key('fk_work_orders_group', 'order_groups', ['group_code'], ['code'],
                                    ondelete='SET NULL')

    # ---- the rows already there ----
    op.bulk_insert(groups, [{'code': code, 'name': code} for code in GROUPS])
    op.execute(orders.update().where(orders.c.status == 'open').values(status='new'))
    for category, group in FIRST_GROUP.items():
        op.execute(orders.update().where(orders.c.category == category).values(group_code=group))
    op.execute(orders.update().where(orders.c.group_code.is_(None)).values(group_code='general'))
    op.execute(orders.update().values(owner=orders.c.created_by))
    op.execute(orders.update().where(orders.c.status.in_(('resolved', 'closed')))
               .values(resolved_at=orders.c.updated_at))
    op.execute(events.insert().from_select(
        ['order_id', 'at', 'actor', 'action', 'from_status', 'to_status', 'comment'],  # detail: its default
        sa.select(orders.c.id, orders.c.created_at, sa.func.coalesce(orders.c.created_by, 'ivr'),
                  sa.literal('created'), sa.null(), orders.c.status, sa.literal(''))))
    op.execute(order_calls.insert().from_select(
        ['order_id', 'call_uniqueid', 'kind', 'at'],
        sa.select(orders.c.id, orders.c.call_uniqueid, sa.literal('opened'), orders.c.created_at)
        .where(orders.c.call_uniqueid.is_not(None))))


def downgrade() -> None:
    # the four statuses 0006 knew; what it did not know maps to the nearest
    for status, old in (('new', 'open'), ('assigned', 'open'), ('reopened', 'open'),
                        ('waiting_customer', 'in_progress'), ('cancelled', 'closed')):
        op.execute(orders.update().where(orders.c.status == status).values(status=old))
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_constraint('fk_work_orders_group', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_work_orders_status'))
        batch_op.drop_index(batch_op.f('ix_work_orders_group_code'))
        batch_op.drop_index(batch_op.f('ix_work_orders_assignee'))
        for column in ('version', 'escalation', 'paused_at', 'close_due_at', 'resolved_at', 'replied_at',
                       'resolve_warn_at', 'resolve_due_at', 'reply_warn_at', 'reply_due_at', 'owner', 'assignee',
                       'group_code', 'fields'):
            batch_op.drop_column(column)

    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_constraint('fk_callback_requests_work_order', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_callback_requests_work_order_id'))
        batch_op.drop_column('work_order_id')

    with op.batch_alter_table('work_order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_events_order_id'))
    op.drop_table('work_order_events')
    with op.batch_alter_table('work_order_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_calls_order_id'))
        batch_op.drop_index(batch_op.f('ix_work_order_calls_call_uniqueid'))
    op.drop_table('work_order_calls')
    op.drop_table('order_group_members')
    op.drop_table('order_groups')
