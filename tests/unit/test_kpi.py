"""The operator's KPIs, table-driven: calls, orders and the health log in, each KPI's numerator
and denominator out, worked out by hand."""
from __future__ import annotations

from datetime import timedelta

import pytest

from callcenter.runtime.health_log import HealthLog, read_health_log
from cdr import agent_time
from cdr.availability import SILENT_AFTER_S, availability
from cdr.call_facts import facts
from cdr.kpi import OrderRow, acceptance_reply, answer_time_limit, connect_rate, kpis
from tests.unit import report_tables as t

NOW = t.at("+3 00:00:00")

# Reaching the center to the answer (menu included), against a 15 s limit:
# c1 12 s in time; c2 exactly 15 s in time; c3 20 s: over; c4 abandoned after 30 s: over;
# c5 abandoned in 2 s: a short abandon, left out; c6 finished in the menu: not offered.
CALLS = """
uid | started  | queued   | answered | ended    | reason            | skill
c1  | 08:00:00 | 08:00:05 | 08:00:12 | 08:03:00 | agent_hangup      | billing
c2  | 08:10:00 | 08:10:05 | 08:10:15 | 08:13:00 | caller_hangup     | billing
c3  | 08:20:00 | 08:20:05 | 08:20:20 | 08:23:00 | agent_hangup      | billing
c4  | 08:30:00 | 08:30:05 |          | 08:30:35 | abandoned_waiting | billing
c5  | 08:40:00 | 08:40:05 |          | 08:40:07 | abandoned_waiting | billing
c6  | 08:50:00 |          |          | 08:52:00 | ivr_ended         |
c7  | 08:55:00 |          |          | 08:55:30 | hung_up_in_ivr    |
"""


def call_facts():
    return facts(t.calls(CALLS), agent_time.intervals([], NOW), now=NOW, short_abandon_s=5)


def test_answer_time_limit_counts_from_reaching_the_center():
    kpi = answer_time_limit(call_facts(), limit_s=15)
    # offered without short abandons: c1-c4; within 15 s of entering: c1, c2
    assert (kpi.top, kpi.bottom, kpi.value, dict(kpi.extra)) == (2, 4, 0.5, {"over_limit": 2})


def test_incoming_connect_rate_counts_self_service():
    kpi = connect_rate(call_facts())
    # answered c1 c2 c3, self-service c6, over all 7 calls that reached the center
    assert (kpi.top, kpi.bottom) == (4, 7)


@pytest.mark.parametrize("orders,top,bottom", [
    # replied before its deadline; replied after; not replied and overdue; not due yet (unknown)
    ([("business", "08:00", "12:00", "11:00"), ("business", "08:00", "12:00", "12:30"),
      ("business", "08:00", "12:00", None), ("business", "08:00", "+4 12:00:00", None)], 1, 3),
    # only business acceptance counts; replied exactly at the deadline is in time
    ([("fault", "08:00", "12:00", "13:00"), ("business", "08:00", "12:00", "12:00")], 1, 1),
    ([], 0, 0),
])
def test_business_acceptance_reply_time_limit(orders, top, bottom):
    rows = [OrderRow(family, t.at(f"{c}:00" if len(c) == 5 else c), t.at(f"{d}:00" if len(d) == 5 else d),
                     t.at(f"{r}:00") if r else None) for family, c, d, r in orders]
    kpi = acceptance_reply(rows, NOW)
    assert (kpi.top, kpi.bottom) == (top, bottom)
    assert kpi.value == (top / bottom if bottom else None)


def entries(text: str) -> list[dict]:
    """at (seconds) | event | service | up"""
    out = []
    for row in t.table(text):
        entry = {"at": float(row["at"]), "event": row["event"]}
        if row["event"] == "start":
            entry["services"] = ["redis", "acd"]
        if row["event"] == "health":
            entry.update(service=row["service"], up=row["up"] == "up")
        out.append(entry)
    return out


@pytest.mark.parametrize("log,start,end,up,observed", [
    # both up from 10 to 100, acd down 100-130, up to the stop at 200; observed 0-300 from the start at 0:
    # up 90 + 70 = 160 of 300 (the time after the stop is down)
    ("""
     at  | event  | service | up
     0   | start  |         |
     5   | health | redis   | up
     10  | health | acd     | up
     40  | alive  |         |
     100 | health | acd     | down
     130 | health | acd     | up
     160 | alive  |         |
     200 | stop   |         |
     """, 0, 300, 160, 300),
    # the period starts before the log does: only from the first start is observed
    ("""
     at  | event  | service | up
     100 | start  |         |
     100 | health | redis   | up
     100 | health | acd     | up
     150 | alive  |         |
     """, 0, 200, 100, 100),
    # a supervisor killed outright: up until its last line + the grace, down after
    ("""
     at  | event  | service | up
     0   | start  |         |
     0   | health | redis   | up
     0   | health | acd     | up
     60  | alive  |         |
     """, 0, 1000, 60 + SILENT_AFTER_S, 1000),
    # nothing logged: not available, not 0 %
    ("""
     at | event | service | up
     """, 0, 100, 0, 0),
])
def test_system_availability_from_the_health_log(log, start, end, up, observed):
    found = availability(entries(log) if log.strip().count("\n") > 1 else [], start, end, now=10_000)
    assert (found.up_s, found.observed_s) == (up, observed)
    assert found.ratio == (up / observed if observed else None)


def test_the_supervisors_health_log_writes_changes_only(tmp_path):
    clock = iter(float(i) for i in range(100))
    log = HealthLog(tmp_path / "service_health.jsonl", clock=lambda: next(clock))
    log.start(["acd"])
    log.health("acd", True, "running")
    log.health("acd", True, "running")
    log.health("acd", False, "task ticks\ndown")
    (tmp_path / "service_health.jsonl").open("a").write('{"at": 9, "event"')  # a torn last line
    got = read_health_log(tmp_path / "service_health.jsonl")
    assert [(e["event"], e.get("up")) for e in got] == [("start", None), ("health", True), ("health", False)]
    assert got[-1]["why"] == "task ticks?down"


def test_kpis_without_survey_or_quality_data_are_not_available_never_zero():
    found = {k.code: k for k in kpis(call_facts(), limit_s=15, found=availability([], 0, 1, 1), orders=[], now=NOW)}
    for code in ("satisfaction", "answer_overtime_rate", "query_accuracy", "availability", "acceptance_reply"):
        assert found[code].value is None, code
    assert list(found) == ["answer_time_limit", "answer_overtime_rate", "query_accuracy", "connect_rate",
                           "availability", "satisfaction", "acceptance_reply"]


def test_a_48_hour_window_not_over_is_unknown():
    one = facts(t.calls(CALLS), [], now=t.at("09:00:00"), short_abandon_s=5)
    assert {f.resolved_first_time for f in one} == {None}
    later = t.calls("""
    uid | started     | number
    r1  | +1 08:00:00 | 13800000001
    """)
    calls = t.calls("""
    uid | started  | queued   | answered | ended    | reason       | skill   | number
    f1  | 08:00:00 | 08:00:05 | 08:00:12 | 08:03:00 | agent_hangup | billing | 13800000001
    f2  | 08:10:00 | 08:10:05 | 08:10:12 | 08:13:00 | agent_hangup | billing | 13800000002
    """)
    found = facts(calls, [], later_calls=later, now=NOW)
    assert [f.resolved_first_time for f in found] == [False, True]  # f1's caller called again within 48 h
    assert timedelta(hours=48) > t.at("+1 08:00:00") - t.at("08:03:00")
