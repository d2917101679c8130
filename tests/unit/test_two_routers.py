"""Two routers on one store (scale-out, issue 15): every router hears every dialplan event, so each
event is handled twice, the second time possibly late, after the first router already gave the
agent their next call. The second handling must change nothing (no double booking)."""
from __future__ import annotations

from acd.protocol import AgentSnapshot, LiveCall, Queue
from callcenter import dialplan as dp
from tests.unit.fakes import FakeStore, make_router

CALLS = {"c1": "Local/10000@hotline-0001;2", "c2": "Local/10000@hotline-0002;2"}
QUEUES = {"billing": Queue("billing", no_answer_limit=3)}


def event(name: str, call: str, context: str, **headers) -> dict:
    return {"Event": "UserEvent", "UserEvent": name, "CallId": call, "Uniqueid": call, "Channel": CALLS[call],
            "Context": context, **headers}


def two_routers(store: FakeStore):
    return [make_router(store, queues=QUEUES, skills={"1001": {"billing": 5}}, clock=lambda: 100.0)
            for _ in range(2)]


def ringing_for_c1_with_c2_waiting() -> FakeStore:
    return FakeStore(live_agents={"1001": AgentSnapshot("1001", "ringing", since=95.0, call="c1")},
                     live_calls={"c1": LiveCall("c1", channel=CALLS["c1"], skill="billing", agent="1001"),
                                 "c2": LiveCall("c2", channel=CALLS["c2"], skill="billing", queued_at=90.0)})


async def test_a_no_answer_heard_late_does_not_release_the_agent_from_their_next_call():
    store = ringing_for_c1_with_c2_waiting()
    first, second = two_routers(store)
    first._queue_locally(store.live_calls["c2"])
    no_answer = event("AgentNoAnswer", "c1", dp.CONNECT, Agent="1001", DialStatus="NOANSWER")
    await first.on_user_event(no_answer)
    first.on_agent_change(store.changes[-1])  # released: the first router gives them c2 at once
    await first.route()
    assert (store.live_agents["1001"].state, store.live_agents["1001"].call) == ("reserved", "c2")
    await second.on_user_event(no_answer)  # the same event, heard late by the other router
    agent = store.live_agents["1001"]
    assert (agent.state, agent.call, agent.misses) == ("reserved", "c2", 1)
    assert store.live_calls["c2"].agent == "1001"


async def test_a_ringing_heard_late_does_not_move_the_agent_onto_the_old_call():
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "reserved", since=99.0, call="c2")},
                      live_calls={"c2": LiveCall("c2", channel=CALLS["c2"], skill="billing", agent="1001")})
    _first, second = two_routers(store)
    await second.on_user_event(event("AgentRinging", "c1", dp.CONNECT, Agent="1001"))  # c1 ended meanwhile
    assert (store.live_agents["1001"].state, store.live_agents["1001"].call) == ("reserved", "c2")
    await second.on_user_event(event("AgentRinging", "c2", dp.CONNECT, Agent="1001"))
    assert (store.live_agents["1001"].state, store.live_agents["1001"].call) == ("ringing", "c2")


async def test_a_caller_hanging_up_while_ringing_is_handled_once():
    store = ringing_for_c1_with_c2_waiting()
    first, second = two_routers(store)
    first._queue_locally(store.live_calls["c2"])
    ended = event("CallEnded", "c1", dp.HANGUP_HANDLER, Stage="ringing", End="abandoned")
    await first.on_user_event(ended)
    first.on_agent_change(store.changes[-1])
    await first.route()
    await second.on_user_event(ended)
    assert (store.live_agents["1001"].state, store.live_agents["1001"].call) == ("reserved", "c2")
    assert "c1" not in store.live_calls and store.live_calls["c2"].agent == "1001"


async def test_the_end_of_a_talk_heard_twice_starts_one_wrap_up():
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "on_call", since=50.0, call="c1")},
                      live_calls={"c1": LiveCall("c1", channel=CALLS["c1"], skill="billing", agent="1001")})
    first, second = two_routers(store)
    ended = event("CallEnded", "c1", dp.HANGUP_HANDLER, Stage="agent", End="caller_hangup")
    await first.on_user_event(ended)
    await second.on_user_event(ended)
    assert [(c.state, c.call) for c in store.changes] == [("wrapup", "c1")]


async def test_a_callers_return_from_the_password_check_heard_twice_is_one_journey_row():
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "on_call", since=50.0, call="c1")},
                      live_calls={"c1": LiveCall("c1", channel=CALLS["c1"], skill="billing", agent="1001", held=True)})
    # each router reads its own clock, a moment apart
    routers = [make_router(store, queues=QUEUES, skills={"1001": {"billing": 5}}, clock=lambda at=at: at)
               for at in (100.0, 100.004)]
    rows: list[tuple] = []
    for router in routers:
        router.manager.on_hold = lambda *row: rows.append(row)
    back = event("CallerVerified", "c1", dp.VERIFY, Agent="1001", Verified="1", Timestamp="1764400000.250000")
    for router in routers:  # the second reads the call before the first's write lands, or after
        store.live_calls["c1"] = store.live_calls["c1"].but(held=True)
        await router.on_user_event(back)
    # the same row from both (the event's time, not each router's clock): call_holds keeps it once
    assert rows == [("c1", "1001", "resume", 1764400000.25)] * 2
    assert not store.live_calls["c1"].held


async def test_a_held_callers_agent_leg_gone_sends_the_caller_on_once():
    """Both routers hear AgentLeftHold: one takes the call off hold and sends the caller to the
    survey; a second Redirect would start the caller's survey again."""
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "on_call", since=50.0, call="c1")},
                      live_calls={"c1": LiveCall("c1", channel=CALLS["c1"], skill="billing", agent="1001", held=True)})
    routers = two_routers(store)
    gone = event("AgentLeftHold", "c1", dp.AGENT_HOLD_GONE)
    gone["Channel"] = "Local/1001@cc-agent-phones-0001;1"  # sent from the agent's parked leg
    for router in routers:
        await router.on_user_event(gone)
    redirects = [a for r in routers for a in r.actions.ami.named("Redirect")]
    assert [(a["Channel"], a["Context"]) for a in redirects] == [(CALLS["c1"], dp.SURVEY)]
