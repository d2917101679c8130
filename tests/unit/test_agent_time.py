"""Agents' state intervals add up exactly: per agent, the time in each state summed over every
report interval equals their logged-in time, read independently from their logins and logouts,
to the microsecond, for every interval size, in a zone with daylight saving too."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from acd import agent_state as st
from cdr import agent_time
from cdr.agent_time import ZERO, StateRow
from cdr.periods import SIZES, Period, edges

LOGGED_IN = [s for s in st.STATES if s != st.LOGGED_OUT]


def random_day(seed: int, start: datetime, agents: int = 4, changes: int = 120) -> list[StateRow]:
    """Each agent logs in and out and changes state at odd moments (microseconds included),
    sometimes twice in the same microsecond."""
    rng = random.Random(seed)
    rows, seq = [], 0
    for a in range(agents):
        ext, at, state = f"10{a:02d}", start - timedelta(hours=rng.uniform(0, 3)), st.LOGGED_OUT
        for _ in range(changes):
            at += timedelta(seconds=rng.choice([0, rng.uniform(0, 1), rng.uniform(1, 1800)]))
            state = rng.choice([st.LOGGED_OUT, *LOGGED_IN] if state != st.LOGGED_OUT else LOGGED_IN)
            reason = rng.choice(st.NOT_READY_REASONS) if state == st.NOT_READY else None
            rows.append(StateRow(ext, state, at, reason, None, seq))
            seq += 1
    rng.shuffle(rows)  # the order rows arrive in must not matter
    return rows


def clipped(spans, start, end) -> timedelta:
    return sum((min(b, end) - max(a, start) for a, b in spans if min(b, end) > max(a, start)), ZERO)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("seed", range(5))
def test_state_times_add_up_to_logged_in_time_exactly(seed, size, zone):
    zone = ZoneInfo(zone)
    # 2026-10-25: Berlin's clocks go back an hour (a 25-hour day)
    period = Period.local_days(date(2026, 10, 24), date(2026, 10, 26), zone)
    rows = random_day(seed, period.start)
    until = period.end + timedelta(hours=5)
    items = agent_time.intervals(rows, until)
    bounds = edges(period, size)
    per_slot = agent_time.time_in_states(agent_time.cut(items, bounds))
    sessions = agent_time.sessions(rows, until)
    for ext in sessions:
        total = sum((slot.logged_in for (i, e), slot in per_slot.items() if e == ext), ZERO)
        assert total == clipped(sessions[ext], period.start, period.end), ext
        for i in range(len(bounds) - 1):  # and inside each report interval
            slot = per_slot.get((i, ext))
            found = slot.logged_in if slot else ZERO
            assert found == clipped(sessions[ext], bounds[i], bounds[i + 1]), (ext, i)
            if slot:  # not-ready time split by reason adds up to the not-ready time
                assert sum(slot.not_ready.values(), ZERO) == slot.states.get(st.NOT_READY, ZERO)


def test_edges_follow_the_centers_clock():
    shanghai = ZoneInfo("Asia/Shanghai")
    day = Period.local_days(date(2026, 11, 23), date(2026, 11, 23), shanghai)
    assert day.start == datetime(2026, 11, 22, 16, tzinfo=timezone.utc)  # midnight in Shanghai
    assert len(edges(day, "15min")) == 97 and len(edges(day, "30min")) == 49 and len(edges(day, "hour")) == 25
    assert edges(day, "day") == edges(day, "period") == [day.start, day.end]
    berlin = ZoneInfo("Europe/Berlin")
    autumn = Period.local_days(date(2026, 10, 25), date(2026, 10, 25), berlin)
    hours = edges(autumn, "hour")
    assert autumn.end - autumn.start == timedelta(hours=25) and len(hours) == 26  # the repeated hour kept apart
    assert all(b - a == timedelta(hours=1) for a, b in zip(hours, hours[1:]))


def test_ring_outcomes():
    t0 = datetime(2026, 11, 23, tzinfo=timezone.utc)
    rows = [StateRow("1001", "ready", t0), StateRow("1001", "ringing", t0 + timedelta(seconds=1), call="c1"),
            StateRow("1001", "not_ready", t0 + timedelta(seconds=16), reason="no_answer"),
            StateRow("1001", "ready", t0 + timedelta(seconds=30)),
            StateRow("1001", "ringing", t0 + timedelta(seconds=40), call="c2"),
            StateRow("1001", "on_call", t0 + timedelta(seconds=44), call="c2")]
    found = agent_time.rings(agent_time.intervals(rows, t0 + timedelta(minutes=5)))
    assert [(r.call, r.answered) for r in found] == [("c1", False), ("c2", True)]
