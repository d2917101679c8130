"""Agents' time in each state, from agent_state_log (every change the router applied). Pure.

Each row starts a state that lasts until the agent's next row (the last one until "now" or the
end of the report). Intervals are cut at report edges with shared cut points and summed as
``timedelta`` (whole microseconds), so an agent's states in an interval add up to their
logged-in time there exactly, and the intervals add up to the period: no float drift, no second
lost at an edge. ``logged_in`` is every state but logged_out.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from acd import agent_state as st
from cdr.periods import index, utc

ZERO = timedelta(0)
#: states an agent is busy with a call in (the top of the occupancy fraction)
BUSY = (st.RESERVED, st.RINGING, st.ON_CALL, st.WRAPUP)
#: states an agent is staffed and available or busy in (its bottom): not ready is left out
STAFFED = (st.READY, *BUSY)


@dataclass(frozen=True)
class StateRow:
    ext: str
    state: str
    at: datetime
    reason: str | None = None
    call: str | None = None
    seq: int = 0  # the log's id: two changes in the same microsecond keep their order


@dataclass(frozen=True)
class Interval:
    ext: str
    state: str
    reason: str | None
    call: str | None
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def intervals(rows: list[StateRow], until: datetime) -> list[Interval]:
    """Each agent's rows as back-to-back intervals, the last one ending at ``until``."""
    until = utc(until)
    by_agent: dict[str, list[StateRow]] = defaultdict(list)
    for row in rows:
        by_agent[row.ext].append(row)
    out = []
    for ext in sorted(by_agent):
        mine = sorted(by_agent[ext], key=lambda r: (utc(r.at), r.seq))
        for row, nxt in zip(mine, [*mine[1:], None]):
            start = utc(row.at)
            end = utc(nxt.at) if nxt is not None else max(until, start)
            out.append(Interval(ext, row.state, row.reason, row.call, start, min(end, max(until, start))))
    return out


def cut(items: list[Interval], bounds: list[datetime]) -> list[tuple[int, Interval]]:
    """Pieces of each interval inside the report, with the index of the report interval each
    falls in; pieces share their cut points, so they add up to the clipped whole exactly."""
    pieces = []
    for item in items:
        start, end = max(item.start, bounds[0]), min(item.end, bounds[-1])
        while start < end:
            i = index(bounds, start)
            stop = min(end, bounds[i + 1])
            pieces.append((i, Interval(item.ext, item.state, item.reason, item.call, start, stop)))
            start = stop
    return pieces


@dataclass
class AgentTime:
    """One agent in one report interval: time per state (not-ready split by reason too)."""
    states: dict[str, timedelta]
    not_ready: dict[str, timedelta]

    @property
    def logged_in(self) -> timedelta:
        return sum((v for k, v in self.states.items() if k != st.LOGGED_OUT), ZERO)

    @property
    def occupancy(self) -> float | None:
        """Busy with calls (reserved, ringing, talking, holding, wrap-up) over staffed time
        (those plus ready); not-ready time counts in neither. None with no staffed time."""
        staffed = sum((self.states.get(s, ZERO) for s in STAFFED), ZERO)
        busy = sum((self.states.get(s, ZERO) for s in BUSY), ZERO)
        return busy / staffed if staffed > ZERO else None


def time_in_states(pieces: list[tuple[int, Interval]]) -> dict[tuple[int, str], AgentTime]:
    """(report interval, agent) -> AgentTime, for the intervals the agent was logged in in."""
    out: dict[tuple[int, str], AgentTime] = {}
    for i, piece in pieces:
        if piece.state == st.LOGGED_OUT:
            continue
        slot = out.setdefault((i, piece.ext), AgentTime({}, {}))
        slot.states[piece.state] = slot.states.get(piece.state, ZERO) + piece.length
        if piece.state == st.NOT_READY:
            reason = piece.reason or "unknown"
            slot.not_ready[reason] = slot.not_ready.get(reason, ZERO) + piece.length
    return out


def sessions(rows: list[StateRow], until: datetime) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each agent's logged-in spans, from their logins and logouts alone (a second, independent
    reading of the same rows: the tests check the state times add up to these)."""
    out: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    by_agent: dict[str, list[StateRow]] = defaultdict(list)
    for row in rows:
        by_agent[row.ext].append(row)
    for ext, mine in by_agent.items():
        opened: datetime | None = None
        for row in sorted(mine, key=lambda r: (utc(r.at), r.seq)):
            if row.state != st.LOGGED_OUT and opened is None:
                opened = utc(row.at)
            elif row.state == st.LOGGED_OUT and opened is not None:
                out[ext].append((opened, utc(row.at)))
                opened = None
        if opened is not None:
            out[ext].append((opened, max(utc(until), opened)))
    return dict(out)


def call_time(items: list[Interval]) -> dict[tuple[str, str], dict[str, timedelta]]:
    """(call, agent) -> time on the call by state: ringing, on_call (talk and hold), wrapup."""
    out: dict[tuple[str, str], dict[str, timedelta]] = {}
    for item in items:
        if item.call and item.state in BUSY:
            slot = out.setdefault((item.call, item.ext), {})
            slot[item.state] = slot.get(item.state, ZERO) + item.length
    return out


@dataclass(frozen=True)
class Ring:
    ext: str
    call: str
    start: datetime
    answered: bool


def rings(items: list[Interval]) -> list[Ring]:
    """Each time an agent's phone rang for a call, and whether they answered it: a ringing (or
    reserved) interval followed, for that agent, by on_call for the same call."""
    out = []
    by_agent: dict[str, list[Interval]] = defaultdict(list)
    for item in items:
        by_agent[item.ext].append(item)
    for ext, mine in by_agent.items():
        mine.sort(key=lambda i: i.start)
        for item, nxt in zip(mine, [*mine[1:], None]):
            if item.state != st.RINGING or not item.call:
                continue
            answered = nxt is not None and nxt.state == st.ON_CALL and nxt.call == item.call
            out.append(Ring(ext, item.call, item.start, answered))
    return sorted(out, key=lambda r: (r.start, r.ext))
