"""Router.route with small fakes: a decision the shared state refuses puts the call back."""
from __future__ import annotations

from acd.protocol import AgentChange, AgentSnapshot, LiveCall
from tests.unit.fakes import FakeAmi, FakeStore, make_router

CHANNEL = "Local/10000@hotline-0001;2"


def waiting_call() -> LiveCall:
    return LiveCall("c1", channel=CHANNEL, skill="billing", queued_at=90.0)


async def test_an_agent_taken_elsewhere_does_not_lose_the_call():
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "reserved", call="other"),
                              "1002": AgentSnapshot("1002", "ready")},
                      live_calls={"c1": waiting_call()})
    router = make_router(store, skills={"1001": {"billing": 5}, "1002": {"billing": 3}}, clock=lambda: 100.0)
    router.core.agent_idle("1001", 0.0)  # our view is behind: 1001 was reserved by another router
    router.core.agent_idle("1002", 50.0)
    router._queue_locally(store.live_calls["c1"])
    await router.route()
    assert store.live_calls["c1"].agent == "1002"
    assert [a["Channel"] for a in router.actions.ami.named("Redirect")] == [CHANNEL]


async def test_a_refused_redirect_leaves_the_call_waiting_for_the_next_pass():
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "ready")}, live_calls={"c1": waiting_call()})
    router = make_router(store, FakeAmi(refuse={"Redirect"}), skills={"1001": {"billing": 5}}, clock=lambda: 100.0)
    router.core.agent_idle("1001", 0.0)
    router._queue_locally(store.live_calls["c1"])
    await router.route()
    assert store.live_agents["1001"].state == "ready" and store.live_calls["c1"].agent == ""
    assert not router.core.calls["c1"].waiting  # not at once: that would loop on a refusing Asterisk
    router.on_agent_change(AgentChange("1001", "ready", "", "", 100.0))  # the release, announced
    await router.tick()  # the next tick tries again
    assert len(router.actions.ami.named("Redirect")) == 2


async def test_after_a_gap_in_the_changes_the_router_reads_every_agent_again():
    """A change published while the router was not subscribed (Redis restarting) is not lost."""
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "not_ready", reason="break")}, live_calls={"c1": waiting_call()})
    router = make_router(store, skills={"1001": {"billing": 5}}, clock=lambda: 100.0)
    router._queue_locally(store.live_calls["c1"])
    await router.route()
    assert store.live_calls["c1"].agent == ""  # nobody ready
    await store.transition("1001", "ready", 99.0)  # made ready while nobody listened
    await router.resync_agents()
    assert store.live_calls["c1"].agent == "1001" and store.live_agents["1001"].state == "reserved"


async def test_a_refused_redirect_on_arrival_is_undone_before_the_calls_next_event():
    """A caller who arrives with an agent free is connected without holding up other events; if
    Asterisk refuses the redirect, the undoing still comes before that call's next event."""
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "ready")})
    router = make_router(store, FakeAmi(refuse={"Redirect"}), skills={"1001": {"billing": 5}}, clock=lambda: 100.0)
    router.core.agent_idle("1001", 0.0)

    def event(name: str, context: str, **headers) -> dict:
        return {"Event": "UserEvent", "UserEvent": name, "CallId": "c1", "Uniqueid": "c1", "Channel": CHANNEL,
                "Context": context, **headers}

    await router.on_user_event(event("CallQueued", "cc-wait", Skill="billing"))
    await router.on_user_event(event("CallEnded", "cc-hangup", Stage="waiting"))  # hung up meanwhile
    assert len(router.actions.ami.named("Redirect")) == 1
    assert store.live_agents["1001"].state == "ready" and "c1" not in store.live_calls
    assert not router._connecting
