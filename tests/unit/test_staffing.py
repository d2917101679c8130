"""The staffing forecast against Erlang C's closed form (reference points worked out here), and
against the routing simulator (acd.simulate, the real decision core)."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest

from acd.simulate import simulate
from cdr import agent_time
from cdr.call_facts import facts
from cdr.periods import Period
from cdr.staffing import Slot, Target, agents_needed, forecast, slots_from_history
from tests.unit import report_tables as t


def erlang_c(c: int, load: float) -> float:
    """The textbook formula: P(wait) = (A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A))."""
    top = load ** c / math.factorial(c) * c / (c - load)
    return top / (sum(load ** k / math.factorial(k) for k in range(c)) + top)


def closed_form_need(calls_per_hour, aht_s, t_s, target) -> int:
    lam, mu = calls_per_hour / 3600, 1 / aht_s
    c = math.floor(lam / mu) + 1
    while 1 - erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * t_s) < target:
        c += 1
    return c


# (calls per hour, AHT s, threshold s, target) -> agents, each also checked against the closed
# form below; the service level of that many agents, and of one fewer, in the comment
REFERENCE = [
    (100, 180, 20, 0.8, 8),  # 5 erlangs: 8 agents answer 88.0 % within 20 s, 7 only 74.0 %
    (720, 240, 20, 0.8, 54),  # 48 erlangs: 81.7 %, 75.2 %
    (30, 300, 20, 0.8, 5),  # 2.5 erlangs: 89.0 %, 71.1 %
    (1200, 120, 10, 0.9, 48),  # 40 erlangs, 90 % in 10 s: 92.0 %, 88.6 %
]


@pytest.mark.parametrize("per_hour,aht,threshold,target,agents", REFERENCE)
def test_agents_needed_match_erlang_c(per_hour, aht, threshold, target, agents):
    assert closed_form_need(per_hour, aht, threshold, target) == agents
    found, figures = agents_needed(per_hour, aht, Target(target, threshold))
    assert found == agents
    load = per_hour * aht / 3600
    assert figures.p_wait == pytest.approx(erlang_c(agents, load), rel=1e-9)
    assert figures.occupancy == pytest.approx(load / agents, rel=1e-9)


def test_erlang_a_needs_fewer_agents_when_callers_give_up():
    c_agents, _ = agents_needed(720, 240, Target(0.8, 20))
    a_agents, figures = agents_needed(720, 240, Target(0.8, 20, patience_s=120))
    assert a_agents <= c_agents and figures.service_level >= 0.8 and figures.abandon_rate > 0


def test_no_calls_need_no_agents_and_say_so():
    (need,) = forecast([Slot("03:00", 0, 180)], 30, Target())
    assert (need.agents, need.service_level, need.occupancy) == (0, None, None)


@pytest.mark.slow  # the simulator: about 2 s
@pytest.mark.parametrize("patience", [None, 180.0])
def test_the_forecast_holds_in_the_routing_simulator(patience):
    """The forecast's agents, routed by the real core in the discrete-event simulation, meet the
    target; one agent fewer does not (Erlang's figures are the model the simulator samples)."""
    per_hour, aht = 360.0, 200.0
    agents, figures = agents_needed(per_hour, aht, Target(0.8, 20, patience))
    run = simulate(agents, per_hour, aht, 20, calls=40_000, seed=7, patience_s=patience)
    assert run.service_level == pytest.approx(figures.service_level, abs=0.02)
    assert simulate(agents - 1, per_hour, aht, 20, calls=40_000, seed=7, patience_s=patience).service_level < 0.8


def test_load_per_interval_comes_from_history():
    """Two days of history: 08:00-08:30 had 3 calls then 1 (mean 2 a day), 08:30 one call on
    the first day (0.5 a day); handle times from the calls answered in each interval."""
    calls = t.calls("""
    uid | started     | queued      | answered    | ended       | reason       | skill
    d1  | 08:00:00    | 08:00:05    | 08:00:10    | 08:02:10    | agent_hangup | billing
    d2  | 08:10:00    | 08:10:05    | 08:10:10    | 08:14:10    | agent_hangup | billing
    d3  | 08:20:00    | 08:20:05    |             | 08:20:40    | abandoned_waiting | billing
    d4  | 08:40:00    | 08:40:05    |             | 08:40:50    | abandoned_waiting | billing
    d5  | +1 08:05:00 | +1 08:05:05 |             | +1 08:05:35 | abandoned_waiting | billing
    """)
    states = t.states("""
    ext  | at       | state   | call
    1001 | 08:00:05 | on_call | d1
    1001 | 08:02:10 | ready   |
    1001 | 08:10:10 | on_call | d2
    1001 | 08:14:10 | ready   |
    """)
    history = Period.local_days(t.DAY, t.DAY + timedelta(days=1), t.ZONE)
    found = facts(calls, agent_time.intervals(states, t.at("+2 00:00:00")))
    slots = {s.label: s for s in slots_from_history(found, history, "30min")}
    assert len(slots) == 48
    assert (slots["08:00"].calls, slots["08:00"].aht_s) == (2.0, 182.5)  # (125 + 240) / 2
    assert (slots["08:30"].calls, slots["08:30"].aht_s) == (0.5, 182.5)  # none handled: the overall mean
    assert slots["09:00"].calls == 0


def test_the_command_line_prints_the_forecast(capsys):
    from callcenter.cli import main
    assert main(["staffing", "--calls", "360", "--aht", "240", "--interval", "30min", "--json"]) == 0
    (row,) = __import__("json").loads(capsys.readouterr().out)["rows"]
    assert (row["agents"], row["calls"]) == (54, 360.0)  # 720 calls an hour: the 48-erlang reference point
    assert main(["staffing", "--calls", "360", "--aht", "240"]) == 0
    assert " 54 " in capsys.readouterr().out
