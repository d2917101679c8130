"""Wallboard figures, table-driven: today's calls and live calls in, one row per queue out."""
from datetime import datetime, timedelta, timezone

from acd.protocol import AgentSnapshot, LiveCall
from agent_desktop.i18n import STRINGS
from agent_desktop.wallboard import TodayCall, agent_rows, queue_figures

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
NOW = T0.timestamp() + 3600


def call(skill, waited_s=None, end=None):
    answered = T0 + timedelta(seconds=waited_s) if waited_s is not None else None
    return TodayCall(skill, T0, answered, end)


def test_queue_rows_count_waiting_answered_abandoned_and_service_level():
    today = [
        call("billing", waited_s=5), call("billing", waited_s=19), call("billing", waited_s=21),  # 2 of 3 in 20 s
        call("billing", end="abandoned_waiting"),
        call("complaint", end="abandoned_ringing"),
        call("complaint", end="hung_up_in_ivr"),  # never offered to an agent: not counted
        call("complaint", end="callback_requested"),  # left the queue for a call back: not abandoned
    ]
    live = {c.uniqueid: c for c in (
        LiveCall("a", skill="billing", queued_at=NOW - 40),
        LiveCall("b", skill="billing", queued_at=NOW - 10),
        LiveCall("c", skill="billing", queued_at=NOW - 90, agent="1001"),  # ringing: not waiting
        LiveCall("d", skill="vip", queued_at=NOW - 3))}  # a queue with no configuration yet
    rows = queue_figures({"billing": 20, "complaint": 30, "general": 20}, live, today, NOW)
    assert rows == [
        {"skill": "billing", "waiting": 2, "longest_wait_s": 40, "answered": 3, "abandoned": 1, "service_level": 50.0},
        {"skill": "complaint", "waiting": 0, "longest_wait_s": 0, "answered": 0, "abandoned": 1,
         "service_level": 0.0},
        {"skill": "general", "waiting": 0, "longest_wait_s": 0, "answered": 0, "abandoned": 0, "service_level": None},
        {"skill": "vip", "waiting": 1, "longest_wait_s": 3, "answered": 0, "abandoned": 0, "service_level": None},
    ]


def test_agents_shown_are_only_those_the_viewer_may_see():
    agents = {"1001": AgentSnapshot("1001", "not_ready", reason="meal", since=NOW - 65),
              "1002": AgentSnapshot("1002", "ready", since=NOW - 5)}
    rows = agent_rows(agents, {"1001": "Sun Li"}, NOW)
    assert rows == [{"ext": "1001", "name": "Sun Li", "state": "not_ready", "reason": "meal", "call": "",
                     "in_state_s": 65, "since": NOW - 65}]


def test_every_screen_text_exists_in_both_languages():
    assert all(set(entry) == {"en", "zh"} and all(entry.values()) for entry in STRINGS.values())
