"""The router replayed on recorded AMI transcripts: Asterisk's own events in, AMI actions and agent
states out, over the fake store and AMI (no Redis, no Asterisk).

The wire is faked as it behaves live: each UserEvent reaches ``Router.on_user_event`` at the
moment Asterisk stamped it (the clock reads the event's Timestamp), and every agent change the
store publishes comes back to the router (``on_agent_change``, then a routing pass), as
``listen_for_changes`` delivers them.
"""
from __future__ import annotations

import asyncio

from dataclasses import dataclass, field

import pytest

from acd.protocol import AgentChange, AgentSnapshot, Queue
from tests.unit.fakes import FakeAmi, FakeStore, make_router
from tests.unit.transcripts import call_id, load, user_events

IDLE_S = 60.0  # how long before the call each agent became ready


class EventClock:
    """The router's clock: the time of the event being handled."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Replay:
    store: FakeStore
    ami: FakeAmi
    router: object
    clock: EventClock
    events: list[dict]
    delivered: int = 0  # store.changes already handed to the router
    delivered_events: int = 0  # events already fed

    @classmethod
    def of(cls, transcript: str, agents: dict[str, dict[str, int]], queues: tuple[Queue, ...]) -> "Replay":
        events = user_events(transcript)
        clock = EventClock(float(events[0]["Timestamp"]))
        ready_at = clock.now - IDLE_S
        store = FakeStore(live_agents={ext: AgentSnapshot(ext, "ready", since=ready_at) for ext in agents})
        ami = FakeAmi()
        router = make_router(store, ami, queues={q.skill: q for q in queues}, skills=agents, clock=clock)
        for ext in agents:
            router.on_agent_change(AgentChange(ext, "ready", "", "", ready_at))
        return cls(store, ami, router, clock, events)

    async def feed(self, until: int | None = None) -> None:
        for raw in self.events[self.delivered_events:until]:
            self.clock.now = float(raw["Timestamp"])
            await self.router.on_user_event(raw)
            for change in self.store.changes[self.delivered:]:
                self.router.on_agent_change(change)
            self.delivered = len(self.store.changes)
            await self.router.route()
        self.delivered_events = len(self.events) if until is None else until

    def close(self) -> None:
        for timer in self.router._wrapup_timers.values():  # wrap-up ends on a timer: not ours to wait for
            timer.cancel()


def sent(ami: FakeAmi) -> list[str]:
    """The AMI actions, one readable line each."""
    lines = []
    for a in ami.actions:
        if a["Action"] == "Setvar":
            lines.append(f"Setvar {a['Channel']} {a['Variable']}={a['Value']}")
        elif a["Action"] == "Redirect":
            lines.append(f"Redirect {a['Channel']} -> {a['Context']},{a['Exten']},{a['Priority']}")
        else:
            lines.append(" ".join(f"{k}={v}" for k, v in a.items()))
    return lines


def changes(store: FakeStore) -> list[str]:
    return [f"{c.ext} {c.state}" + (f" ({c.reason})" if c.reason else "") for c in store.changes]


def caller_channel(transcript: str) -> str:
    return next(e["Channel"] for e in user_events(transcript) if e["UserEvent"] == "CallQueued")


def connect(channel: str, ext: str, ring_s: int) -> list[str]:
    """What the router sends to ring an agent for a waiting caller (acd.actions.connect_to_agent)."""
    return [f"Setvar {channel} CC_AGENT_EXT={ext}", f"Setvar {channel} CC_RING_TIME={ring_s}",
            f"Redirect {channel} -> cc-connect,s,1"]


@dataclass(frozen=True)
class Scenario:
    transcript: str
    agents: dict[str, dict[str, int]]  # ready agents and their skills
    queues: tuple[Queue, ...]
    rung: list[tuple[str, int]]  # (agent, ring seconds) in the order the router connects them
    changes: list[str]  # the agent changes the store applied, in order
    final: dict[str, str] = field(default_factory=dict)  # agent -> state (reason) at the end


SCENARIOS = [
    Scenario("answered_agent_hangs_up", agents={"1601": {"consult": 5}}, queues=(Queue("consult"),),
             rung=[("1601", 15)],
             changes=["1601 reserved", "1601 ringing", "1601 on_call", "1601 wrapup"],
             final={"1601": "wrapup"}),
    Scenario("abandoned_waiting", agents={"1601": {"consult": 5}}, queues=(Queue("consult"), Queue("complaint")),
             rung=[], changes=[], final={"1601": "ready"}),  # nobody serves complaint: no action at all
    Scenario("no_answer_then_next_agent", agents={"1602": {"consult": 5}, "1603": {"consult": 1}},
             queues=(Queue("consult", ring_time_s=4, no_answer_limit=1),),
             rung=[("1602", 4), ("1603", 4)],
             changes=["1602 reserved", "1602 ringing", "1602 not_ready (no_answer)",
                      "1603 reserved", "1603 ringing", "1603 on_call", "1603 wrapup"],
             final={"1602": "not_ready (no_answer)", "1603": "wrapup"}),
]


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda c: c.transcript)
async def test_replayed_call_sends_these_actions_and_leaves_these_states(case: Scenario):
    replay = Replay.of(case.transcript, case.agents, case.queues)
    try:
        await replay.feed()
        channel = caller_channel(case.transcript)
        assert sent(replay.ami) == [line for ext, ring in case.rung for line in connect(channel, ext, ring)]
        assert changes(replay.store) == case.changes
        final = {ext: a.state + (f" ({a.reason})" if a.reason else "") for ext, a in replay.store.live_agents.items()}
        assert final == case.final
        assert replay.store.live_calls == {} and replay.router.core.calls == {}  # the call is over everywhere
    finally:
        replay.close()


async def test_wrapup_lasts_the_queue_time_from_the_hang_up_then_ready():
    replay = Replay.of("answered_agent_hangs_up", {"1601": {"consult": 5}}, (Queue("consult", wrapup_s=7),))
    try:
        await replay.feed()
        ended = float(replay.events[-1]["Timestamp"])  # CallEnded
        agent = replay.store.live_agents["1601"]
        assert (agent.state, agent.since, agent.wrapup_until) == ("wrapup", ended, ended + 7)
        replay.clock.now = ended + 6.9
        await replay.router.tick()
        assert replay.store.live_agents["1601"].state == "wrapup"
        replay.clock.now = ended + 7
        await replay.router.tick()
        assert replay.store.live_agents["1601"].state == "ready"
    finally:
        replay.close()


async def test_a_caller_back_from_an_agent_who_did_not_answer_keeps_the_first_queued_time():
    transcript = "no_answer_then_next_agent"
    replay = Replay.of(transcript, {"1602": {"consult": 5}, "1603": {"consult": 1}},
                       (Queue("consult", ring_time_s=4, no_answer_limit=1),))
    try:
        kinds = [e["UserEvent"] for e in replay.events]
        first_queued = float(replay.events[kinds.index("CallQueued")]["Timestamp"])
        again = len(kinds) - kinds[::-1].index("CallQueued")  # up to and with the second CallQueued
        await replay.feed(until=again)
        call = replay.store.live_calls[call_id(transcript)]
        assert (call.queued_at, call.agent) == (first_queued, "1603")  # its place kept, the next agent taken
        assert replay.store.live_agents["1602"].misses == 0  # counted, then reset by the not-ready
    finally:
        replay.close()


async def test_a_no_answer_under_the_limit_makes_the_agent_ready_again_with_the_miss_counted():
    """The same recording, with a queue that tolerates two misses: 1602 is offered calls again."""
    replay = Replay.of("no_answer_then_next_agent", {"1602": {"consult": 5}, "1603": {"consult": 1}},
                       (Queue("consult", ring_time_s=4, no_answer_limit=2),))
    try:
        kinds = [e["UserEvent"] for e in replay.events]
        await replay.feed(until=kinds.index("AgentNoAnswer") + 1)
        agent = replay.store.live_agents["1602"]
        assert (agent.state, agent.misses) == ("ready", 1)
    finally:
        replay.close()


async def test_user_events_from_an_ami_client_move_no_agent_and_no_call():
    """The recorded `Action: UserEvent`s name the waiting call of no_answer_then_next_agent and
    agent 1601 (one of them well-formed): not sent by the dialplan, so the router ignores them."""
    transcript = "no_answer_then_next_agent"
    replay = Replay.of(transcript, {"1601": {"consult": 5}}, (Queue("consult"),))
    try:
        kinds = [e["UserEvent"] for e in replay.events]
        await replay.feed(until=kinds.index("CallQueued") + 1)  # the router reserves 1601 for the call
        assert changes(replay.store) == ["1601 reserved"]
        actions_before = list(replay.ami.actions)
        for forged in load("ami_client_user_events"):
            assert forged["CallId"] == call_id(transcript)
            await replay.router.on_user_event(forged)
        assert changes(replay.store) == ["1601 reserved"]  # not ringing: its phone never rang
        assert replay.ami.actions == actions_before
    finally:
        replay.close()


async def test_two_routers_hearing_the_same_call_queued_book_one_agent_once():
    """Every router hears each CallQueued. The second to apply it must neither reset the call to
    waiting (the first reserved an agent meanwhile) nor reserve a second agent for it."""
    events = user_events("answered_agent_hangs_up")
    queued = next(e for e in events if e["UserEvent"] == "CallQueued")
    now = float(queued["Timestamp"])
    skills = {"1601": {"consult": 5}, "1602": {"consult": 5}}
    store = FakeStore(live_agents={ext: AgentSnapshot(ext, "ready", since=now - IDLE_S) for ext in skills})
    routers = []
    for _ in range(2):
        router = make_router(store, FakeAmi(), queues={"consult": Queue("consult")}, skills=skills, clock=lambda: now)
        for ext in skills:
            router.on_agent_change(AgentChange(ext, "ready", "", "", now - IDLE_S))
        routers.append(router)
    for router in routers:
        await router.on_user_event(queued)
    for router in routers:  # the redirects' answers, awaited aside
        await asyncio.gather(*router._connecting.values())
    redirects = [a for r in routers for a in r.actions.ami.named("Redirect")]
    assert len(redirects) == 1
    assert sorted(a.state for a in store.live_agents.values()) == ["ready", "reserved"]
    assert store.live_calls[call_id("answered_agent_hangs_up")].agent in skills
