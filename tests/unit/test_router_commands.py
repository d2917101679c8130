"""acd.commands over the real manager and AMI actions, with a fake store and a fake AMI wire:
what each desktop command does, and the stable error codes for what it must not do."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from acd.actions import Actions
from acd.commands import CommandHandler
from acd.manager import AgentManager
from acd.protocol import AcdError, AgentSnapshot, LiveCall, Queue
from tests.unit.fakes import FakeAmi, FakeStore

CALL = "1700000000.5"
CHANNEL = "Local/10000@hotline-0001;2"


@dataclass
class World:
    handler: CommandHandler
    store: FakeStore
    ami: FakeAmi
    audited: list


@pytest.fixture
def world() -> World:
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "on_call", call=CALL),
                              "1002": AgentSnapshot("1002", "ready"),
                              "1003": AgentSnapshot("1003", "not_ready", reason="break")},
                      live_calls={CALL: LiveCall(CALL, channel=CHANNEL, skill="complaint", agent="1001", queued_at=900.0)})
    ami, audited = FakeAmi(), []

    async def audit(*row):
        audited.append(row)
    queues = {"billing": Queue("billing", wrapup_s=30), "complaint": Queue("complaint")}
    manager = AgentManager(store, Actions(ami), queues, clock=lambda: 1000.0, audit=audit)
    return World(CommandHandler(manager), store, ami, audited)


async def test_transfer_to_a_skill_requeues_the_caller_first_and_wraps_up_the_agent(world):
    assert await world.handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "skill": "billing"}) == {
        "to_skill": "billing"}
    sets = [(a["Variable"], a["Value"]) for a in world.ami.named("Setvar")]
    assert sets == [("CC_SKILL", "billing"), ("CC_TRANSFERRED", "1")]
    redirect = world.ami.actions[-1]
    assert (redirect["Action"], redirect["Channel"], redirect["Context"]) == ("Redirect", CHANNEL, "cc-wait")
    call = world.store.live_calls[CALL]
    assert (call.agent, call.skill, call.transferred, call.queued_at) == ("", "billing", True, 1000.0)
    # the agent wraps up the call they took, by the wrap-up time of its queue then (complaint: 10 s)
    agent = world.store.live_agents["1001"]
    assert (agent.state, agent.wrapup_until) == ("wrapup", 1010.0)


async def test_transfer_to_a_named_agent_rings_them_only_if_ready(world):
    with pytest.raises(AcdError) as refused:
        await world.handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "1003"})
    assert refused.value.code == "AGENT_NOT_READY"
    assert world.store.live_calls[CALL].agent == "1001" and world.store.live_agents["1001"].state == "on_call"  # nothing lost
    assert await world.handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "1002"}) == {
        "to_agent": "1002"}
    ring = [(a["Variable"], a["Value"]) for a in world.ami.named("Setvar")]
    assert ring == [("CC_AGENT_EXT", "1002"), ("CC_RING_TIME", "15")]
    assert world.ami.named("Redirect")[-1]["Context"] == "cc-connect"
    assert world.store.live_agents["1002"].state == "reserved" and world.store.live_agents["1001"].state == "wrapup"
    assert world.store.live_calls[CALL].transferred


@pytest.mark.parametrize("command,code", [
    ({"op": "transfer", "ext": "1002", "call": CALL, "skill": "billing"}, "NOT_YOUR_CALL"),
    ({"op": "hangup", "ext": "1003", "call": CALL}, "NOT_YOUR_CALL"),
    ({"op": "hangup", "ext": "1001", "call": "1700000000.9"}, "NOT_YOUR_CALL"),
    ({"op": "hangup", "ext": "1001", "call": ["x"]}, "NO_SUCH_CALL"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "skill": "nope"}, "UNKNOWN_SKILL"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "skill": "billing\r\nAction: Originate"}, "UNKNOWN_SKILL"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "1001"}, "BAD_TARGET"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "9;x"}, "BAD_EXTENSION"),
    ({"op": "transfer", "ext": "1001", "call": CALL, "to_agent": "1００2"}, "BAD_EXTENSION"),  # full-width digits
    ({"op": "state", "ext": "1001", "to": "ready"}, "INVALID_AGENT_TRANSITION"),
    ({"op": "state", "ext": "1001", "to": "logged_out"}, "INVALID_AGENT_TRANSITION"),  # not while on a call
    ({"op": "state", "ext": "1002", "to": "not_ready", "reason": "no_answer"}, "BAD_REASON"),
    ({"op": "state", "ext": "1002", "to": "not_ready", "reason": "nap"}, "BAD_REASON"),
    ({"op": "state", "ext": "1002", "to": "on_call"}, "BAD_STATE"),
    ({"op": "state", "ext": "1\u0661\u0660\u0660", "to": "ready"}, "BAD_EXTENSION"),  # Arabic-Indic digits
    ({"op": "state", "ext": "1002\n", "to": "ready"}, "BAD_EXTENSION"),
    ({"op": "extend_wrapup", "ext": "1002", "seconds": 60}, "NOT_IN_WRAPUP"),
    ({"op": "extend_wrapup", "ext": "1002", "seconds": 6000}, "BAD_SECONDS"),
    ({"op": "extend_wrapup", "ext": "1002", "seconds": True}, "BAD_SECONDS"),
    ({"op": "__init__"}, "UNKNOWN_COMMAND"),
    ({"op": "state", "ext": ["1001"], "to": "ready"}, "BAD_EXTENSION"),
])
async def test_what_may_not_be_done_gets_a_stable_code_and_touches_nothing(world, command, code):
    before = (dict(world.store.live_agents), dict(world.store.live_calls))
    with pytest.raises(AcdError) as refused:
        await world.handler.handle(command)
    assert refused.value.code == code
    assert (world.store.live_agents, world.store.live_calls) == before and world.ami.actions == []
    assert world.audited == []


async def test_hangup_marks_the_agent_side_then_sends_the_caller_to_the_survey(world):
    # as when the agent hangs up their phone: the caller's channel goes on to cc-survey (issue 13)
    assert await world.handler.handle({"op": "hangup", "ext": "1001", "call": CALL}) == {}
    assert [(a["Action"], a.get("Variable") or a.get("Context"), a.get("Value")) for a in world.ami.actions] == [
        ("Setvar", "CC_END", "agent"), ("Redirect", "cc-survey", None)]


async def test_hangup_of_a_caller_the_redirect_cannot_move_hangs_it_up(world):
    world.ami.refuse.add("Redirect")
    assert await world.handler.handle({"op": "hangup", "ext": "1001", "call": CALL}) == {}
    assert [a["Action"] for a in world.ami.actions] == ["Setvar", "Redirect", "Hangup"]


async def test_ready_from_logged_out_logs_in_first(world):
    assert await world.handler.handle({"op": "state", "ext": "1009", "to": "ready"}) == {"state": "ready"}
    assert [c.state for c in world.store.changes] == ["not_ready", "ready"]
    assert await world.handler.handle({"op": "state", "ext": "1009", "to": "not_ready", "reason": "meal"}) == {
        "state": "not_ready"}
    assert world.store.live_agents["1009"].reason == "meal"
    assert world.audited == []  # the agent's own change: in the state log, not the audit log


async def test_a_supervisors_change_is_audited_with_who_asked(world):
    await world.handler.handle({"op": "state", "ext": "1002", "to": "not_ready", "reason": "supervisor",
                                "by": "lead1"})
    assert world.audited == [("lead1", "agent_state", "1002", "to not_ready (supervisor)")]


async def test_hold_moves_both_legs_and_resume_bridges_them_back(world):
    assert await world.handler.handle({"op": "hold", "ext": "1001", "call": CALL}) == {"held": True}
    redirect = world.ami.actions[-1]
    assert (redirect["Context"], redirect["ExtraChannel"], redirect["ExtraContext"]) == (
        "cc-hold", "Local/1001@cc-agent-phones-0001;1", "cc-agent-hold")
    assert world.store.live_calls[CALL].held
    with pytest.raises(AcdError) as twice:
        await world.handler.handle({"op": "hold", "ext": "1001", "call": CALL})
    assert twice.value.code == "ALREADY_HELD"
    assert await world.handler.handle({"op": "resume", "ext": "1001", "call": CALL}) == {"held": False}
    setvar, redirect = world.ami.actions[-2:]
    assert (setvar["Variable"], setvar["Value"]) == ("CC_AGENT_CHANNEL", "Local/1001@cc-agent-phones-0001;1")
    assert redirect["Context"] == "cc-resume" and not world.store.live_calls[CALL].held
    # a transfer after hold/resume also ends the agent's leg, which Dial no longer owns
    await world.handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "skill": "billing"})
    assert {"Action": "Hangup", "Channel": "Local/1001@cc-agent-phones-0001;1"} in world.ami.actions


async def test_a_refused_requeue_leaves_the_call_with_its_agent(world):
    world.ami.refuse.add("Redirect")
    with pytest.raises(AcdError) as refused:
        await world.handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "skill": "billing"})
    assert refused.value.code == "TRANSFER_FAILED"
    call = world.store.live_calls[CALL]
    assert (call.agent, call.skill, call.queued_at) == ("1001", "complaint", 900.0)
    assert world.store.live_agents["1001"].state == "on_call"


async def test_a_skill_agents_hold_is_served_though_no_queue_row_names_it(world):
    """The menu sends callers to 'consult' whether or not an admin saved queue settings for it."""
    with pytest.raises(AcdError) as refused:
        await world.handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "skill": "consult"})
    assert refused.value.code == "UNKNOWN_SKILL"
    world.handler.manager.served_skills = lambda: {"consult"}  # as the router sets it from its agents
    assert await world.handler.handle({"op": "transfer", "ext": "1001", "call": CALL, "skill": "consult"}) == {
        "to_skill": "consult"}
    assert world.store.live_calls[CALL].skill == "consult"


async def test_the_password_check_parks_the_agent_and_the_dialplan_brings_the_caller_back(world):
    assert await world.handler.handle({"op": "verify", "ext": "1001", "call": CALL}) == {"verifying": True}
    setvar, redirect = world.ami.actions[-2:]
    assert (setvar["Variable"], setvar["Value"]) == ("CC_AGENT_CHANNEL", "Local/1001@cc-agent-phones-0001;1")
    assert (redirect["Context"], redirect["ExtraChannel"], redirect["ExtraContext"]) == (
        "cc-verify", "Local/1001@cc-agent-phones-0001;1", "cc-agent-hold")
    assert world.store.live_calls[CALL].held
    with pytest.raises(AcdError) as twice:
        await world.handler.handle({"op": "verify", "ext": "1001", "call": CALL})
    assert twice.value.code == "ALREADY_HELD"
    await world.handler.manager.verified_back("1001", CALL)  # the dialplan's CallerVerified
    assert not world.store.live_calls[CALL].held


async def test_a_refused_password_check_leaves_the_call_with_its_agent(world):
    world.ami.refuse.add("Redirect")
    with pytest.raises(AcdError) as refused:
        await world.handler.handle({"op": "verify", "ext": "1001", "call": CALL})
    assert refused.value.code == "VERIFY_FAILED" and not world.store.live_calls[CALL].held
