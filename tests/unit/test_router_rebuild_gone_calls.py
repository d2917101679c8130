"""A rebuild lets go of agents held by calls Asterisk no longer has (issue 15, Asterisk restarted).

When Asterisk dies its channels die without running their hangup handlers: no CallEnded comes,
and an agent who was talking, ringing or reserved would stay so for ever, never offered a call
again. The router's rebuild (on start and after every AMI login) compares each such agent with
Asterisk's live channels: a call that is gone ends as its CallEnded would have ended it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from acd.protocol import AgentSnapshot, LiveCall
from tests.unit.fakes import FakeAmi, FakeStore, make_router

NOW = 1_000.0


@dataclass
class AmiWithChannels(FakeAmi):
    """FakeAmi whose CoreShowChannels lists these channels (Uniqueid, Linkedid, Channel, Context)."""
    channels: list[dict] = field(default_factory=list)

    async def send_action(self, action, as_list=False):
        if action["Action"] == "CoreShowChannels":
            self.actions.append(action)
            return [dict(c, Event="CoreShowChannel") for c in self.channels] + [{"Event": "CoreShowChannelsComplete"}]
        return await super().send_action(action, as_list)


def agent(ext: str, state: str, call: str, since: float = NOW - 60) -> AgentSnapshot:
    return AgentSnapshot(ext, state, "", since, call)


async def test_agents_of_calls_asterisk_lost_are_let_go():
    store = FakeStore(live_agents={
        "1701": agent("1701", "on_call", "c-talking"),
        "1702": agent("1702", "ringing", "c-ringing"),
        "1703": agent("1703", "reserved", "c-reserved"),
        "1704": agent("1704", "on_call", "c-unknown"),  # its call already left Redis
    }, live_calls={
        "c-talking": LiveCall("c-talking", channel="Local/10000@hotline-1;2", skill="billing", agent="1701"),
        "c-ringing": LiveCall("c-ringing", channel="Local/10000@hotline-2;2", skill="billing", agent="1702"),
        "c-reserved": LiveCall("c-reserved", channel="Local/10000@hotline-3;2", skill="billing", agent="1703"),
    })
    router = make_router(store, ami=AmiWithChannels(), clock=lambda: NOW)  # Asterisk restarted: nothing live
    await router.rebuild()
    states = {ext: a.state for ext, a in (await store.agents()).items()}
    assert states == {"1701": "wrapup", "1702": "ready", "1703": "ready", "1704": "wrapup"}
    assert await store.calls() == {}  # ended calls leave the live queue
    assert router.in_wrapup == {"1701", "1704"}  # and their wrap-up ends on time


async def test_agents_of_live_calls_and_fresh_reservations_are_left_alone():
    store = FakeStore(live_agents={
        "1701": agent("1701", "on_call", "c-talking"),
        "1702": agent("1702", "ringing", "cb-1"),  # a call back: no channel has its id, the agent's leg is up
        "1703": agent("1703", "reserved", "cb-2", since=NOW - 2),  # another router's call back, before its Originate
    }, live_calls={
        "c-talking": LiveCall("c-talking", channel="Local/10000@hotline-1;2", agent="1701"),
        "cb-1": LiveCall("cb-1", kind="callback", number="13800000001", agent="1702"),
        "cb-2": LiveCall("cb-2", kind="callback", number="13800000002", agent="1703"),
    })
    ami = AmiWithChannels(channels=[
        {"Uniqueid": "c-talking", "Linkedid": "c-talking", "Channel": "Local/10000@hotline-1;2", "Context": "cc-connect"},
        {"Uniqueid": "x.1", "Linkedid": "x.1", "Channel": "Local/1702@cc-agent-phones-0001;1", "Context": "cc-agent"},
    ])
    router = make_router(store, ami=ami, clock=lambda: NOW)
    await router.rebuild()
    states = {ext: (a.state, a.call) for ext, a in (await store.agents()).items()}
    assert states == {"1701": ("on_call", "c-talking"), "1702": ("ringing", "cb-1"), "1703": ("reserved", "cb-2")}
    assert set(await store.calls()) == {"c-talking", "cb-1", "cb-2"}


@pytest.mark.parametrize("state", ["ringing", "reserved"])  # reserved: the router died before AgentRinging too
async def test_an_agent_whose_caller_is_bridged_answered_while_no_router_listened(state):
    store = FakeStore(live_agents={"1702": agent("1702", state, "c-ringing")},
                      live_calls={"c-ringing": LiveCall("c-ringing", channel="Local/10000@hotline-2;2", agent="1702")})
    ami = AmiWithChannels(channels=[{"Uniqueid": "c-ringing", "Linkedid": "c-ringing", "BridgeId": "b-1",
                                     "Channel": "Local/10000@hotline-2;2", "Context": "cc-connect"}])
    router = make_router(store, ami=ami, clock=lambda: NOW)
    await router.rebuild()
    assert (await store.agent("1702")).state == "on_call"  # its CallEnded then starts wrap-up, as usual
    assert "c-ringing" in await store.calls()


async def test_a_call_back_cut_off_by_the_restart_is_tried_again_not_dropped():
    store = FakeStore(live_agents={"1701": agent("1701", "on_call", "cb-9")},
                      live_calls={"cb-9": LiveCall("cb-9", kind="callback", number="13800000009", agent="1701")})
    router = make_router(store, ami=AmiWithChannels(), clock=lambda: NOW)
    outcomes = []

    async def record(uid, status):
        outcomes.append((uid, status))
    router.on_callback = record
    await router.rebuild()
    assert outcomes == [("cb-9", "no_answer")]  # acd.callbacks.record_outcome: due again after a while
    assert (await store.agent("1701")).state == "wrapup" and await store.calls() == {}
