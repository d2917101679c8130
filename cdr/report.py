"""Report rows: per queue, access number, agent, team or the whole center, per interval. Pure.

Figures are codes (FIGURES, in the order columns show); people read their names and
definitions through agent_desktop.i18n ("figure.<code>", "figure.<code>.def"). A figure a row
cannot have is None, shown "n/a": a queue has no occupancy, an agent no abandons of their own,
and satisfaction without survey data is not available, never zero.

Queue, access-number and center rows count calls (cdr.call_facts, in the interval each was
offered in). Agent and team rows count what the agents did: the calls they answered (with their
own part of the handle time), the times their phone rang, transfers they made, and their time
in each state (cdr.agent_time, cut at the interval edges, adding up to their logged-in time).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from acd import agent_state as st
from cdr.agent_time import ZERO, AgentTime, Ring
from cdr.call_facts import CallFact
from cdr.periods import index

CALL_DIMS = ("all", "queue", "access")
AGENT_DIMS = ("agent", "team")
DIMS = (*CALL_DIMS, *AGENT_DIMS)
DEFAULT_SERVICE_LEVEL_S = 20
STATE_COLUMNS = tuple(s for s in st.STATES if s != st.LOGGED_OUT)
NOT_READY_COLUMNS = st.NOT_READY_REASONS


@dataclass(frozen=True)
class Figure:
    code: str
    unit: str  # count | seconds | ratio (0..1)
    dims: tuple[str, ...]


FIGURES: tuple[Figure, ...] = (
    Figure("offered", "count", CALL_DIMS),
    Figure("answered", "count", DIMS),
    Figure("abandoned", "count", CALL_DIMS),
    Figure("short_abandoned", "count", CALL_DIMS),
    Figure("service_level", "ratio", CALL_DIMS),
    Figure("asa", "seconds", CALL_DIMS),
    Figure("longest_wait", "seconds", CALL_DIMS),
    Figure("aht", "seconds", DIMS),
    Figure("talk", "seconds", DIMS),
    Figure("hold", "seconds", DIMS),
    Figure("wrap", "seconds", DIMS),
    Figure("transfers", "count", DIMS),
    Figure("callbacks_requested", "count", CALL_DIMS),
    Figure("callbacks_completed", "count", CALL_DIMS),
    Figure("fcr", "ratio", DIMS),
    Figure("satisfaction", "ratio", DIMS),
    Figure("survey_response", "ratio", DIMS),
    Figure("rung", "count", AGENT_DIMS),
    Figure("missed", "count", AGENT_DIMS),
    Figure("occupancy", "ratio", AGENT_DIMS),
    Figure("logged_in", "seconds", AGENT_DIMS),
    *(Figure(f"state.{s}", "seconds", AGENT_DIMS) for s in STATE_COLUMNS),
    *(Figure(f"not_ready.{r}", "seconds", AGENT_DIMS) for r in NOT_READY_COLUMNS),
)


def figures_for(dim: str) -> list[Figure]:
    return [f for f in FIGURES if dim in f.dims]


@dataclass
class _Acc:
    """What one row gathers before its figures are worked out."""
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short: int = 0
    in_time: int = 0
    waits: list[timedelta] = field(default_factory=list)  # answered calls'
    longest: timedelta | None = None
    handled: int = 0  # calls with some talk, hold or wrap-up here
    talk: timedelta = ZERO
    hold: timedelta = ZERO
    wrap: timedelta = ZERO
    transfers: int = 0
    cb_requested: int = 0
    cb_done: int = 0
    fcr_known: int = 0
    fcr_yes: int = 0
    surveys_offered: int = 0
    surveys_answered: int = 0
    satisfied: int = 0
    rung: int = 0
    missed: int = 0
    time: AgentTime = field(default_factory=lambda: AgentTime({}, {}))


@dataclass(frozen=True)
class ReportInput:
    facts: list[CallFact]
    bounds: list[datetime]  # cdr.periods.edges
    agent_time: dict[tuple[int, str], AgentTime] = field(default_factory=dict)
    rings: list[Ring] = field(default_factory=list)
    thresholds: dict[str, int] = field(default_factory=dict)  # skill -> service-level seconds
    teams: dict[str, str] = field(default_factory=dict)  # ext -> team name ("" none)
    surveys_exist: bool = False  # False: satisfaction and response rate are not available


def _call_keys(fact: CallFact, dim: str) -> list[str]:
    return {"all": ["all"], "queue": [fact.skill], "access": [fact.access_number]}[dim]


def _agent_key(ext: str, dim: str, teams: dict[str, str]) -> str:
    return ext if dim == "agent" else teams.get(ext, "")


def _add_call(acc: _Acc, fact: CallFact, threshold: int) -> None:
    acc.offered += fact.offered
    acc.answered += fact.answered
    if fact.abandoned:
        acc.short += fact.short_abandon
        acc.abandoned += not fact.short_abandon
    if fact.answered and fact.wait is not None:
        acc.waits.append(fact.wait)
        acc.in_time += fact.wait <= timedelta(seconds=threshold)
    if fact.offered and fact.wait is not None:
        acc.longest = fact.wait if acc.longest is None else max(acc.longest, fact.wait)
    if fact.agents:
        acc.handled += 1
        acc.talk, acc.hold, acc.wrap = acc.talk + fact.part("talk"), acc.hold + fact.part("hold"), acc.wrap + fact.part("wrap")
    acc.transfers += len(fact.transfers)
    acc.cb_requested += fact.callback_requested
    acc.cb_done += fact.callback_done
    _add_outcomes(acc, fact)


def _add_outcomes(acc: _Acc, fact: CallFact) -> None:
    if fact.resolved_first_time is not None:
        acc.fcr_known += 1
        acc.fcr_yes += fact.resolved_first_time
    if fact.survey_offered:
        acc.surveys_offered += 1
        if fact.survey_answer is not None:
            acc.surveys_answered += 1
            acc.satisfied += fact.survey_answer == 1


def _add_agent_call(acc: _Acc, fact: CallFact, ext: str) -> None:
    part = fact.agents[ext]
    acc.handled += 1
    acc.answered += part.get("talk", ZERO) + part.get("hold", ZERO) > ZERO
    acc.talk, acc.hold, acc.wrap = acc.talk + part["talk"], acc.hold + part["hold"], acc.wrap + part["wrap"]
    _add_outcomes(acc, fact)


def _rows_of(inp: ReportInput, dim: str) -> dict[tuple[int, str], _Acc]:
    accs: dict[tuple[int, str], _Acc] = defaultdict(_Acc)
    for fact in inp.facts:
        i = index(inp.bounds, fact.at)
        if i is None:
            continue
        if dim in CALL_DIMS:
            for key in _call_keys(fact, dim):
                _add_call(accs[(i, key)], fact, inp.thresholds.get(fact.skill, DEFAULT_SERVICE_LEVEL_S))
            continue
        for ext in fact.agents:
            _add_agent_call(accs[(i, _agent_key(ext, dim, inp.teams))], fact, ext)
        for ext in fact.transfers:
            accs[(i, _agent_key(ext, dim, inp.teams))].transfers += 1
    if dim in AGENT_DIMS:
        for ring in inp.rings:
            i = index(inp.bounds, ring.start)
            if i is not None:
                acc = accs[(i, _agent_key(ring.ext, dim, inp.teams))]
                acc.rung += 1
                acc.missed += not ring.answered
        for (i, ext), time in inp.agent_time.items():
            mine = accs[(i, _agent_key(ext, dim, inp.teams))].time
            for state, spent in time.states.items():
                mine.states[state] = mine.states.get(state, ZERO) + spent
            for reason, spent in time.not_ready.items():
                mine.not_ready[reason] = mine.not_ready.get(reason, ZERO) + spent
    return accs


def _ratio(top: int, bottom: int) -> float | None:
    return top / bottom if bottom else None


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _figures(acc: _Acc, dim: str, surveys_exist: bool) -> dict[str, float | int | None]:
    handle = acc.talk + acc.hold + acc.wrap
    values: dict[str, float | int | None] = {
        "offered": acc.offered, "answered": acc.answered, "abandoned": acc.abandoned, "short_abandoned": acc.short,
        "service_level": _ratio(acc.in_time, acc.offered - acc.short),
        "asa": _seconds(sum(acc.waits, ZERO) / len(acc.waits)) if acc.waits else None,
        "longest_wait": _seconds(acc.longest),
        "aht": _seconds(handle / acc.handled) if acc.handled else None,
        "talk": _seconds(acc.talk / acc.handled) if acc.handled else None,
        "hold": _seconds(acc.hold / acc.handled) if acc.handled else None,
        "wrap": _seconds(acc.wrap / acc.handled) if acc.handled else None,
        "transfers": acc.transfers, "callbacks_requested": acc.cb_requested, "callbacks_completed": acc.cb_done,
        "fcr": _ratio(acc.fcr_yes, acc.fcr_known),
        "satisfaction": _ratio(acc.satisfied, acc.surveys_answered) if surveys_exist else None,
        "survey_response": _ratio(acc.surveys_answered, acc.surveys_offered) if surveys_exist else None,
        "rung": acc.rung, "missed": acc.missed, "occupancy": acc.time.occupancy,
        "logged_in": _seconds(acc.time.logged_in),
    }
    for state in STATE_COLUMNS:
        values[f"state.{state}"] = _seconds(acc.time.states.get(state, ZERO))
    for reason in NOT_READY_COLUMNS:
        values[f"not_ready.{reason}"] = _seconds(acc.time.not_ready.get(reason, ZERO))
    return {f.code: values[f.code] for f in figures_for(dim)}


def report(inp: ReportInput, dim: str, visible: set[str] | None = None) -> list[dict]:
    """Rows {"interval": i, "key": key, <figure code>: value} by interval then key; ``visible``:
    the only keys this reader may see (a supervisor's agents or teams), None for all."""
    if dim not in DIMS:
        raise ValueError(f"dimension is one of {', '.join(DIMS)}, not {dim!r}")
    rows = []
    for (i, key), acc in sorted(_rows_of(inp, dim).items()):
        if visible is not None and key not in visible:
            continue
        rows.append({"interval": i, "key": key, **_figures(acc, dim, inp.surveys_exist)})
    return rows
