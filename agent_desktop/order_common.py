"""What the work-order pages and API share: finding an order the user may see, what it looks like
as data, and the audited view of its customer.

Two checks guard every order route: the role (the route's ``require``), then the object
(callcenter.orders.access: the user's groups, ownership, a return visit on their phone). A
customer's personal data (name, numbers, VIP level) is shown only for a stated reason, and each
such view writes an audit row (callcenter.audit): who, which customer, which order, why.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from acd.callbacks import LIVE_PREFIX  # a call back's id in the live queue
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from callcenter import audit
from callcenter.models import (Call, CallbackRequest, Customer, CustomerPhone, OrderGroup, User, WorkOrder,
                               WorkOrderCall, WorkOrderEvent)
from callcenter.orders import access, lifecycle, store
from callcenter.orders.numbers import valid_number
from callcenter.orders.sweep import flags_of

VIEW_REASONS = ("working_order", "return_visit", "customer_request", "escalation")
RECORDING_ROLES = ("supervisor", "quality", "admin")  # who may know a linked call's recording
BULK_LIMIT = 100


def now() -> datetime:
    return datetime.now(timezone.utc)


def rules() -> store.Rules:
    return store.Rules.load(desktop().settings.home)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value).isoformat()


def on_visit(s: Session, user: User, order: WorkOrder) -> bool:
    """Is this agent on (or just off) the return-visit call of this order?"""
    if not user.agent_extension:
        return False
    from agent_desktop.screen_pop import agent_handled

    visits = s.scalars(select(CallbackRequest.id).where(CallbackRequest.work_order_id == order.id)).all()
    return any(agent_handled(s, desktop().redis, user.agent_extension, f"{LIVE_PREFIX}{v}") for v in visits)


def load(s: Session, number, user: User) -> tuple[WorkOrder, access.Actor, bool]:
    """The order, the user as an actor, and whether they are on its return visit; or the refusal."""
    if not valid_number(number):
        raise ApiError("BAD_ORDER_NUMBER")
    order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
    if order is None:
        raise ApiError("NO_SUCH_ORDER", 404)
    actor = access.actor_for(s, user)
    visit = on_visit(s, user, order)
    if not access.can_view(actor, order, visit):
        raise ApiError("NOT_YOUR_ORDER", 403)
    return order, actor, visit


def summary(order: WorkOrder, at: datetime) -> dict:
    """An order as the queue lists it: codes, not words; no customer data."""
    flags = flags_of(order, at)
    return {"number": order.number, "type": order.category, "status": order.status, "priority": order.priority,
            "group": order.group_code, "assignee": order.assignee, "owner": order.owner,
            "created_at": iso(order.created_at), "updated_at": iso(order.updated_at),
            "reply_due_at": iso(order.reply_due_at), "resolve_due_at": iso(order.resolve_due_at),
            "flag": flags["worst"], "flags": {"reply": flags["reply"], "resolve": flags["resolve"]},
            "escalated": order.escalation > 0, "version": order.version}


def actions_for(actor: access.Actor, order: WorkOrder, visit: bool) -> list[str]:
    """One entry per thing this person may do now: the lifecycle's allowed actions, then
    hand-over and comment, each filtered by access.can_act."""
    possible = lifecycle.allowed_actions(order.status)
    if order.status not in lifecycle.FINAL:
        possible.append("hand_over")
    possible.append("comment")
    return [a for a in possible if access.can_act(actor, order, a, visit)]


def timeline(s: Session, order: WorkOrder) -> list[dict]:
    steps = s.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id)
                      .order_by(WorkOrderEvent.at, WorkOrderEvent.id))
    return [{"at": iso(e.at), "actor": e.actor, "action": e.action, "from": e.from_status, "to": e.to_status,
             "comment": e.comment, "detail": e.detail or {}} for e in steps]


def linked_calls(s: Session, order: WorkOrder, role: str) -> list[dict]:
    rows = s.execute(select(WorkOrderCall, Call).outerjoin(Call, Call.uniqueid == WorkOrderCall.call_uniqueid)
                     .where(WorkOrderCall.order_id == order.id).order_by(WorkOrderCall.at, WorkOrderCall.id)).all()
    calls = []
    for link, call in rows:
        row = {"call": link.call_uniqueid, "kind": link.kind, "at": iso(link.at),
               "started_at": iso(call.started_at) if call else None, "agent": call.agent_extension if call else None,
               "end_reason": call.end_reason if call else None}
        if role in RECORDING_ROLES:
            row["recorded"] = bool(call and call.recording_path)
        calls.append(row)
    return calls


def detail(s: Session, order: WorkOrder, actor: access.Actor, visit: bool, role: str, at: datetime) -> dict:
    group = s.get(OrderGroup, order.group_code) if order.group_code else None
    lead = s.get(User, group.lead_id).username if group and group.lead_id and s.get(User, group.lead_id) else None
    return {**summary(order, at), "description": order.description, "fields": order.fields or {},
            "customer_id": order.customer_id, "created_by": order.created_by, "group_lead": lead,
            "replied_at": iso(order.replied_at), "resolved_at": iso(order.resolved_at),
            "close_due_at": iso(order.close_due_at), "waiting_since": iso(order.paused_at),
            "actions": actions_for(actor, order, visit), "timeline": timeline(s, order),
            "calls": linked_calls(s, order, role)}


def view_reason(value) -> str | None:
    if value in (None, ""):
        return None
    if value not in VIEW_REASONS:
        raise ApiError("BAD_VIEW_REASON", choices=", ".join(VIEW_REASONS))
    return value


def customer_view(s: Session, order: WorkOrder, user: User, reason: str) -> dict | None:
    """The order's customer, for a stated reason: the view is audited before it is returned."""
    if order.customer_id is None:
        return {"caller_number": order.caller_number}
    customer = s.get(Customer, order.customer_id)
    if customer is None:
        return None
    phones = s.scalars(select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.id)
                       .order_by(CustomerPhone.id)).all()
    audit.write(desktop().sessions, user.username, "view_customer", f"customer:{customer.id}",
                f"order {order.number}; reason {reason}")
    return {"id": customer.id, "name": customer.name, "vip_level": customer.vip_level, "language": customer.language,
            "plan": customer.plan, "phones": list(phones), "caller_number": order.caller_number}


def orders_by_numbers(s: Session, numbers) -> list[WorkOrder]:
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= BULK_LIMIT or not all(map(valid_number, numbers)):
        raise ApiError("BAD_ORDER_LIST", limit=BULK_LIMIT)
    found = {o.number: o for o in s.scalars(select(WorkOrder).where(WorkOrder.number.in_(numbers)))}
    if len(found) != len(set(numbers)):
        raise ApiError("NO_SUCH_ORDER", 404)
    return [found[n] for n in dict.fromkeys(numbers)]


def apply(s: Session, order: WorkOrder, actor: access.Actor, visit: bool, body: dict) -> WorkOrder:
    """One action from a form or JSON: the object check, then the store's rules."""
    action = body.get("action")
    if not isinstance(action, str) or action not in (*lifecycle.ACTIONS, "hand_over", "comment"):
        raise ApiError("UNKNOWN_ACTION", choices=", ".join((*lifecycle.ACTIONS, "hand_over", "comment")))
    if action not in lifecycle.SYSTEM_ACTIONS and not access.can_act(actor, order, action, visit):
        raise ApiError("NOT_YOUR_ORDER", 403)  # (a system action: the store refuses it to anyone)
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ApiError("BAD_NUMBER", field="version", low=1, high=2 ** 31)
    comment = body.get("comment", "")
    at = now()
    if action == "hand_over":
        return store.hand_over(s, at, order, actor, body.get("to"), comment, version)
    if action == "comment":
        return store.add_comment(s, at, order, actor, comment)
    return store.act(s, at, rules(), order, actor, action, comment, group=body.get("group") or None,
                     assignee=body.get("assignee") or None, version=version)


def act_and_commit(s: Session, number, user: User, body: dict) -> tuple[WorkOrder, access.Actor, bool]:
    """One action on an order (the page's form and the JSON API alike), committed; ORDER_CHANGED
    when another writer changed the order between our read and our write."""
    found, actor, visit = load(s, number, user)
    try:
        apply(s, found, actor, visit, body)
        s.commit()
    except StaleDataError:
        raise ApiError("ORDER_CHANGED", 409, number=found.number) from None
    return found, actor, visit


def bulk_assign_and_commit(s: Session, user: User, numbers, group, assignee, comment) -> list[WorkOrder]:
    """Every order or none; the lead of each order's group (or an admin) only."""
    orders = orders_by_numbers(s, numbers)
    actor = access.actor_for(s, user)
    if not access.can_bulk_assign(actor, orders):
        raise ApiError("NOT_YOUR_ORDER", 403)
    try:
        store.bulk_assign(s, now(), rules(), orders, actor, group=group or None, assignee=assignee or None,
                          comment=comment)
        s.commit()
    except StaleDataError:
        raise ApiError("ORDER_CHANGED", 409, number="") from None
    return orders
