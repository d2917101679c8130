"""Past calls and their journeys (cdr.journey), for the roles that may see them: an agent the
calls they took part in, a supervisor the calls their teams' agents took part in, an admin every
call. "Took part" is the agents' state log: rung, talked, or wrapped up the call.

A call list and a journey show a customer's data (their number, what they keyed, the notes
agents wrote), so every list and every journey opened is written to the audit log: who, when,
which call or which search. A call the reader may not see answers 404, as one that does not
exist: the answer says nothing about other people's calls.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from flask import Blueprint, request
from sqlalchemy import exists, select

from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.reports import date_arg, today, zone
from agent_desktop.views import call_id, page
from agent_desktop.wallboard import visible_agents
from callcenter.models import AgentStateLog, AuditEntry, Call, User
from cdr.journey import journey
from cdr.periods import local_midnight

bp = Blueprint("journeys", __name__)

READERS = ("agent", "supervisor", "quality", "admin")  # inspectors: every call (issue 13)
LIST_LIMIT = 200
NUMBER = re.compile(r"[0-9]{1,20}")


def agents_of(s, user: User) -> set[str] | None:
    """The extensions whose calls this user may see; None: every call."""
    if user.role in ("admin", "quality"):
        return None
    if user.role == "agent":
        return {user.agent_extension} if user.agent_extension else set()
    return set(visible_agents(s, user))


def may_see(s, user: User, uniqueid: str) -> bool:
    exts = agents_of(s, user)
    if exts is None:
        return True
    return bool(exts) and bool(s.scalar(select(exists().where(AgentStateLog.call_uniqueid == uniqueid,
                                                              AgentStateLog.extension.in_(exts)))))


def audit(s, action: str, target: str, detail: str = "") -> None:
    s.add(AuditEntry(actor=current_user().username[:40], action=action, target=target[:64], detail=detail[:500]))


@bp.get("/calls")
@require(*READERS)
def calls_page():
    return page("calls.html", data={"today": today().isoformat()})


@bp.get("/api/calls")
@require(*READERS)
def calls_list():
    day = date_arg("day", today())
    number = request.args.get("number", "")
    if number and not NUMBER.fullmatch(number):
        raise ApiError("BAD_NUMBER_FILTER")
    center = zone()
    start = local_midnight(day, center)
    end = local_midnight(day + timedelta(days=1), center)
    user = current_user()
    with desktop().sessions() as s:
        query = select(Call).where(Call.started_at >= start, Call.started_at < end)
        exts = agents_of(s, user)
        if exts is not None:
            query = query.where(Call.uniqueid.in_(select(AgentStateLog.call_uniqueid).where(
                AgentStateLog.extension.in_(exts or {""}))))
        if number:
            query = query.where(Call.caller_number == number)
        found = s.scalars(query.order_by(Call.started_at.desc()).limit(LIST_LIMIT)).all()
        audit(s, "list_calls", day.isoformat(), f"number={number or '-'}; {len(found)} call(s)")
        s.commit()
        return {"day": day.isoformat(), "tz": center.key, "limit": LIST_LIMIT, "calls": [{
            "uniqueid": c.uniqueid, "started_at": _iso(c.started_at), "caller_number": c.caller_number or "",
            "access_number": c.access_number or "", "skill": c.skill or "", "agent": c.agent_extension or "",
            "end_reason": c.end_reason or "", "end_detail": c.end_detail or ""} for c in found]}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value).isoformat()


@bp.get("/calls/<uniqueid>")
@require(*READERS)
def journey_page(uniqueid: str):
    return page("journey.html", data={"call": call_id(uniqueid)})


@bp.get("/api/calls/<uniqueid>/journey")
@require(*READERS)
def call_journey(uniqueid: str):
    uniqueid = call_id(uniqueid)
    user = current_user()
    with desktop().sessions() as s:
        if not may_see(s, user, uniqueid):
            raise ApiError("NO_SUCH_CALL", 404)
        steps = journey(s, uniqueid)
        if steps is None:
            raise ApiError("NO_SUCH_CALL", 404)
        call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
        audit(s, "view_journey", uniqueid, f"customer {call.customer_id}" if call.customer_id else "")
        s.commit()
        return {"call": uniqueid, "caller_number": call.caller_number or "", "started_at": _iso(call.started_at),
                "customer_id": call.customer_id, "steps": [step.as_dict() for step in steps]}
