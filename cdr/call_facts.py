"""One call's reportable facts, from its ledger row and what happened around it. Pure.

Definitions (the report page shows them beside the figures):
- offered: the call reached a queue (``queued_at``); a call finished in the menu is not offered
  to agents. A call is counted in the interval it was offered in (else the one it entered in).
- answered: an agent answered it. abandoned: the caller left while waiting or while an agent's
  phone rang (cdr.end_reason.ABANDONED); a short abandon left in under ``short_abandon_s``.
- wait: from the first queued time to the answer (or to the end, for an abandon); a transferred
  call keeps its first queued time, so its wait is the caller's whole wait.
- handle time: talk + hold + wrap-up, of every agent who took the call. Talk and hold come
  from the agents' on_call intervals (hold is the part of them between a hold and its resume),
  wrap-up from their wrapup intervals for this call.
- first-call resolution: answered, and no call from the same number entered within 48 h after
  this one ended; unknown (left out) while the 48 h are not over, or for a withheld number.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from acd import agent_state as st
from cdr.agent_time import ZERO, Interval
from cdr.end_reason import EndReason, is_abandoned
from cdr.periods import utc

REPEAT_WINDOW = timedelta(hours=48)
DEFAULT_SHORT_ABANDON_S = 5
GENERAL = "general"


@dataclass(frozen=True)
class CallRow:
    uniqueid: str
    started_at: datetime
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    skill: str | None = None
    access_number: str | None = None
    agent: str | None = None  # the last agent who answered
    caller_number: str | None = None


@dataclass(frozen=True)
class HoldRow:
    call: str
    ext: str
    action: str  # hold | resume
    at: datetime


@dataclass(frozen=True)
class TransferRow:
    call: str
    from_ext: str
    at: datetime
    to_skill: str | None = None
    to_ext: str | None = None


@dataclass(frozen=True)
class CallbackRow:
    call: str
    status: str  # pending queued done no_answer failed
    reason: str = "queue"


@dataclass(frozen=True)
class SurveyRow:
    call: str
    answer: int | None  # 1 satisfied, 2 acceptable, 3 not satisfied; None: offered, not answered


@dataclass
class CallFact:
    uniqueid: str
    at: datetime  # when it counts: offered, else entered
    skill: str
    access_number: str
    offered: bool
    answered: bool
    abandoned: bool
    short_abandon: bool
    self_service: bool  # finished in the menu (EndReason.IVR_ENDED)
    wait: timedelta | None
    answer_wait_from_entry: timedelta | None  # entered -> answered: the operator's answer time
    ended: bool
    agents: dict[str, dict[str, timedelta]] = field(default_factory=dict)  # ext -> talk, hold, wrap
    transfers: list[str] = field(default_factory=list)  # who transferred it, once per transfer
    callback_requested: bool = False
    callback_done: bool = False
    resolved_first_time: bool | None = None
    survey_offered: bool = False
    survey_answer: int | None = None

    def handle(self, ext: str | None = None) -> timedelta:
        parts = self.agents.values() if ext is None else [self.agents.get(ext, {})]
        return sum((sum(p.values(), ZERO) for p in parts), ZERO)

    def part(self, name: str) -> timedelta:
        return sum((p.get(name, ZERO) for p in self.agents.values()), ZERO)


def _hold_spans(holds: list[HoldRow]) -> list[tuple[datetime, datetime | None]]:
    spans, opened = [], None
    for h in sorted(holds, key=lambda h: utc(h.at)):
        if h.action == "hold" and opened is None:
            opened = utc(h.at)
        elif h.action == "resume" and opened is not None:
            spans.append((opened, utc(h.at)))
            opened = None
    if opened is not None:
        spans.append((opened, None))  # ended on hold (or transferred): cut by the on_call interval
    return spans


def _overlap(a_start, a_end, b_start, b_end) -> timedelta:
    start, end = max(a_start, b_start), min(a_end, b_end) if b_end is not None else a_end
    return end - start if end > start else ZERO


def agent_parts(call: str, intervals: list[Interval], holds: list[HoldRow]) -> dict[str, dict[str, timedelta]]:
    """ext -> {"talk", "hold", "wrap"} for one call, from that call's intervals and holds."""
    out: dict[str, dict[str, timedelta]] = {}
    for item in intervals:
        if item.call != call or item.state not in (st.ON_CALL, st.WRAPUP):
            continue
        slot = out.setdefault(item.ext, {"talk": ZERO, "hold": ZERO, "wrap": ZERO})
        if item.state == st.WRAPUP:
            slot["wrap"] += item.length
            continue
        held = sum((_overlap(item.start, item.end, a, b) for a, b in _hold_spans([h for h in holds if h.ext == item.ext])),
                   ZERO)
        slot["hold"] += held
        slot["talk"] += item.length - held
    return out


def facts(calls: list[CallRow], intervals: list[Interval], holds: list[HoldRow] = (),
          transfers: list[TransferRow] = (), callbacks: list[CallbackRow] = (),
          later_calls: list[CallRow] = (), surveys: list[SurveyRow] = (), now: datetime | None = None,
          short_abandon_s: float = DEFAULT_SHORT_ABANDON_S) -> list[CallFact]:
    """One CallFact per call. ``later_calls``: calls entered up to 48 h after the last of
    ``calls`` ended (for first-call resolution); ``now``: the 48 h windows not over are unknown."""
    by_call: dict[str, list[Interval]] = defaultdict(list)
    for item in intervals:
        if item.call:
            by_call[item.call].append(item)
    holds_by, transfers_by = defaultdict(list), defaultdict(list)
    for h in holds:
        holds_by[h.call].append(h)
    for t in sorted(transfers, key=lambda t: utc(t.at)):
        transfers_by[t.call].append(t.from_ext)
    callback_by = {c.call: c for c in callbacks}
    survey_by = {s.call: s for s in surveys}
    entries_by_number: dict[str, list[datetime]] = defaultdict(list)
    for c in [*calls, *later_calls]:
        if c.caller_number:
            entries_by_number[c.caller_number].append(utc(c.started_at))
    out = []
    for c in calls:
        started = utc(c.started_at)
        queued = utc(c.queued_at) if c.queued_at else None
        answered = utc(c.answered_at) if c.answered_at else None
        ended = utc(c.ended_at) if c.ended_at else None
        abandoned = queued is not None and answered is None and is_abandoned(c.end_reason)
        wait = None
        if queued is not None and (answered or ended):
            wait = max(ZERO, (answered or ended) - queued)
        callback = callback_by.get(c.uniqueid)
        survey = survey_by.get(c.uniqueid)
        out.append(CallFact(
            uniqueid=c.uniqueid, at=queued or started, skill=c.skill or GENERAL, access_number=c.access_number or "",
            offered=queued is not None, answered=queued is not None and answered is not None, abandoned=abandoned,
            short_abandon=abandoned and wait is not None and wait < timedelta(seconds=short_abandon_s),
            self_service=c.end_reason == EndReason.IVR_ENDED, wait=wait,
            answer_wait_from_entry=answered - started if answered else None, ended=ended is not None,
            agents=agent_parts(c.uniqueid, by_call.get(c.uniqueid, []), holds_by.get(c.uniqueid, [])),
            transfers=transfers_by.get(c.uniqueid, []),
            callback_requested=callback is not None, callback_done=callback is not None and callback.status == "done",
            resolved_first_time=_first_time(c, answered, ended, entries_by_number, now),
            survey_offered=survey is not None, survey_answer=survey.answer if survey else None))
    return out


def _first_time(c: CallRow, answered, ended, entries_by_number, now) -> bool | None:
    if answered is None or ended is None or not c.caller_number:
        return None
    if now is not None and utc(now) < ended + REPEAT_WINDOW:
        return None  # the 48 h are not over: not known yet
    return not any(ended < at <= ended + REPEAT_WINDOW for at in entries_by_number[c.caller_number])
