"""Reads what a report needs from the database into cdr's plain rows (the I/O edge of the
reports; everything after this is pure).

A period's calls are those offered (or entered) in it; their talk and wrap-up may run past its
end, and a state that began before it still counts inside it, so rows are read with a margin
(MARGIN on each side, REPEAT_WINDOW more after, for first-call resolution). A call's menu and
queue together last under MARGIN.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.models import (AgentStateLog, Call, CallbackRequest, CallHold, CallTransfer, QueueConfig, Team, User,
                               WorkOrder)
from callcenter.orders.types import TYPES
from cdr import agent_time, call_facts
from cdr.call_facts import REPEAT_WINDOW, CallbackRow, CallFact, CallRow, HoldRow, SurveyRow, TransferRow
from cdr.kpi import OrderRow
from cdr.periods import Period, edges, utc
from cdr.report import ReportInput

MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Loaded:
    period: Period
    facts: list[CallFact]
    states: list[agent_time.StateRow]
    intervals: list[agent_time.Interval]
    thresholds: dict[str, int]
    teams: dict[str, str]
    surveys_exist: bool = False  # no survey offered in the period: satisfaction is not available, never 0


def _call_row(c: Call) -> CallRow:
    return CallRow(c.uniqueid, c.started_at, c.queued_at, c.answered_at, c.ended_at, c.end_reason, c.skill,
                   c.access_number, c.agent_extension, c.caller_number)


def state_rows(s: Session, start: datetime, end: datetime) -> list[agent_time.StateRow]:
    """Rows in [start, end), and each agent's last row before start (their state at start)."""
    last_before = (select(AgentStateLog.extension, func.max(AgentStateLog.started_at).label("at"))
                   .where(AgentStateLog.started_at < start).group_by(AgentStateLog.extension).subquery())
    before = s.scalars(select(AgentStateLog).join(last_before, (AgentStateLog.extension == last_before.c.extension)
                                                  & (AgentStateLog.started_at == last_before.c.at)))
    inside = s.scalars(select(AgentStateLog).where(AgentStateLog.started_at >= start, AgentStateLog.started_at < end))
    return [agent_time.StateRow(r.extension, r.state, r.started_at, r.reason, r.call_uniqueid, r.id)
            for r in [*before, *inside]]


def teams(s: Session) -> dict[str, str]:
    return {ext: name or "" for ext, name in s.execute(
        select(User.agent_extension, Team.name).outerjoin(Team, Team.id == User.team_id)
        .where(User.agent_extension.is_not(None)))}


# a call back's own row (cdr/listener.py callback_leg_fields: its recording's home): the center
# calling out, not a call that came in, so not in the inbound figures; its request is (CallbackRequest)
CALLBACK_LEG = "callback"


def load(s: Session, period: Period, now: datetime, short_abandon_s: float) -> Loaded:
    start, end, now = utc(period.start), utc(period.end), utc(now)
    wide_start, wide_end = start - MARGIN, min(end + MARGIN, max(now, start))
    rows = [c for c in s.scalars(select(Call).where(Call.started_at >= wide_start, Call.started_at < end,
                                                    Call.stage != CALLBACK_LEG))
            if start <= utc(c.queued_at or c.started_at) < end]
    calls = [_call_row(c) for c in rows]
    # the post-call survey (quality/survey.py), on the call's row: offered, and the answer or none
    surveys = [SurveyRow(c.uniqueid, c.survey_answer) for c in rows if c.survey_offered]
    numbers = {c.caller_number for c in calls if c.caller_number}
    later = [_call_row(c) for c in s.scalars(select(Call).where(
        Call.started_at >= start, Call.started_at < end + REPEAT_WINDOW + MARGIN, Call.stage != CALLBACK_LEG))
        if c.caller_number in numbers]
    states = state_rows(s, wide_start, wide_end)
    items = agent_time.intervals(states, min(now, wide_end))
    holds = [HoldRow(h.call_uniqueid, h.extension, h.action, h.at) for h in s.scalars(
        select(CallHold).where(CallHold.at >= wide_start, CallHold.at < wide_end))]
    transfers = [TransferRow(t.call_uniqueid, t.from_extension, t.at, t.to_skill, t.to_extension) for t in s.scalars(
        select(CallTransfer).where(CallTransfer.at >= wide_start, CallTransfer.at < wide_end))]
    uids = {c.uniqueid for c in calls}
    callbacks = [CallbackRow(r.call_uniqueid, r.status, r.reason) for r in s.scalars(
        select(CallbackRequest).where(CallbackRequest.created_at >= wide_start, CallbackRequest.created_at < wide_end))
        if r.call_uniqueid in uids]
    found = call_facts.facts(calls, items, holds, transfers, callbacks, later_calls=later, surveys=surveys, now=now,
                             short_abandon_s=short_abandon_s)
    thresholds = {q.skill: q.service_level_s for q in s.scalars(select(QueueConfig))}
    return Loaded(period, found, states, items, thresholds, teams(s), surveys_exist=bool(surveys))


def report_input(loaded: Loaded, size: str) -> ReportInput:
    """The period cut into intervals of ``size`` (agents' intervals already end at now)."""
    bounds = edges(loaded.period, size)
    pieces = agent_time.cut(loaded.intervals, bounds)
    return ReportInput(loaded.facts, bounds, agent_time.time_in_states(pieces),
                       agent_time.rings(loaded.intervals), loaded.thresholds, loaded.teams, loaded.surveys_exist)


def orders(s: Session, period: Period) -> list[OrderRow]:
    rows = s.execute(select(WorkOrder.category, WorkOrder.created_at, WorkOrder.reply_due_at, WorkOrder.replied_at)
                     .where(WorkOrder.created_at >= period.start, WorkOrder.created_at < period.end))
    return [OrderRow(TYPES[c].family if c in TYPES else c, created, due, replied) for c, created, due, replied in rows]
