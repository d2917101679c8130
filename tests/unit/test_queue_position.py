from acd.core import Dispatcher
from acd.protocol import LiveCall
from ivr.queue_routes import expected_wait_minutes, position_in_queue

CALLS = {c.uniqueid: c for c in (
    LiveCall("a", skill="general", priority=0, queued_at=10.0),
    LiveCall("b", skill="general", priority=3, queued_at=20.0),  # VIP: ahead of a
    LiveCall("c", skill="general", priority=0, queued_at=5.0, agent="1001"),  # being connected
    LiveCall("d", skill="consult", priority=0, queued_at=1.0),  # another queue
    LiveCall("e", skill="general", priority=0, queued_at=30.0, transferred=True),
)}


def test_position_follows_the_serving_order():
    assert [position_in_queue(CALLS, x) for x in "eba"] == [1, 2, 3]
    assert position_in_queue(CALLS, "d") == 1
    assert position_in_queue(CALLS, "c") is None and position_in_queue(CALLS, "zz") is None


def test_the_position_a_caller_hears_is_the_order_the_router_serves():
    core = Dispatcher()
    core.set_agent("1001", {"general": 1})
    for call in CALLS.values():
        if call.waiting and call.skill == "general":
            core.add_call(call.uniqueid, call.skill, call.queued_at, vip=call.vip, transferred=call.transferred)
    served = []
    for n in range(3):
        core.agent_idle("1001", float(n))
        decision = core.next_decision(100.0)
        core.commit(decision)
        served.append(decision.call_id)
    assert served == sorted(served, key=lambda uid: position_in_queue(CALLS, uid)) == ["e", "b", "a"]


def test_expected_wait():
    assert expected_wait_minutes(3, 2, 180) == 5  # 3 callers x 3 min / 2 agents = 4.5 -> 5
    assert expected_wait_minutes(1, 0, 180) == 3
    assert expected_wait_minutes(1, 10, 60) == 1
