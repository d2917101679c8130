"""What an agent sees about a caller: built from the database and the router's live call.

Plain functions over a database session, so the push process (at ring time) and the HTTP API
(a reload, a search for an unknown caller) build exactly the same thing.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from acd.callbacks import LIVE_PREFIX
from acd.protocol import LiveCall
from agent_desktop import live
from callcenter.models import (Account, AgentStateLog, Bill, Call, CallbackRequest, CallTransfer, Customer,
                               CustomerPhone, JourneyStep, WorkOrder)
from callcenter.digits import is_digits
from callcenter.masking import mask_long_numbers
from callcenter.work_orders import OPEN_STATUSES

RECENT = 5


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_profile(s: Session, customer_id: int, exclude_call: str | None = None) -> dict | None:
    customer = s.get(Customer, customer_id)
    if customer is None:
        return None
    accounts = s.scalars(select(Account).where(Account.customer_id == customer_id).order_by(Account.id)).all()
    bills = s.scalars(select(Bill).join(Account).where(Account.customer_id == customer_id)
                      .order_by(Bill.period.desc()).limit(3)).all()
    orders = s.scalars(select(WorkOrder).where(WorkOrder.customer_id == customer_id,
                                               WorkOrder.status.in_(OPEN_STATUSES))
                       .order_by(WorkOrder.created_at.desc()).limit(10)).all()
    calls = s.scalars(select(Call).where(Call.customer_id == customer_id, Call.uniqueid != (exclude_call or ""))
                      .order_by(Call.started_at.desc()).limit(RECENT)).all()
    phones = s.scalars(select(CustomerPhone.number).where(CustomerPhone.customer_id == customer_id)).all()
    return {
        "id": customer.id, "name": customer.name, "vip_level": customer.vip_level, "language": customer.language,
        "plan": customer.plan, "phones": list(phones),
        "accounts": [{"number": a.number, "balance_cents": a.balance_cents, "status": a.status} for a in accounts],
        "bills": [{"period": b.period, "amount_cents": b.amount_cents, "paid": b.paid} for b in bills],
        "open_orders": [{"number": o.number, "category": o.category, "status": o.status, "priority": o.priority,
                         "description": o.description, "created_at": _iso(o.created_at)} for o in orders],
        "recent_calls": [{"started_at": _iso(c.started_at), "skill": c.skill, "end_reason": c.end_reason,
                          "end_detail": c.end_detail, "agent": c.agent_extension} for c in calls],
    }


def unverified_profile(profile: dict) -> dict:
    """What a call shows of its customer before the caller proved who they are (the menu's
    service password, Call.password_verified): enough to greet and to ask for the password, no
    VIP level (no priority on a caller ID alone), no accounts, bills, orders or call history, and
    the name with all but its first character hidden. One rule for every place that applies it."""
    name = profile.get("name") or ""
    return {"id": profile["id"], "name": name[:1] + "*" * max(0, len(name) - 1), "language": profile.get("language"),
            "verified": False}


def find_customer(s: Session, number: str | None) -> int | None:
    if not number:
        return None
    return s.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.number == number))


def build_pop(s: Session, uniqueid: str, live_call: LiveCall | None, now: float) -> dict:
    """The screen-pop for one call: who, what they did in the menu, how long they waited, notes."""
    call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
    customer_id = call.customer_id if call and call.customer_id else find_customer(s, call.caller_number if call else None)
    visit = return_visit(s, uniqueid)
    if visit is not None and customer_id is None:
        customer_id = visit["customer_id"]
    journey = s.scalars(select(JourneyStep).where(JourneyStep.call_uniqueid == uniqueid)
                        .order_by(JourneyStep.seq)).all()
    transfers = s.scalars(select(CallTransfer).where(CallTransfer.call_uniqueid == uniqueid)
                          .order_by(CallTransfer.at)).all()
    queued_at = live_call.queued_at if live_call is not None and live_call.queued_at else now
    verified = bool(call and call.password_verified and call.customer_id == customer_id)
    return {
        "call": uniqueid,
        "caller_number": call.caller_number if call else (live_call.number if live_call else None),
        "caller_name": call.caller_name if call else None,
        "queue": live_call.skill if live_call else (call.skill if call else None),
        "waited_s": max(0, round(now - queued_at)),
        "transferred": bool(live_call and live_call.transferred),
        "password_verified": bool(call and call.password_verified),
        "language": (call.language if call else None),
        # a card number: the IVR stores it masked, and one stored before that is masked here
        "journey": [{"node": j.node, "input": mask_long_numbers(j.input), "outcome": j.outcome} for j in journey],
        "transfer_notes": [{"from": t.from_extension, "note": t.note, "at": _iso(t.at)} for t in transfers],
        "customer": _pop_customer(s, customer_id, uniqueid, verified),
        "return_visit": visit,  # a call back asking whether a resolved work order is fixed, else None
    }


def _pop_customer(s: Session, customer_id: int | None, uniqueid: str, verified: bool) -> dict | None:
    """The pop's customer: in full only once this call's caller keyed this customer's service
    password (in the menu, or sent there by the agent: push.py pushes the pop again when they come
    back verified). Before that a caller ID or a keyed number proves nothing: only
    unverified_profile's minimum, the same rule as the look-up routes."""
    profile = customer_profile(s, customer_id, exclude_call=uniqueid) if customer_id else None
    if profile is None or verified:
        return profile
    return unverified_profile(profile)


def return_visit(s: Session, uniqueid: str) -> dict | None:
    """The work order a return-visit call back is about (its live id is the request's)."""
    number = uniqueid[len(LIVE_PREFIX):] if uniqueid.startswith(LIVE_PREFIX) else ""
    if not is_digits(number):
        return None
    request = s.get(CallbackRequest, int(number))
    order = s.get(WorkOrder, request.work_order_id) if request and request.work_order_id else None
    if order is None:
        return None
    return {"order": order.number, "type": order.category, "status": order.status, "customer_id": order.customer_id,
            "resolved_at": _iso(order.resolved_at)}


def agent_handled(s: Session, redis, ext: str, uniqueid: str) -> bool:
    """Object check: the call is (or was) this agent's: live in Redis, or in their state history."""
    if ext and live.current_call(redis, ext) == uniqueid:
        return True
    return bool(s.scalar(select(exists().where(AgentStateLog.extension == ext,
                                               AgentStateLog.call_uniqueid == uniqueid))))


def utc_now_ts() -> float:
    return datetime.now(timezone.utc).timestamp()
