"""acd.commands with small fakes of the store and AMI: what each desktop command does, and the
stable error codes for what it must not do."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from acd.agent_state import next_state
from acd.commands import CommandError, CommandHandler
from acd.router import Queue

CALL = "1700000000.5"


@dataclass
class FakeStore:
    agents: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: dict[str, dict[str, str]] = field(default_factory=dict)

    async def agent(self, ext):
        return {"state": "logged_out", **self.agents.get(ext, {})}

    async def call(self, uid):
        return dict(self.calls.get(uid, {}))

    async def transition(self, ext, event, now, reason=None, call="", misses=None):
        try:
            state, why = next_state((await self.agent(ext))["state"], event, reason)
        except ValueError:
            return None
        self.agents[ext] = {**self.agents.get(ext, {}), "state": state, "reason": why or "", "call": call}
        return state

    async def put_call(self, uid, **fields):
        self.calls.setdefault(uid, {}).update({k: str(v) for k, v in fields.items()})

    async def reserve(self, ext, uid, now):
        if (await self.agent(ext))["state"] != "ready":
            return 0
        self.agents[ext].update(state="reserved", call=uid)
        self.calls[uid]["agent"] = ext
        return 1

    async def set_wrapup_until(self, ext, until):
        self.agents[ext]["wrapup_until"] = str(until)

    async def extend_wrapup(self, ext, seconds):
        return None if self.agents.get(ext, {}).get("state") != "wrapup" else 99.0


@dataclass
class FakeManager:
    actions: list = field(default_factory=list)

    async def send_action(self, action):
        self.actions.append(action)
        if action["Action"] == "Getvar" and action["Variable"] == "BRIDGEPEER":
            return {"Response": "Success", "Value": "Local/1001@cc-agent-phones-0001;1"}
        return {"Response": "Success"}


@dataclass
class FakeRouter:
    store: FakeStore
    manager: FakeManager
    queues: dict = field(default_factory=lambda: {"billing": Queue("billing", wrapup_s=30),
                                                  "complaint": Queue("complaint")})
    connected: list = field(default_factory=list)

    def clock(self):
        return 1000.0

    def queue(self, skill):
        return self.queues.get(skill) or Queue(skill)

    async def connect(self, channel, ext, queue):
        self.connected.append((channel, ext, queue.skill))

    async def hang_up_agent_leg(self, uid, call):
        if call.get("agent_channel"):
            await self.manager.send_action({"Action": "Hangup", "Channel": call["agent_channel"]})


@pytest.fixture
def world():
    store = FakeStore(agents={"1001": {"state": "on_call", "call": CALL}, "1002": {"state": "ready"},
                              "1003": {"state": "not_ready", "reason": "break"}},
                      calls={CALL: {"channel": "Local/10000@hotline-0001;2", "skill": "complaint", "agent": "1001",
                                    "transferred": "", "queued_at": "900.0"}})
    router = FakeRouter(store, FakeManager())
    return CommandHandler(router), router, store


async def test_transfer_to_a_skill_requeues_the_caller_first_and_wraps_up_the_agent(world):
    handler, router, store = world
    assert await handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "skill": "billing"}) == {
        "to_skill": "billing"}
    sets = [(a["Variable"], a["Value"]) for a in router.manager.actions if a["Action"] == "Setvar"]
    assert sets == [("CC_SKILL", "billing"), ("CC_TRANSFERRED", "1")]
    redirect = router.manager.actions[-1]
    assert (redirect["Action"], redirect["Channel"], redirect["Context"]) == ("Redirect", "Local/10000@hotline-0001;2",
                                                                           "cc-wait")
    call = store.calls[CALL]
    assert (call["agent"], call["skill"], call["transferred"], call["queued_at"]) == ("", "billing", "1", "1000.0")
    # the agent wraps up the call they took, by the wrap-up time of its queue then (complaint: 10 s)
    assert store.agents["1001"]["state"] == "wrapup" and store.agents["1001"]["wrapup_until"] == "1010.0"


async def test_transfer_to_a_named_agent_rings_them_only_if_ready(world):
    handler, router, store = world
    with pytest.raises(CommandError) as refused:
        await handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "1003"})
    assert refused.value.code == "AGENT_NOT_READY"
    assert store.calls[CALL]["agent"] == "1001" and store.agents["1001"]["state"] == "on_call"  # nothing lost
    assert await handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "1002"}) == {
        "to_agent": "1002"}
    assert router.connected == [("Local/10000@hotline-0001;2", "1002", "complaint")]
    assert store.agents["1002"]["state"] == "reserved" and store.agents["1001"]["state"] == "wrapup"


@pytest.mark.parametrize("command,code", [
    ({"op": "transfer", "ext": "1002", "call": CALL, "skill": "billing"}, "NOT_YOUR_CALL"),
    ({"op": "hangup", "ext": "1003", "call": CALL}, "NOT_YOUR_CALL"),
    ({"op": "hangup", "ext": "1001", "call": "1700000000.9"}, "NOT_YOUR_CALL"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "skill": "nope"}, "UNKNOWN_SKILL"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "skill": "billing\r\nAction: Originate"}, "UNKNOWN_SKILL"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "1001"}, "BAD_TARGET"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "9;x"}, "BAD_EXTENSION"),
    ({"op": "state", "ext": "1001", "to": "ready"}, "INVALID_AGENT_TRANSITION"),
    ({"op": "state", "ext": "1002", "to": "not_ready", "reason": "no_answer"}, "BAD_REASON"),
    ({"op": "state", "ext": "1002", "to": "on_call"}, "BAD_STATE"),
    ({"op": "extend_wrapup", "ext": "1002", "seconds": 60}, "NOT_IN_WRAPUP"),
    ({"op": "extend_wrapup", "ext": "1002", "seconds": 6000}, "BAD_SECONDS"),
    ({"op": "__init__"}, "UNKNOWN_COMMAND"),
    ({"op": "state", "ext": ["1001"], "to": "ready"}, "BAD_EXTENSION"),
])
async def test_what_may_not_be_done_gets_a_stable_code_and_touches_nothing(world, command, code):
    handler, router, store = world
    before = ({k: dict(v) for k, v in store.agents.items()}, {k: dict(v) for k, v in store.calls.items()})
    with pytest.raises(CommandError) as refused:
        await handler.handle(command)
    assert refused.value.code == code
    assert (store.agents, store.calls) == before and router.manager.actions == []


async def test_hangup_marks_the_agent_side_then_hangs_up(world):
    handler, router, _store = world
    assert await handler.handle({"op": "hangup", "ext": "1001", "call": CALL}) == {}
    assert [(a["Action"], a.get("Variable"), a.get("Value")) for a in router.manager.actions] == [
        ("Setvar", "CC_END", "agent"), ("Hangup", None, None)]


async def test_ready_from_logged_out_logs_in_first(world):
    handler, _router, store = world
    assert await handler.handle({"op": "state", "ext": "1009", "to": "ready"}) == {"state": "ready"}
    assert await handler.handle({"op": "state", "ext": "1009", "to": "not_ready", "reason": "meal"}) == {
        "state": "not_ready"}
    assert store.agents["1009"]["reason"] == "meal"


async def test_hold_moves_both_legs_and_resume_bridges_them_back(world):
    handler, router, store = world
    assert await handler.handle({"op": "hold", "ext": "1001", "call": CALL}) == {"held": True}
    redirect = router.manager.actions[-1]
    assert (redirect["Context"], redirect["ExtraChannel"], redirect["ExtraContext"]) == (
        "cc-hold", "Local/1001@cc-agent-phones-0001;1", "cc-agent-hold")
    assert store.calls[CALL]["held"] == "1"
    with pytest.raises(CommandError) as twice:
        await handler.handle({"op": "hold", "ext": "1001", "call": CALL})
    assert twice.value.code == "ALREADY_HELD"
    assert await handler.handle({"op": "resume", "ext": "1001", "call": CALL}) == {"held": False}
    setvar, redirect = router.manager.actions[-2:]
    assert (setvar["Variable"], setvar["Value"]) == ("CC_AGENT_CHANNEL", "Local/1001@cc-agent-phones-0001;1")
    assert redirect["Context"] == "cc-resume" and store.calls[CALL]["held"] == ""
    # a transfer after hold/resume also ends the agent's leg, which Dial no longer owns
    await handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "skill": "billing"})
    assert {"Action": "Hangup", "Channel": "Local/1001@cc-agent-phones-0001;1"} in router.manager.actions
