"""Router.route with small fakes: a decision the shared state refuses puts the call back."""
from __future__ import annotations

from acd.router import Queue, Router
from tests.unit.test_router_commands import FakeManager, FakeStore


async def test_an_agent_taken_elsewhere_does_not_lose_the_call():
    store = FakeStore(agents={"1001": {"state": "reserved", "call": "other"}, "1002": {"state": "ready"}},
                      calls={"c1": {"channel": "Local/10000@hotline-0001;2", "skill": "billing", "agent": ""}})
    skills = {"1001": {"billing": 5}, "1002": {"billing": 3}}
    router = Router(store, FakeManager(), {"billing": Queue("billing")}, skills, clock=lambda: 100.0)
    router.core.agent_idle("1001", 0.0)  # our view is behind: 1001 was reserved by another router
    router.core.agent_idle("1002", 50.0)
    router._queue_locally("c1", store.calls["c1"])
    await router.route()
    assert store.calls["c1"]["agent"] == "1002"
    redirect = [a for a in router.manager.actions if a["Action"] == "Redirect"]
    assert [a["Channel"] for a in redirect] == ["Local/10000@hotline-0001;2"]


async def test_a_refused_redirect_leaves_the_call_waiting_for_the_next_pass():
    class Refusing(FakeManager):
        async def send_action(self, action):
            self.actions.append(action)
            return {"Response": "Error", "Message": "No such channel"} if action["Action"] == "Redirect" \
                else {"Response": "Success"}
    store = FakeStore(agents={"1001": {"state": "ready"}},
                      calls={"c1": {"channel": "Local/10000@hotline-0001;2", "skill": "billing", "agent": ""}})
    router = Router(store, Refusing(), {"billing": Queue("billing")}, {"1001": {"billing": 5}}, clock=lambda: 100.0)
    router.core.agent_idle("1001", 0.0)
    router._queue_locally("c1", store.calls["c1"])
    await router.route()
    assert store.agents["1001"]["state"] == "ready" and store.calls["c1"]["agent"] == ""
    assert not router.core.calls["c1"].waiting  # not at once: that would loop on a refusing Asterisk
    router.on_agent_change({"ext": "1001", "state": "ready", "since": "100.0"})  # the release, announced
    await router.tick()  # the next tick tries again
    assert [a["Action"] for a in router.manager.actions].count("Redirect") == 2
