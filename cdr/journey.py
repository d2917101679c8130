"""One call's journey: every record the center keeps about a call, as one ordered timeline.

Each kind of record is one *source*: a function from (session, call row) to Steps, registered
with ``@source``. Adding what a new table records (monitoring sessions, the survey answer, the
quality score, as those issues land) is one more such function here; nothing else changes.
The timeline is only read from stored rows, each written idempotently (a replayed event
changes no row), so reading it twice, or after a replay, gives the same steps.

Steps carry codes (``kind``, end reasons, dispositions, states) and the few texts people typed
or the router explained (transfer notes, wrap-up notes, the core's routing reason); the desktop
translates the codes. Secrets never reach a step: the menu's stored input is already masked,
and long digit runs are masked again on the way out (callcenter.masking).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Callable, Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from acd import agent_state as st
from callcenter.masking import mask_long_numbers
from callcenter.models import (AgentStateLog, Call, CallbackRequest, CallHold, CallTransfer, CallWrapup, JourneyStep,
                               QualityScore, RoutingDecision, WorkOrder, WorkOrderCall)
from cdr.agent_time import StateRow, intervals, rings
from cdr.periods import utc

#: order of steps that share a timestamp: the one that causes comes first
KINDS = ("entered", "menu", "queued", "routed", "ringing", "no_answer", "answered", "hold", "resume", "transfer",
         "work_order", "callback", "survey", "ended", "recording", "wrapup", "disposition", "wrapup_ended",
         "quality_score")
RANK = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: str  # one of KINDS
    agent: str | None = None
    detail: dict = field(default_factory=dict)  # codes, numbers, and short texts

    def as_dict(self) -> dict:
        return {"at": utc(self.at).isoformat(), "kind": self.kind, "agent": self.agent, "detail": self.detail}


Source = Callable[[Session, Call], Iterable[Step]]
SOURCES: list[Source] = []


def source(fn: Source) -> Source:
    SOURCES.append(fn)
    return fn


def merge(steps: Iterable[Step]) -> list[Step]:
    """One timeline: by time, then by cause (RANK), then agent, then detail (a stable order)."""
    return sorted(steps, key=lambda s: (utc(s.at), RANK.get(s.kind, len(RANK)), s.agent or "", repr(sorted(s.detail.items()))))


def journey(s: Session, uniqueid: str) -> list[Step] | None:
    """The call's timeline; None if no call has this id."""
    call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
    if call is None:
        return None
    return merge(step for found in SOURCES for step in found(s, call))


# ---------------------------------------------------------------- sources
@source
def ledger(s: Session, call: Call) -> Iterable[Step]:
    """The call row (cdr.listener): entry with the access number, first queued, answered, end."""
    yield Step(call.started_at, "entered", detail={"access_number": call.access_number or "",
                                                   "caller_number": call.caller_number or "",
                                                   "language": call.language or ""})
    if call.queued_at is not None:
        yield Step(call.queued_at, "queued", detail={"skill": call.skill or "general"})
    if call.ended_at is not None:
        yield Step(call.ended_at, "ended", detail={"end_reason": call.end_reason or "", "end_detail": call.end_detail or "",
                                                   "stage": call.stage})
        if call.recording_path:  # the file's name only: where recordings live is not the page's business
            yield Step(call.ended_at, "recording", detail={"file": PurePosixPath(call.recording_path).name})


@source
def menu(s: Session, call: Call) -> Iterable[Step]:
    for row in s.scalars(select(JourneyStep).where(JourneyStep.call_uniqueid == call.uniqueid).order_by(JourneyStep.seq)):
        yield Step(row.at, "menu", detail={"seq": row.seq, "node": row.node, "input": mask_long_numbers(row.input) or "",
                                           "outcome": mask_long_numbers(row.outcome) or ""})


@source
def decisions(s: Session, call: Call) -> Iterable[Step]:
    """The router's choices with the core's reason. The router logs a decision once Asterisk has
    taken the redirect, a moment after it reserved the agent (and the ringing may be reported
    first), so a decision is shown when the agent was reserved for it, if the log has that."""
    reserved = [(utc(at), ext) for at, ext in s.execute(
        select(AgentStateLog.started_at, AgentStateLog.extension).where(
            AgentStateLog.call_uniqueid == call.uniqueid, AgentStateLog.state == st.RESERVED))]
    for row in s.scalars(select(RoutingDecision).where(RoutingDecision.call_uniqueid == call.uniqueid)):
        decided = utc(row.decided_at)
        at = max((t for t, ext in reserved if ext == row.agent_extension and t <= decided), default=decided)
        yield Step(at, "routed", row.agent_extension,
                   {"skill": row.skill, "service_class": row.service_class, "callback": row.callback, "reason": row.reason})


def _agent_rows(s: Session, uniqueid: str) -> list[StateRow]:
    """The agents' state rows for this call, each followed by that agent's next row (it ends the
    interval: a ring unanswered, a wrap-up over), which names no call when it is not_ready."""
    mine = s.scalars(select(AgentStateLog).where(AgentStateLog.call_uniqueid == uniqueid)).all()
    rows = {r.id: r for r in mine}
    for row in mine:
        after = s.scalar(select(AgentStateLog).where(
            AgentStateLog.extension == row.extension,
            or_(AgentStateLog.started_at > row.started_at,
                and_(AgentStateLog.started_at == row.started_at, AgentStateLog.id > row.id)))
            .order_by(AgentStateLog.started_at, AgentStateLog.id).limit(1))
        if after is not None:
            rows[after.id] = after
    return [StateRow(r.extension, r.state, r.started_at, r.reason, r.call_uniqueid, r.id) for r in rows.values()]


@source
def agents(s: Session, call: Call) -> Iterable[Step]:
    """Each agent rung (answered or not), answering, and their wrap-up, from agent_state_log."""
    rows = _agent_rows(s, call.uniqueid)
    if not rows:
        return
    until = max(utc(r.at) for r in rows)
    items = intervals(rows, until)
    for ring in rings(items):
        if ring.call != call.uniqueid:
            continue
        yield Step(ring.start, "ringing", ring.ext)
        if not ring.answered:
            end = next((i.end for i in items if i.ext == ring.ext and i.start == ring.start), ring.start)
            yield Step(end, "no_answer", ring.ext)
    for item in items:
        if item.call != call.uniqueid:
            continue
        if item.state == st.ON_CALL:
            yield Step(item.start, "answered", item.ext)
        elif item.state == st.WRAPUP:
            yield Step(item.start, "wrapup", item.ext)
            if item.end > item.start:
                yield Step(item.end, "wrapup_ended", item.ext)


@source
def holds(s: Session, call: Call) -> Iterable[Step]:
    for row in s.scalars(select(CallHold).where(CallHold.call_uniqueid == call.uniqueid)):
        yield Step(row.at, row.action, row.extension)


@source
def transfers(s: Session, call: Call) -> Iterable[Step]:
    for row in s.scalars(select(CallTransfer).where(CallTransfer.call_uniqueid == call.uniqueid)):
        yield Step(row.at, "transfer", row.from_extension,
                   {"to_skill": row.to_skill or "", "to_agent": row.to_extension or "", "note": row.note})


@source
def wrapups(s: Session, call: Call) -> Iterable[Step]:
    for row in s.scalars(select(CallWrapup).where(CallWrapup.call_uniqueid == call.uniqueid)):
        yield Step(row.at, "disposition", row.extension, {"disposition": row.disposition, "notes": row.notes})


@source
def work_orders(s: Session, call: Call) -> Iterable[Step]:
    """Orders opened on this call, and orders this call was linked to (a repeat report, a return visit)."""
    seen = set()
    for order in s.scalars(select(WorkOrder).where(WorkOrder.call_uniqueid == call.uniqueid)):
        seen.add(order.id)
        yield Step(order.created_at, "work_order", None, {"number": order.number, "category": order.category,
                                                          "status": order.status, "link": "opened"})
    for link, order in s.execute(select(WorkOrderCall, WorkOrder).join(WorkOrder, WorkOrder.id == WorkOrderCall.order_id)
                                 .where(WorkOrderCall.call_uniqueid == call.uniqueid)):
        if order.id in seen and link.kind == "opened":
            continue
        yield Step(link.at, "work_order", None, {"number": order.number, "category": order.category,
                                                 "status": order.status, "link": link.kind})


@source
def survey(s: Session, call: Call) -> Iterable[Step]:
    """The post-call survey, when the caller was offered it (quality/survey.py): the answer 1, 2
    or 3, or "none" (offered, nothing keyed: never a score)."""
    if call.survey_offered and call.survey_offered_at is not None:
        yield Step(call.survey_offered_at, "survey",
                   detail={"answer": str(call.survey_answer) if call.survey_answer else "none"})


@source
def quality_score(s: Session, call: Call) -> Iterable[Step]:
    """The quality inspector's score of the call (quality/scores.py), as it stands now: the total,
    its grade and where it is in its life (scored, appealed, final)."""
    for row in s.scalars(select(QualityScore).where(QualityScore.call_uniqueid == call.uniqueid)):
        yield Step(row.scored_at, "quality_score", row.agent_extension,
                   {"total": row.total, "grade": row.grade, "fatal": row.fatal, "status": row.status})


@source
def callbacks(s: Session, call: Call) -> Iterable[Step]:
    for row in s.scalars(select(CallbackRequest).where(CallbackRequest.call_uniqueid == call.uniqueid)):
        yield Step(row.created_at, "callback", None, {"reason": row.reason, "status": row.status,
                                                      "attempts": row.attempts})
