"""The routing rules, one by one, on the pure decision core."""
import pytest

from acd.core import Dispatcher, OverflowStep, QueuePolicy


def floor(*agents, policies=()):
    d = Dispatcher(policies={p.skill: p for p in policies})
    for agent_id, skills, idle_since in agents:
        d.set_agent(agent_id, skills)
        if idle_since is not None:
            d.agent_idle(agent_id, idle_since)
    return d


def test_skill_match_then_best_level_then_longest_idle():
    d = floor(("1001", {"billing": 3}, 100.0), ("1002", {"billing": 5}, 200.0), ("1003", {"billing": 5}, 150.0),
              ("1004", {"fault": 5}, 10.0))
    d.add_call("c1", "billing", 300.0)
    decision = d.next_decision(now=312.0)
    assert decision.agent_id == "1003"  # level 5, idle longer than 1002; 1004 lacks the skill
    assert decision.reason == ("agent 1003: skill billing level 5, idle 162 s; 2 others eligible; "
                               "call waited 12 s")


def test_no_agent_with_the_skill_means_no_decision():
    d = floor(("1004", {"fault": 5}, 10.0))
    d.add_call("c1", "billing", 0.0)
    assert d.next_decision(now=1.0) is None


def test_transferred_first_then_vip_then_by_wait():
    d = floor(("1001", {"billing": 3}, 0.0))
    d.add_call("old", "billing", 10.0)
    d.add_call("vip", "billing", 20.0, vip=True)
    d.add_call("transfer", "billing", 30.0, transferred=True)
    order = []
    for t in (40.0, 41.0, 42.0):
        decision = d.next_decision(now=t)
        d.commit(decision)
        order.append(decision.call_id)
        d.agent_idle("1001", t)
    assert order == ["transfer", "vip", "old"]


def test_vip_gets_the_highest_level_agent():
    d = floor(("1001", {"billing": 2}, 0.0), ("1002", {"billing": 5}, 50.0))
    d.add_call("vip", "billing", 60.0, vip=True)
    assert d.next_decision(now=61.0).agent_id == "1002"


def test_overflow_to_general_agents_of_a_level_after_the_queue_time():
    policy = QueuePolicy("billing", (OverflowStep(30, 4), OverflowStep(90, 2)))
    d = floor(("2001", {"general": 4}, 0.0), ("2002", {"general": 2}, 0.0), policies=[policy])
    d.add_call("c1", "billing", 100.0)
    assert d.next_decision(now=120.0) is None  # not yet
    first = d.next_decision(now=131.0)
    assert first.agent_id == "2001" and "overflow to general level>=4" in first.reason
    d.commit(first)
    d.add_call("c2", "billing", 100.0)
    assert d.next_decision(now=150.0) is None  # only level 2 left; the second step is at 90 s
    assert d.next_decision(now=191.0).agent_id == "2002"


def test_a_caller_who_overflowed_is_not_held_up_by_a_vip_who_has_not():
    policy = QueuePolicy("billing", (OverflowStep(30, 4),))
    d = floor(("2001", {"general": 4}, 0.0), policies=[policy])
    d.add_call("old", "billing", 100.0)
    d.add_call("vip", "billing", 125.0, vip=True)  # first in its queue, but waited only 10 s
    decision = d.next_decision(now=135.0)
    assert decision.call_id == "old" and decision.agent_id == "2001"
    d.commit(decision)
    assert d.next_decision(now=136.0) is None  # the VIP waits for a billing agent, or its own overflow
    d.agent_idle("2001", 150.0)
    assert d.next_decision(now=155.0).call_id == "vip"  # waited 30 s: overflowed now


def test_unclassified_calls_go_to_general_agents():
    d = floor(("2001", {"general": 1}, 0.0), ("1001", {"billing": 5}, 0.0))
    d.add_call("c1", "", 5.0)
    assert d.next_decision(now=6.0).agent_id == "2001"


def test_busy_agents_are_not_offered_and_a_returning_call_keeps_its_place():
    d = floor(("1001", {"billing": 3}, 0.0))
    d.add_call("first", "billing", 10.0)
    d.add_call("second", "billing", 20.0)
    decision = d.next_decision(now=30.0)
    d.commit(decision)
    assert d.next_decision(now=31.0) is None  # the only agent is reserved (or wrapping up)
    d.add_call("first", "billing", 35.0)  # not answered: back, with its first queued time
    d.agent_idle("1001", 36.0)
    assert d.next_decision(now=37.0).call_id == "first"


def test_decide_all_never_gives_one_agent_two_calls():
    d = floor(*[(f"10{i:02d}", {"billing": 1 + i % 5}, float(i)) for i in range(10)])
    for n in range(25):
        d.add_call(f"c{n}", "billing", float(n))
    decisions = d.decide_all(now=100.0)
    assert len(decisions) == 10 and len({x.agent_id for x in decisions}) == 10


def test_levels_are_checked():
    with pytest.raises(ValueError):
        Dispatcher().set_agent("1001", {"billing": 7})


def test_a_decision_not_carried_out_puts_the_call_back_in_its_place():
    d = floor(("1001", {"billing": 5}, 0.0), ("1002", {"billing": 3}, 0.0))
    d.add_call("c1", "billing", 10.0)
    d.add_call("c2", "billing", 20.0)
    first = d.next_decision(now=30.0)
    d.commit(first)  # 1001 turned out to be taken by another router: the router puts c1 back
    d.put_back("c1")
    again = d.next_decision(now=31.0)
    assert (first.agent_id, again.call_id, again.agent_id) == ("1001", "c1", "1002")  # c1 still first
    d.commit(again)
    assert d.next_decision(now=32.0) is None  # no agent left: no loop
    d.put_back("gone")  # a call that ended meanwhile is no error
