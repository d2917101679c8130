"""Opening orders and moving them through their life, over a session the caller opens and commits.

Every change writes one WorkOrderEvent (the timeline) in the same transaction as the change, and
bumps the order's ``version``: a change made on a view older than the order (``version`` given
and different) is refused with ORDER_CHANGED, and two writers racing on one order cannot both
win (the ORM's UPDATE ... WHERE version = n). The checks here are the rules of the lifecycle;
who may ask for them is access.py's, asked by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from callcenter.models import (CallbackRequest, Customer, CustomerPhone, OrderGroup, OrderGroupMember, User,
                               WorkOrder, WorkOrderCall, WorkOrderEvent)
from callcenter.orders import lifecycle
from callcenter.orders.access import Actor
from callcenter.orders.calendar import BusinessCalendar, calendar_file
from callcenter.orders.deadlines import Policy, policy_file, resumed
from callcenter.orders.errors import OrderError
from callcenter.orders.numbers import new_number
from callcenter.orders.routing import classify, start_priority
from callcenter.orders.types import PRIORITIES, clean_fields, order_type

COMMENT_LIMIT = 1000
DESCRIPTION_LIMIT = 500
REPEAT_FAMILIES = ("fault",)  # a second report of the same fault joins the open order


@dataclass(frozen=True)
class Rules:
    """The center's calendar and deadline policy, read from its home at each use."""
    calendar: BusinessCalendar
    policy: Policy

    @classmethod
    def load(cls, home: Path) -> "Rules":
        return cls(BusinessCalendar.load(calendar_file(home)), Policy.load(policy_file(home)))

    @classmethod
    def default(cls) -> "Rules":
        """business_hours.toml's defaults (every hour, Asia/Shanghai) on weekdays; the built-in policy."""
        return cls(BusinessCalendar(ZoneInfo("Asia/Shanghai"), time(0), None, frozenset()), Policy())


def _event(s: Session, order: WorkOrder, now: datetime, actor: str, action: str, before: str | None = None,
           comment: str = "", **detail) -> None:
    s.add(WorkOrderEvent(order_id=order.id, at=now, actor=actor[:40], action=action, from_status=before,
                         to_status=order.status, comment=comment[:COMMENT_LIMIT],
                         detail={k: v for k, v in detail.items() if v is not None}))


def link_call(s: Session, order: WorkOrder, uniqueid: str | None, kind: str, now: datetime) -> None:
    if uniqueid and not s.scalar(select(exists().where(WorkOrderCall.order_id == order.id,
                                                       WorkOrderCall.call_uniqueid == uniqueid))):
        s.add(WorkOrderCall(order_id=order.id, call_uniqueid=uniqueid, kind=kind, at=now))


def _set_deadlines(order: WorkOrder, rules: Rules, start: datetime) -> None:
    due = rules.policy.deadlines(order.category, order.priority, start, rules.calendar)
    order.reply_due_at, order.reply_warn_at = due.reply_due, due.reply_warn
    order.resolve_due_at, order.resolve_warn_at = due.resolve_due, due.resolve_warn
    order.escalation = 0


def open_repeat(s: Session, code: str, customer_id: int | None, caller_number: str | None) -> WorkOrder | None:
    """The open order a new report of this fault would repeat: same type, same customer (or, for
    a caller we do not know, the same number)."""
    if order_type(code).family not in REPEAT_FAMILIES:
        return None
    if customer_id is not None:
        who = WorkOrder.customer_id == customer_id
    elif caller_number:
        who = (WorkOrder.caller_number == caller_number) & WorkOrder.customer_id.is_(None)
    else:
        return None
    return s.scalar(select(WorkOrder).where(who, WorkOrder.category == code, WorkOrder.status.in_(lifecycle.OPEN))
                    .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(1))


def create(s: Session, now: datetime, rules: Rules, *, code: str, description: str, fields: dict | None = None,
           customer_id: int | None = None, caller_number: str | None = None, call_uniqueid: str | None = None,
           priority: str | None = None, created_by: str | None = None,
           password_verified: bool = False) -> tuple[WorkOrder, bool]:
    """(order, repeat): a new order, or the open one this report repeats (its call linked, a step on
    its timeline). Business acceptance needs ``password_verified`` (the caller's service password,
    checked by the menu on this call)."""
    if not isinstance(description, str) or len(description) > DESCRIPTION_LIMIT:
        raise OrderError("BAD_TEXT", field="description", limit=DESCRIPTION_LIMIT)
    if priority is not None and priority not in PRIORITIES:
        raise OrderError("BAD_PRIORITY", choices=", ".join(PRIORITIES))
    kind = order_type(classify(order_type(code).code, description))
    cleaned = clean_fields(order_type(code), fields)  # the fields of the type asked for
    if kind.needs_password and not password_verified:
        raise OrderError("PASSWORD_NOT_VERIFIED", 403)
    customer = s.get(Customer, customer_id) if customer_id is not None else None
    if customer_id is not None and customer is None:
        raise OrderError("NO_SUCH_CUSTOMER")
    actor = created_by or "ivr"
    repeat = open_repeat(s, kind.code, customer_id, caller_number)
    if repeat is not None:
        link_call(s, repeat, call_uniqueid, "repeat", now)
        _event(s, repeat, now, actor, "repeat_report", repeat.status, description, call=call_uniqueid)
        repeat.updated_at = now
        s.flush()
        return repeat, True
    order = WorkOrder(number=new_number(now, lambda n: bool(s.scalar(select(exists().where(WorkOrder.number == n))))),
                      customer_id=customer_id, caller_number=caller_number, category=kind.code, status=lifecycle.NEW,
                      call_uniqueid=call_uniqueid, description=description, fields=cleaned,
                      priority=start_priority(kind.code, priority, customer.vip_level if customer else 0),
                      created_by=created_by, owner=created_by, group_code=kind.group, created_at=now, updated_at=now)
    _set_deadlines(order, rules, now)
    s.add(order)
    s.flush()
    link_call(s, order, call_uniqueid, "opened", now)
    _event(s, order, now, actor, "created", None, "", type=kind.code, group=kind.group, priority=order.priority,
           call=call_uniqueid)
    s.flush()
    return order, False


def _check_version(order: WorkOrder, version) -> None:
    if version is not None and version != order.version:
        raise OrderError("ORDER_CHANGED", 409, number=order.number)


def _comment(comment) -> str:
    if not isinstance(comment, str) or len(comment) > COMMENT_LIMIT:
        raise OrderError("BAD_TEXT", field="comment", limit=COMMENT_LIMIT)
    return comment.strip()


def _member(s: Session, group: str, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise OrderError("NO_SUCH_USER", name=username[:40])
    if user.role != "admin" and not s.scalar(select(exists().where(
            OrderGroupMember.group_code == group, OrderGroupMember.user_id == user.id))) and \
            s.scalar(select(OrderGroup.lead_id).where(OrderGroup.code == group)) != user.id:
        raise OrderError("NOT_IN_GROUP", name=username[:40], group=group)
    return user


def _assign_target(s: Session, order: WorkOrder, group, assignee) -> tuple[str, str | None]:
    if group is None and assignee is None:
        raise OrderError("MISSING_FIELD", field="group")
    if group is not None and (not isinstance(group, str) or s.get(OrderGroup, group) is None):
        raise OrderError("NO_SUCH_GROUP")
    target = group or order.group_code
    if assignee is not None:
        if not isinstance(assignee, str) or not assignee:
            raise OrderError("NO_SUCH_USER", name="")
        _member(s, target, assignee)
    return target, assignee


def act(s: Session, now: datetime, rules: Rules, order: WorkOrder, actor: Actor, action: str, comment="", *,
        group=None, assignee=None, version=None, system: bool = False) -> WorkOrder:
    """Apply one lifecycle action; the timeline gets its step. Refusals: UNKNOWN_ACTION,
    INVALID_ORDER_TRANSITION (409), ORDER_CHANGED (409), COMMENT_REQUIRED, and assign's own."""
    _check_version(order, version)
    comment = _comment(comment)
    before = order.status
    after = lifecycle.next_status(before, action)
    if action in lifecycle.SYSTEM_ACTIONS and not system:
        raise lifecycle.InvalidTransition(before, action)
    if action in lifecycle.NEED_COMMENT and not comment:
        raise OrderError("COMMENT_REQUIRED", action=action)
    detail: dict = {}
    if action == "assign":
        order.group_code, order.assignee = _assign_target(s, order, group, assignee)
        detail = {"group": order.group_code, "assignee": order.assignee}
    elif action == "start":
        order.assignee = actor.username
        order.owner = lifecycle.owner_after(order.owner, actor.username, action)
    if before == lifecycle.WAITING and order.paused_at is not None:  # the customer's time is not ours
        order.resolve_due_at = resumed(rules.calendar, order.paused_at, now, order.resolve_due_at)
        order.resolve_warn_at = resumed(rules.calendar, order.paused_at, now, order.resolve_warn_at)
        order.paused_at = None
    if action == "wait_customer":
        order.paused_at = now
    if action in lifecycle.REPLIES and order.replied_at is None:
        order.replied_at = now
    if after == lifecycle.RESOLVED and before != lifecycle.RESOLVED:
        order.resolved_at, order.close_due_at = now, rules.policy.close_due(now, rules.calendar)
    if after == lifecycle.REOPENED:  # worked again from now: fresh deadlines, a fresh reply owed
        order.resolved_at = order.close_due_at = order.replied_at = None
        _set_deadlines(order, rules, now)
    if after in lifecycle.FINAL:
        order.close_due_at = order.paused_at = None
    order.status, order.updated_at = after, now
    _event(s, order, now, actor.username, action, before, comment, **detail)
    if after == lifecycle.RESOLVED and before != lifecycle.RESOLVED:
        return_visit(s, order, now)
    s.flush()
    return order


def hand_over(s: Session, now: datetime, order: WorkOrder, actor: Actor, to, comment="", version=None) -> WorkOrder:
    """The owner of record changes: only this way (first responder rule)."""
    _check_version(order, version)
    comment = _comment(comment)
    if order.status in lifecycle.FINAL:
        raise lifecycle.InvalidTransition(order.status, "hand_over")
    if not isinstance(to, str) or not to:
        raise OrderError("MISSING_FIELD", field="to")
    user = s.scalar(select(User).where(User.username == to, User.active.is_(True)))
    if user is None or user.role not in ("agent", "backoffice", "supervisor"):
        raise OrderError("NO_SUCH_USER", name=to[:40])
    if user.username == order.owner:
        raise OrderError("ALREADY_OWNER", name=user.username)
    before_owner, order.owner, order.updated_at = order.owner, user.username, now
    _event(s, order, now, actor.username, "hand_over", order.status, comment, **{"from": before_owner,
                                                                                 "to": user.username})
    s.flush()
    return order


def add_comment(s: Session, now: datetime, order: WorkOrder, actor: Actor, comment) -> WorkOrder:
    comment = _comment(comment)
    if not comment:
        raise OrderError("MISSING_FIELD", field="comment")
    order.updated_at = now
    _event(s, order, now, actor.username, "comment", order.status, comment)
    s.flush()
    return order


def bulk_assign(s: Session, now: datetime, rules: Rules, orders: list[WorkOrder], actor: Actor, *, group=None,
                assignee=None, comment="") -> list[WorkOrder]:
    """Assign every order or none: each is checked first, then all are applied."""
    for order in orders:
        lifecycle.next_status(order.status, "assign")
        _assign_target(s, order, group, assignee)
    return [act(s, now, rules, order, actor, "assign", comment, group=group, assignee=assignee) for order in orders]


def return_visit(s: Session, order: WorkOrder, now: datetime) -> CallbackRequest | None:
    """A resolved order's call back: the customer is asked whether it is fixed (the router dials it
    when agents are free, in business hours). None when there is no number to call."""
    number = order.caller_number
    language = "zh"
    if order.customer_id is not None:
        customer = s.get(Customer, order.customer_id)
        language = customer.language if customer else "zh"
        number = number or s.scalar(select(CustomerPhone.number).where(CustomerPhone.customer_id == order.customer_id)
                                    .order_by(CustomerPhone.id).limit(1))
    if not number:
        return None
    visit = CallbackRequest(number=number[:20], customer_id=order.customer_id, reason="return_visit",
                            language=language, status="pending", created_at=now, work_order_id=order.id)
    s.add(visit)
    return visit


def find(s: Session, number) -> WorkOrder:
    order = s.scalar(select(WorkOrder).where(WorkOrder.number == number)) if isinstance(number, str) else None
    if order is None:
        raise OrderError("NO_SUCH_ORDER", 404)
    return order
