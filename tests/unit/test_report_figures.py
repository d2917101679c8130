"""Reports, table-driven: the calls and agent states of a scenario in, report rows out, each
figure worked out by hand in the comment beside it. Times are the center's clock (Asia/Shanghai).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from cdr import agent_time
from cdr.call_facts import facts
from cdr.periods import Period, edges, label
from cdr.report import ReportInput, report
from tests.unit import report_tables as t

NOW = t.at("+3 00:00:00")  # every 48-hour repeat window is over
THRESHOLDS = {"billing": 20, "fault": 30}
TEAMS = {"1001": "red", "1002": "red", "1003": "blue"}

SCENARIOS = {
    # a1 left after 3 s (under the 5 s short-abandon threshold), a2 after 40 s.
    # service level: 0 answered in time / (2 offered - 1 short) = 0.0
    "abandoned in 3 s and in 40 s": dict(
        calls="""
        uid | started  | queued   | answered | ended    | reason            | skill
        a1  | 08:00:00 | 08:00:10 |          | 08:00:13 | abandoned_waiting | billing
        a2  | 08:10:00 | 08:10:05 |          | 08:10:45 | abandoned_waiting | billing
        """,
        dim="queue", size="day",
        want="""
        interval   | key     | offered | answered | abandoned | short_abandoned | service_level | asa | longest_wait
        2026-11-23 | billing | 2       | 0        | 1         | 1               | 0.0           | n/a | 40
        """),
    # b1 waited exactly 20 s (billing's target: in time), b2 21 s (late): service level 1/2.
    # ASA (20 + 21) / 2 = 20.5. Handle: b1 180 talk + 30 wrap = 210, b2 89 + 10 = 99; AHT 154.5
    "answered exactly at the threshold, and a second late": dict(
        calls="""
        uid | started  | queued   | answered | ended    | reason        | skill   | agent
        b1  | 09:00:00 | 09:00:10 | 09:00:30 | 09:03:30 | agent_hangup  | billing | 1001
        b2  | 09:10:00 | 09:10:10 | 09:10:31 | 09:12:00 | caller_hangup | billing | 1001
        """,
        states="""
        ext  | at       | state    | call
        1001 | 08:59:00 | ready    |
        1001 | 09:00:25 | reserved | b1
        1001 | 09:00:26 | ringing  | b1
        1001 | 09:00:30 | on_call  | b1
        1001 | 09:03:30 | wrapup   | b1
        1001 | 09:04:00 | ready    |
        1001 | 09:10:25 | reserved | b2
        1001 | 09:10:26 | ringing  | b2
        1001 | 09:10:31 | on_call  | b2
        1001 | 09:12:00 | wrapup   | b2
        1001 | 09:12:10 | ready    |
        """,
        dim="queue", size="day",
        want="""
        interval   | key     | offered | answered | service_level | asa  | longest_wait | aht   | talk  | wrap
        2026-11-23 | billing | 2       | 2        | 0.5           | 20.5 | 21           | 154.5 | 134.5 | 20
        """),
    # on the call 10:00:15-10:05:15 (300 s); on hold 10:01:00-10:02:30 (90 s) and from 10:04:00
    # until the call ended on hold at 10:05:15 (75 s): hold 165, talk 135, wrap 30, AHT 330
    "a hold, and a call that ends on hold": dict(
        calls="""
        uid | started  | queued   | answered | ended    | reason       | skill   | agent
        h1  | 10:00:00 | 10:00:05 | 10:00:15 | 10:05:15 | agent_hangup | billing | 1001
        """,
        states="""
        ext  | at       | state    | call
        1001 | 09:59:00 | ready    |
        1001 | 10:00:12 | reserved | h1
        1001 | 10:00:13 | ringing  | h1
        1001 | 10:00:15 | on_call  | h1
        1001 | 10:05:15 | wrapup   | h1
        1001 | 10:05:45 | ready    |
        """,
        holds="""
        call | ext  | action | at
        h1   | 1001 | hold   | 10:01:00
        h1   | 1001 | resume | 10:02:30
        h1   | 1001 | hold   | 10:04:00
        """,
        dim="all", size="period",
        want="""
        interval   | key | offered | answered | asa | aht | talk | hold | wrap
        2026-11-23 | all | 1       | 1        | 10  | 330 | 135  | 165  | 30
        """),
    # 1002 talks 120 s, transfers to fault, wraps 30 s; 1003 answers 11:02:25 and talks 215 s,
    # wraps 10 s. The call (fault, its last queue) keeps its first wait: 10 s. Its handle time
    # is both agents': 120 + 30 + 215 + 10 = 375.
    "a transfer": dict(
        calls="""
        uid | started  | queued   | answered | ended    | reason       | skill | agent
        t1  | 11:00:00 | 11:00:05 | 11:00:15 | 11:06:00 | agent_hangup | fault | 1003
        """,
        states="""
        ext  | at       | state    | call
        1002 | 10:55:00 | ready    |
        1002 | 11:00:10 | reserved | t1
        1002 | 11:00:12 | ringing  | t1
        1002 | 11:00:15 | on_call  | t1
        1002 | 11:02:15 | wrapup   | t1
        1002 | 11:02:45 | ready    |
        1003 | 10:55:00 | ready    |
        1003 | 11:02:20 | reserved | t1
        1003 | 11:02:21 | ringing  | t1
        1003 | 11:02:25 | on_call  | t1
        1003 | 11:06:00 | wrapup   | t1
        1003 | 11:06:10 | ready    |
        """,
        transfers="""
        call | from | at       | to_skill
        t1   | 1002 | 11:02:15 | fault
        """,
        dim="queue", size="period",
        want="""
        interval   | key   | offered | answered | transfers | asa | aht | talk | wrap
        2026-11-23 | fault | 1       | 1        | 1         | 10  | 375 | 335  | 40
        """),
    # the same transfer by agent: each agent's own part; the transfer is 1002's
    "a transfer, by agent": dict(
        like="a transfer", dim="agent", size="period",
        columns=("answered", "transfers", "aht", "talk", "wrap", "rung", "missed"),
        want="""
        interval   | key  | answered | transfers | aht | talk | wrap | rung | missed
        2026-11-23 | 1002 | 1        | 1         | 150 | 120  | 30   | 1    | 0
        2026-11-23 | 1003 | 1        | 0         | 225 | 215  | 10   | 1    | 0
        """),
    # and by team: 1002 is red, 1003 blue
    "a transfer, by team": dict(
        like="a transfer", dim="team", size="period", columns=("answered", "transfers", "aht"),
        want="""
        interval   | key  | answered | transfers | aht
        2026-11-23 | blue | 1        | 0         | 225
        2026-11-23 | red  | 1        | 1         | 150
        """),
    # the caller chose a call back after 60 s; 1001 called them back at 12:20 (120 s + 10 s wrap).
    # Offered, not answered in the queue, not abandoned: service level 0 / 1.
    "a call back": dict(
        calls="""
        uid | started  | queued   | answered | ended    | reason             | skill
        k1  | 12:00:00 | 12:00:05 |          | 12:01:05 | callback_requested | billing
        """,
        states="""
        ext  | at       | state   | call
        1001 | 12:10:00 | ready   |
        1001 | 12:20:00 | ringing | k1
        1001 | 12:20:05 | on_call | k1
        1001 | 12:22:05 | wrapup  | k1
        1001 | 12:22:15 | ready   |
        """,
        callbacks="""
        call | status
        k1   | done
        """,
        dim="queue", size="day",
        want="""
        interval   | key     | offered | answered | abandoned | callbacks_requested | callbacks_completed | service_level | longest_wait | aht
        2026-11-23 | billing | 1       | 0        | 0         | 1                   | 1                   | 0.0           | 60           | 130
        """),
    # offered 23:59:40 on the 23rd (center time), answered 15 s later, talk 180 s ending on the
    # 24th: the call counts on the 23rd, whole
    "a call spanning midnight": dict(
        calls="""
        uid | started  | queued   | answered | ended       | reason       | skill | agent
        m1  | 23:59:30 | 23:59:40 | 23:59:55 | +1 00:02:55 | agent_hangup | fault | 1003
        """,
        states="""
        ext  | at          | state      | call
        1003 | 23:50:00    | ready      |
        1003 | 23:59:50    | reserved   | m1
        1003 | 23:59:51    | ringing    | m1
        1003 | 23:59:55    | on_call    | m1
        1003 | +1 00:02:55 | wrapup     | m1
        1003 | +1 00:03:05 | ready      |
        1003 | +1 00:10:00 | logged_out |
        """,
        days=2, dim="queue", size="day",
        want="""
        interval   | key   | offered | answered | asa | aht
        2026-11-23 | fault | 1       | 1        | 15  | 190
        """),
    # ... while the agent's time splits at the center's midnight: on the 23rd ready 590 s,
    # reserved 1, ringing 4, talking 5 (600 s logged in); on the 24th talking 175, wrap-up 10,
    # ready 415 until the logout at 00:10 (600 s). Occupancy: 10/600 and 185/600.
    "a call spanning midnight, the agent's day": dict(
        like="a call spanning midnight", days=2, dim="agent", size="day",
        columns=("answered", "logged_in", "state.ready", "state.reserved", "state.ringing", "state.on_call",
                 "state.wrapup", "occupancy"),
        want="""
        interval   | key  | answered | logged_in | state.ready | state.reserved | state.ringing | state.on_call | state.wrapup | occupancy
        2026-11-23 | 1003 | 1        | 600       | 590         | 1              | 4             | 5             | 0            | 0.016667
        2026-11-24 | 1003 | 0        | 600       | 415         | 0              | 0             | 175           | 10           | 0.308333
        """),
    # logged in 08:20, ready 08:25, break 08:40-09:10, ready until the logout at 09:15: the
    # half hours 08:00, 08:30 and 09:00 get 600, 1800 and 900 s, each split by state
    "an agent whose states cross interval edges": dict(
        states="""
        ext  | at       | state      | reason
        1001 | 08:20:00 | not_ready  | login
        1001 | 08:25:00 | ready      |
        1001 | 08:40:00 | not_ready  | break
        1001 | 09:10:00 | ready      |
        1001 | 09:15:00 | logged_out |
        """,
        dim="agent", size="30min",
        columns=("logged_in", "state.ready", "state.not_ready", "not_ready.login", "not_ready.break", "occupancy"),
        want="""
        interval         | key  | logged_in | state.ready | state.not_ready | not_ready.login | not_ready.break | occupancy
        2026-11-23 08:00 | 1001 | 600       | 300         | 300             | 300             | 0               | 0.0
        2026-11-23 08:30 | 1001 | 1800      | 600         | 1200            | 0               | 1200            | 0.0
        2026-11-23 09:00 | 1001 | 900       | 300         | 600             | 0               | 600             | 0.0
        """),
    # 1002's phone rang 15 s for n1 and they did not answer (not ready: no answer); 1001 took it
    "a ring unanswered": dict(
        calls="""
        uid | started  | queued   | answered | ended    | reason       | skill   | agent
        n1  | 13:00:00 | 13:00:05 | 13:00:30 | 13:01:30 | agent_hangup | billing | 1001
        """,
        states="""
        ext  | at       | state     | reason    | call
        1002 | 12:00:00 | ready     |           |
        1002 | 13:00:06 | reserved  |           | n1
        1002 | 13:00:07 | ringing   |           | n1
        1002 | 13:00:22 | not_ready | no_answer |
        1001 | 12:00:00 | ready     |           |
        1001 | 13:00:25 | reserved  |           | n1
        1001 | 13:00:26 | ringing   |           | n1
        1001 | 13:00:30 | on_call   |           | n1
        1001 | 13:01:30 | wrapup    |           | n1
        1001 | 13:01:40 | ready     |           |
        """,
        dim="agent", size="period", columns=("answered", "rung", "missed", "aht"),
        want="""
        interval   | key  | answered | rung | missed | aht
        2026-11-23 | 1001 | 1        | 1    | 0      | 70
        2026-11-23 | 1002 | 0        | 1    | 1      | n/a
        """),
}


def scenario_rows(name: str) -> dict:
    case = SCENARIOS[name]
    return SCENARIOS[case["like"]] if "like" in case else case


def build(name: str) -> tuple[ReportInput, Period]:
    case, rows = SCENARIOS[name], scenario_rows(name)
    period = Period.local_days(t.DAY, t.DAY + timedelta(days=case.get("days", 1) - 1), t.ZONE)
    states = t.states(rows["states"]) if "states" in rows else []
    items = agent_time.intervals(states, NOW)
    found = facts(t.calls(rows["calls"]) if "calls" in rows else [], items,
                  t.holds(rows["holds"]) if "holds" in rows else [],
                  t.transfers(rows["transfers"]) if "transfers" in rows else [],
                  t.callbacks(rows["callbacks"]) if "callbacks" in rows else [], now=NOW, short_abandon_s=5)
    bounds = edges(period, case["size"])
    return ReportInput(found, bounds, agent_time.time_in_states(agent_time.cut(items, bounds)), agent_time.rings(items),
                       THRESHOLDS, TEAMS), period


def cell(value: str | None):
    if value in (None, "n/a"):
        return None
    return float(value)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_gives_these_rows(name):
    case = SCENARIOS[name]
    inp, period = build(name)
    want = t.table(case["want"])
    columns = [c for c in want[0] if c not in ("interval", "key")]
    got = [{"interval": label(inp.bounds[r["interval"]], t.ZONE, case["size"]), "key": r["key"],
            **{c: None if r[c] is None else round(float(r[c]), 6) for c in columns}}
           for r in report(inp, case["dim"])]
    expected = [{"interval": w["interval"], "key": w["key"], **{c: cell(w[c]) for c in columns}} for w in want]
    if case["size"] == "period":
        expected = [dict(e, interval=label(period.start, t.ZONE, "day") + " 00:00") for e in expected]
    assert got == expected


def test_satisfaction_is_not_available_without_survey_data_never_zero():
    inp, _ = build("answered exactly at the threshold, and a second late")
    (row,) = report(inp, "queue")
    assert row["satisfaction"] is None and row["survey_response"] is None


def test_a_supervisor_sees_only_their_agents_rows():
    inp, _ = build("a ring unanswered")
    assert [r["key"] for r in report(inp, "agent", visible={"1002"})] == ["1002"]
