"""A seat logged out while busy (issue 15, "Sessions": a deactivated agent is logged out of the
router and never rung again). The admin's logout of a seat that is reserved, ringing or on a call
is kept as a mark; the call goes on, and when it is over (wrap-up included, or the ring unanswered)
the seat is logged out, reason logout_after_call, and no call is offered to it in between. Two
routers on one store each hear every event (tests/unit/test_two_routers.py): the second handling
changes nothing. The real store's Lua gives the same answers (tests/integration/test_store_contract.py).
"""
from __future__ import annotations

import pytest

from acd.commands import CommandHandler
from acd.protocol import AcdError, AgentSnapshot, LiveCall, Queue
from callcenter import dialplan as dp
from tests.unit.fakes import FakeStore, make_router

CALLS = {"c1": "Local/10000@hotline-0001;2", "c2": "Local/10000@hotline-0002;2"}
QUEUES = {"billing": Queue("billing", wrapup_s=5, no_answer_limit=3)}
LOGOUT = {"op": "state", "ext": "1001", "to": "logged_out", "when_free": True, "by": "admin"}


def event(name: str, call: str, context: str, **headers) -> dict:
    return {"Event": "UserEvent", "UserEvent": name, "CallId": call, "Uniqueid": call, "Channel": CALLS[call],
            "Context": context, **headers}


def floor(state: str) -> FakeStore:
    """Agent 1001 {state} on c1 (1002 not ready), and c2 waiting for billing."""
    return FakeStore(live_agents={"1001": AgentSnapshot("1001", state, since=95.0, call="c1"),
                                  "1002": AgentSnapshot("1002", "not_ready", reason="break")},
                     live_calls={"c1": LiveCall("c1", channel=CALLS["c1"], skill="billing", agent="1001"),
                                 "c2": LiveCall("c2", channel=CALLS["c2"], skill="billing", queued_at=90.0)})


def routers(store: FakeStore, now: list[float]):
    made = [make_router(store, queues=QUEUES, skills={"1001": {"billing": 5}, "1002": {"billing": 1}},
                        clock=lambda: now[0]) for _ in range(2)]
    for router in made:
        router._queue_locally(store.live_calls["c2"])
    return made


async def hear(routers_, raw: dict) -> None:
    """Every router hears the event, and every change the store published since."""
    seen = len(routers_[0].store.changes)
    for router in routers_:
        await router.on_user_event(raw)
    for change in routers_[0].store.changes[seen:]:
        for router in routers_:
            router.on_agent_change(change)


async def test_an_agent_on_a_call_is_logged_out_when_the_call_and_wrapup_end_and_never_offered_c2():
    store, now = floor("on_call"), [100.0]
    first, second = routers(store, now)
    answer = await CommandHandler(first.manager).handle(LOGOUT)
    assert answer == {"state": "on_call", "logout_pending": True}
    assert store.live_agents["1001"].state == "on_call"  # the call goes on
    await hear([first, second], event("CallEnded", "c1", dp.HANGUP_HANDLER, Stage="agent", End="caller_hangup"))
    assert store.live_agents["1001"].state == "wrapup"
    now[0] = 106.0  # past the wrap-up's end: each router's tick ends it
    for router in (first, second):
        await router.tick()
    agent = store.live_agents["1001"]
    assert (agent.state, agent.reason, agent.call) == ("logged_out", "logout_after_call", "")
    assert store.live_calls["c2"].agent == "" and not first.actions.ami.named("Redirect")  # c2 still waits
    assert [(c.state, c.reason) for c in store.changes if c.ext == "1001"] == [
        ("wrapup", ""), ("logged_out", "logout_after_call")]


async def test_ending_the_wrapup_early_logs_the_marked_seat_out_too():
    store, now = floor("on_call"), [100.0]
    first, _second = routers(store, now)
    await CommandHandler(first.manager).handle(LOGOUT)
    await first.on_user_event(event("CallEnded", "c1", dp.HANGUP_HANDLER, Stage="agent", End="caller_hangup"))
    # the agent (or a supervisor) ends the wrap-up at once: not ready for c2, logged out
    assert await first.manager.end_wrapup("1001") == "logged_out"
    await first.route()
    assert store.live_calls["c2"].agent == ""


async def test_a_ringing_seat_rings_to_its_end_then_is_logged_out_and_c2_goes_elsewhere():
    store, now = floor("ringing"), [100.0]
    first, second = routers(store, now)
    assert await CommandHandler(second.manager).handle(LOGOUT) == {"state": "ringing", "logout_pending": True}
    await store.transition("1002", "ready", 100.0)
    for router in (first, second):
        router.on_agent_change(store.changes[-1])
    await hear([first, second], event("AgentNoAnswer", "c1", dp.CONNECT, Agent="1001", DialStatus="NOANSWER"))
    assert (store.live_agents["1001"].state, store.live_agents["1001"].reason) == ("logged_out", "logout_after_call")
    await first.route()
    await second.route()
    assert store.live_calls["c2"].agent == "1002"  # the waiting caller goes to the agent still working
    assert [a["Value"] for a in first.actions.ami.named("Setvar") + second.actions.ami.named("Setvar")
            if a["Variable"] == "CC_AGENT_EXT"] == ["1002"]


@pytest.mark.parametrize("state", ["ready", "not_ready", "wrapup"])
async def test_a_seat_that_is_not_busy_is_logged_out_at_once(state):
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", state, reason="break" if state == "not_ready" else "")})
    router = make_router(store, queues=QUEUES, clock=lambda: 100.0)
    assert await CommandHandler(router.manager).handle(LOGOUT) == {"state": "logged_out"}
    assert store.live_agents["1001"].state == "logged_out" and not store.logout_pending
    # and once more: already logged out is the outcome wanted, not an error
    assert await CommandHandler(router.manager).handle(LOGOUT) == {"state": "logged_out"}


async def test_without_when_free_a_busy_seat_is_still_refused_and_unmarked():
    """An agent's own logout (the desktop's state command) keeps its rule: not while on a call."""
    store = floor("on_call")
    router = make_router(store, queues=QUEUES, clock=lambda: 100.0)
    with pytest.raises(AcdError) as refused:
        await CommandHandler(router.manager).handle({**LOGOUT, "when_free": None})
    assert refused.value.code == "INVALID_AGENT_TRANSITION" and not store.logout_pending


async def test_the_logout_is_audited_with_the_admin_as_actor():
    store, rows = floor("on_call"), []

    async def audit(*row):
        rows.append(row)
    router = make_router(store, queues=QUEUES, clock=lambda: 100.0)
    router.manager.audit = audit
    await CommandHandler(router.manager).handle(LOGOUT)
    assert rows == [("admin", "agent_state", "1001", "to logged_out when free (now on_call)")]
