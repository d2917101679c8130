"""The orders' timer: escalation, closing on timeout, return visits nobody answered; deadlines for
orders that have none (those from before deadlines existed).

Run every minute by the desktop's push process (supervised), and safe to run in several at once:
each change is one UPDATE guarded by what was read (the escalation level, the order's version),
and only the process whose UPDATE took writes the timeline step. The clock is passed in.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from callcenter.models import CallbackRequest, OrderGroup, User, WorkOrder, WorkOrderEvent
from callcenter.orders import lifecycle
from callcenter.orders.deadlines import escalation_level, order_flags
from callcenter.orders.store import Rules

log = logging.getLogger("callcenter.orders.sweep")
SYSTEM = "system"
LEVELS = {1: "near", 2: "overdue"}


def flags_of(order: WorkOrder, now: datetime) -> dict:
    return order_flags(now, reply_due=order.reply_due_at, reply_warn=order.reply_warn_at,
                       resolve_due=order.resolve_due_at, resolve_warn=order.resolve_warn_at,
                       replied=order.replied_at is not None, paused=order.paused_at is not None,
                       open_=order.status in lifecycle.OPEN)


def _step(s: Session, order: WorkOrder, now: datetime, action: str, before: str, after: str, **detail) -> None:
    s.add(WorkOrderEvent(order_id=order.id, at=now, actor=SYSTEM, action=action, from_status=before,
                         to_status=after, comment="", detail=detail))


def _take(s: Session, order: WorkOrder, now: datetime, **values) -> bool:
    """Change the order only if nobody changed it since it was read (its version)."""
    taken = s.execute(update(WorkOrder).where(WorkOrder.id == order.id, WorkOrder.version == order.version)
                      .values(version=order.version + 1, updated_at=now, **values)
                      .execution_options(synchronize_session=False)).rowcount
    return taken == 1


def backfill(s: Session, now: datetime, rules: Rules) -> int:
    done = 0
    for order in s.scalars(select(WorkOrder).where(WorkOrder.status.in_(lifecycle.OPEN),
                                                   WorkOrder.resolve_due_at.is_(None))).all():
        due = rules.policy.deadlines(order.category, order.priority, order.created_at, rules.calendar)
        done += _take(s, order, now, reply_due_at=due.reply_due, reply_warn_at=due.reply_warn,
                      resolve_due_at=due.resolve_due, resolve_warn_at=due.resolve_warn)
    for order in s.scalars(select(WorkOrder).where(WorkOrder.status == lifecycle.RESOLVED,
                                                   WorkOrder.close_due_at.is_(None))).all():
        done += _take(s, order, now, close_due_at=rules.policy.close_due(order.resolved_at or order.updated_at,
                                                                         rules.calendar))
    return done


def escalate(s: Session, now: datetime) -> int:
    """Tell each group's lead (on the order's timeline, and the queue's 'escalated' filter) of every
    order that came near or past a deadline, once per level."""
    leads = dict(s.execute(select(OrderGroup.code, User.username).join(User, User.id == OrderGroup.lead_id)).all())
    done = 0
    for order in s.scalars(select(WorkOrder).where(WorkOrder.status.in_(lifecycle.OPEN),
                                                   WorkOrder.escalation < 2)).all():
        flags = flags_of(order, now)
        level = escalation_level(flags)
        if level <= order.escalation:
            continue
        taken = s.execute(update(WorkOrder).where(WorkOrder.id == order.id, WorkOrder.escalation == order.escalation)
                          .values(escalation=level).execution_options(synchronize_session=False)).rowcount
        if taken:
            deadline = "reply" if flags["reply"] == LEVELS[level] else "resolve"
            _step(s, order, now, "escalated", order.status, order.status, level=LEVELS[level], deadline=deadline,
                  lead=leads.get(order.group_code or ""))
            done += 1
    return done


def close_unconfirmed(s: Session, now: datetime) -> int:
    done = 0
    for order in s.scalars(select(WorkOrder).where(WorkOrder.status == lifecycle.RESOLVED,
                                                   WorkOrder.close_due_at <= now)).all():
        if _take(s, order, now, status=lifecycle.CLOSED, close_due_at=None):
            _step(s, order, now, "close", lifecycle.RESOLVED, lifecycle.CLOSED, reason="not_confirmed")
            done += 1
    return done


def unanswered_visits(s: Session, now: datetime) -> int:
    """A return visit the router gave up on (every try unanswered) goes on the order's timeline."""
    done = 0
    rows = s.execute(select(CallbackRequest, WorkOrder).join(WorkOrder, WorkOrder.id == CallbackRequest.work_order_id)
                     .where(CallbackRequest.reason == "return_visit", CallbackRequest.status == "failed",
                            WorkOrder.status == lifecycle.RESOLVED)).all()
    for visit, order in rows:
        noted = s.scalar(select(exists().where(WorkOrderEvent.order_id == order.id,
                                               WorkOrderEvent.action == "no_answer",
                                               WorkOrderEvent.at >= visit.created_at)))
        if not noted and _take(s, order, now):
            _step(s, order, now, "no_answer", lifecycle.RESOLVED, lifecycle.RESOLVED, attempts=visit.attempts)
            done += 1
    return done


def sweep(sessions, now: datetime, rules: Rules) -> dict[str, int]:
    """One pass, each part in its own transaction (one failing leaves the others done)."""
    done = {}
    for name, part in (("backfilled", lambda s: backfill(s, now, rules)), ("escalated", lambda s: escalate(s, now)),
                       ("closed", lambda s: close_unconfirmed(s, now)),
                       ("visits_unanswered", lambda s: unanswered_visits(s, now))):
        with sessions() as s:
            done[name] = part(s)
            s.commit()
    if any(done.values()):
        log.info("orders sweep: %s", done)
    return done
