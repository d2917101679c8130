"""The inspectors' work list: a week's calls read from the database, picked by quality.sampling,
shared out among the active inspectors and stored (one row per call; a call already on a list
stays where it is)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from callcenter.models import (Call, CallbackRequest, CallHold, CallTransfer, QualityWorkItem, RoutingDecision, User, WorkOrder,
                               WorkOrderCall)
from callcenter.orders.types import TYPES
from cdr.call_facts import HoldRow, _hold_spans
from cdr.periods import local_midnight, utc
from quality import survey
from quality.config import Sampling
from quality.errors import QualityError
from quality.sampling import SampleCall, pick, share_out

WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")


def week_bounds(week: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """An ISO week ("2026-W48") as [Monday 00:00, next Monday 00:00) on the center's clock."""
    m = WEEK.fullmatch(week) if isinstance(week, str) else None
    try:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1) if m else None
    except ValueError:
        monday = None
    if monday is None:
        raise QualityError("BAD_WEEK")
    return local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _complaint_calls(s: Session, uids) -> set[str]:
    complaint_types = [code for code, t in TYPES.items() if t.family == "complaint"]
    direct = set(s.scalars(select(WorkOrder.call_uniqueid).where(
        WorkOrder.call_uniqueid.in_(uids), WorkOrder.category.in_(complaint_types))))
    linked = set(s.scalars(select(WorkOrderCall.call_uniqueid).join(WorkOrder, WorkOrder.id == WorkOrderCall.order_id)
                           .where(WorkOrderCall.call_uniqueid.in_(uids), WorkOrder.category.in_(complaint_types))))
    return direct | linked


def _hold_seconds(s: Session, uids, ended: dict[str, datetime]) -> dict[str, float]:
    """Each call's longest single hold, in seconds (a hold still open at the end runs to it)."""
    rows: dict[str, list[HoldRow]] = {}
    for h in s.scalars(select(CallHold).where(CallHold.call_uniqueid.in_(uids))):
        rows.setdefault(h.call_uniqueid, []).append(HoldRow(h.call_uniqueid, h.extension, h.action, h.at))
    out = {}
    for uid, holds in rows.items():
        end = ended.get(uid)
        out[uid] = max(((b or (utc(end) if end else a)) - a).total_seconds() for a, b in _hold_spans(holds))
    return out


def _called_back(s: Session, start: datetime, end: datetime) -> dict[str, tuple[str, str | None, datetime]]:
    """Callers who left the queue for a call back (key 1 while waiting) and were called back, by
    the call they left: uniqueid -> (the agent who made the call back, number, when the call
    started). The call back keeps the abandoned call's id (acd.router._becomes_callback), and the
    router's decision for it names the agent."""
    done = select(CallbackRequest.call_uniqueid).where(CallbackRequest.reason == "queue",
                                                       CallbackRequest.status == "done")
    rows = s.execute(select(Call.uniqueid, Call.caller_number, Call.started_at, RoutingDecision.agent_extension)
                     .join(RoutingDecision, RoutingDecision.call_uniqueid == Call.uniqueid)
                     .where(Call.started_at >= start, Call.started_at < end, Call.uniqueid.in_(done),
                            RoutingDecision.callback.is_(True))
                     .order_by(RoutingDecision.decided_at))
    return {uid: (agent, number, at) for uid, number, at, agent in rows}  # the last decision's agent


def sample_calls(s: Session, start: datetime, end: datetime) -> tuple[list[SampleCall], list[tuple[str, datetime]]]:
    """The answered calls started in [start, end) with what the rules look at, and every call's
    number and start up to 7 days after (for repeat calls)."""
    answered = (Call.started_at >= start, Call.started_at < end, Call.answered_at.is_not(None),
                Call.agent_extension.is_not(None))
    calls = s.scalars(select(Call).where(*answered)).all()
    # the week's calls as a subquery, not a list of ids: a busy week holds more calls than SQLite
    # takes bound parameters in one statement
    uids = select(Call.uniqueid).where(*answered).scalar_subquery()
    complaints = _complaint_calls(s, uids)
    transferred = set(s.scalars(select(CallTransfer.call_uniqueid).where(CallTransfer.call_uniqueid.in_(uids))))
    callbacks = _called_back(s, start, end)
    holds = _hold_seconds(s, uids, {c.uniqueid: c.ended_at for c in calls})
    surveys = survey.answers(s, [c.uniqueid for c in calls])  # reads in chunks
    rows = [SampleCall(c.uniqueid, c.agent_extension, c.caller_number or "", utc(c.started_at),
                       holds.get(c.uniqueid, 0.0), c.uniqueid in transferred, c.uniqueid in complaints,
                       surveys.get(c.uniqueid, (False, None))[1], c.uniqueid in callbacks) for c in calls]
    answered_ids = {c.uniqueid for c in calls}
    rows += [SampleCall(uid, agent, number or "", utc(at), callback=True)
             for uid, (agent, number, at) in sorted(callbacks.items()) if uid not in answered_ids]
    numbers = select(Call.caller_number).where(*answered, Call.caller_number.is_not(None)).scalar_subquery()
    later = [(n, utc(at)) for n, at in s.execute(select(Call.caller_number, Call.started_at).where(
        Call.started_at >= start, Call.started_at < end + timedelta(days=7), Call.caller_number.in_(numbers)))]
    return rows, later


def inspectors(s: Session) -> list[str]:
    return sorted(s.scalars(select(User.username).where(User.role == "quality", User.active.is_(True))))


def draw(s: Session, week: str, zone: ZoneInfo, rules: Sampling, now: datetime) -> list[QualityWorkItem]:
    """Sample the week and add its picks to the work lists; calls already listed are left alone.
    Returns the new entries (the caller commits)."""
    start, end = week_bounds(week, zone)
    rows, later = sample_calls(s, start, end)
    picks = pick(rows, later, rules, week)
    listed = set(s.scalars(select(QualityWorkItem.call_uniqueid).where(
        QualityWorkItem.call_uniqueid.in_(select(Call.uniqueid).where(Call.started_at >= start, Call.started_at < end)))))
    fresh = [p for p in picks if p.uniqueid not in listed]
    load = dict(s.execute(select(QualityWorkItem.inspector, func.count()).where(QualityWorkItem.status == "open")
                          .group_by(QualityWorkItem.inspector)).all())
    owners = share_out(fresh, inspectors(s), load)
    items = [QualityWorkItem(call_uniqueid=p.uniqueid, agent_extension=p.agent, inspector=owners[p.uniqueid],
                             week=week, reasons=list(p.reasons), status="open", picked_at=now)
             for p in fresh if p.uniqueid in owners]
    s.add_all(items)
    return items


def is_listed(s: Session, uniqueid: str) -> bool:
    return bool(s.scalar(select(exists().where(QualityWorkItem.call_uniqueid == uniqueid))))
