"""A router that dies (or freezes) between a reservation and its redirect (issue 15, scale-out).

Every router holds a lease in Redis and every reservation names its owner (acd/leases.py). A
surviving router's tick releases a reservation whose owner's lease is gone and queues the call
again, so the caller is served without the dead router's restart; a router that wakes from a
freeze confirms its reservation before redirecting and, finding it released, sends nothing. The
real Lua behind FakeLeases is checked in tests/integration/test_router_leases.py.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from acd.protocol import AgentSnapshot, LiveCall, Queue
from acd.store import RESERVED
from tests.unit.fakes import FakeStore, make_router
from tests.unit.test_router_rebuild_gone_calls import AmiWithChannels

NOW = 1_000.0
CALLER = "Local/10000@hotline-0001;2"
QUEUES = {"billing": Queue("billing")}


@dataclass
class FakeLeases:
    """acd.leases.Leases over a FakeStore: reservations' owners and the owners whose lease is live."""
    store: FakeStore
    owner: str
    owners: dict[str, str] = field(default_factory=dict)  # agent -> owner of their reservation
    alive: set[str] = field(default_factory=set)

    async def renew(self) -> None:
        self.alive.add(self.owner)

    async def confirm(self, ext, uid) -> bool:
        agent = await self.store.agent(ext)
        if (agent.state, agent.call, self.owners.get(ext)) != ("reserved", uid, self.owner):
            return False
        self.alive.add(self.owner)
        return True

    async def orphans(self):
        return [(ext, a.call, self.owners[ext]) for ext, a in sorted(self.store.live_agents.items())
                if a.state == "reserved" and self.owners.get(ext) not in (None, self.owner)
                and self.owners[ext] not in self.alive]

    async def release_orphan(self, ext, uid, owner, now) -> bool:
        agent = await self.store.agent(ext)
        if owner in self.alive or (agent.state, agent.call, self.owners.get(ext)) != ("reserved", uid, owner):
            return False
        await self.store.transition(ext, "release", now, expect_call=uid)
        await self.store.update_call(uid, agent="")
        return True


class OwnedStore:
    """One router's view of the shared FakeStore: its reservations name it, as the real store's
    Lua writes the agent's owner (Store.owner)."""

    def __init__(self, store: FakeStore, leases: FakeLeases):
        self._store, self._leases = store, leases

    def __getattr__(self, name):
        return getattr(self._store, name)

    def _owned(self, ext, taken):
        if taken == RESERVED:
            self._leases.owners[ext] = self._leases.owner
        return taken

    async def reserve(self, ext, uid, now):
        return self._owned(ext, await self._store.reserve(ext, uid, now))

    async def reserve_call(self, ext, uid, now):
        taken, call = await self._store.reserve_call(ext, uid, now)
        return self._owned(ext, taken), call

    async def enqueue_and_reserve(self, call, ext, now):
        taken, stored = await self._store.enqueue_and_reserve(call, ext, now)
        return self._owned(ext, taken), stored


def waiting_in_cc_wait(uid: str) -> dict:
    return {"Uniqueid": uid, "Linkedid": uid, "Channel": CALLER, "Context": "cc-wait"}


def reserved_by_a_dead_router(store: FakeStore, uid="c1") -> None:
    store.live_agents["1001"] = AgentSnapshot("1001", "reserved", "", NOW - 2, uid)
    store.live_calls[uid] = LiveCall(uid, channel=CALLER, skill="billing", queued_at=NOW - 5, agent="1001")


def router_with_leases(store, ami, owner, shared: FakeLeases | None = None):
    leases = FakeLeases(store, owner, owners=shared.owners if shared else {}, alive=shared.alive if shared else set())
    router = make_router(OwnedStore(store, leases), ami, queues=QUEUES, skills={"1001": {"billing": 5}},
                         clock=lambda: NOW)
    router.leases = leases
    return router, leases


async def test_the_surviving_router_releases_a_dead_routers_reservation_and_connects_the_caller():
    store, ami = FakeStore(), AmiWithChannels(channels=[waiting_in_cc_wait("c1")])
    reserved_by_a_dead_router(store)
    survivor, leases = router_with_leases(store, ami, "b")
    leases.owners["1001"] = "a"  # router a reserved 1001 for c1, then died: its lease expired
    await leases.renew()
    survivor._apply_agent("1001", "reserved", NOW - 2)  # what b heard of a's reservation
    await survivor.tick()
    # released (ready), then reserved again by b, which redirected the caller to 1001
    assert [(c.state, c.call) for c in store.changes] == [("ready", ""), ("reserved", "c1")]
    redirects = ami.named("Redirect")
    assert len(redirects) == 1 and redirects[0]["Channel"] == CALLER
    assert store.live_calls["c1"].agent == "1001"


async def test_a_reservation_whose_owner_lives_is_left_alone():
    store, ami = FakeStore(), AmiWithChannels(channels=[waiting_in_cc_wait("c1")])
    reserved_by_a_dead_router(store)
    survivor, leases = router_with_leases(store, ami, "b")
    leases.owners["1001"] = "a"
    leases.alive.add("a")  # a is between its reservation and its redirect, alive
    await survivor.tick()
    assert store.changes == [] and ami.named("Redirect") == []
    assert (store.live_agents["1001"].state, store.live_calls["c1"].agent) == ("reserved", "1001")


async def test_a_caller_already_redirected_is_left_to_the_dialplans_events():
    store, ami = FakeStore(), AmiWithChannels(channels=[])  # not in cc-wait: in cc-connect, or gone
    reserved_by_a_dead_router(store)
    survivor, leases = router_with_leases(store, ami, "b")
    leases.owners["1001"] = "a"
    await survivor.tick()
    assert store.changes == [] and ami.named("Redirect") == []


async def test_a_router_woken_after_its_reservation_was_released_does_not_redirect():
    store, ami = FakeStore(), AmiWithChannels(channels=[waiting_in_cc_wait("c1")])
    store.live_agents["1001"] = AgentSnapshot("1001", "ready", "", NOW - 10, "")
    store.live_calls["c1"] = LiveCall("c1", channel=CALLER, skill="billing", queued_at=NOW - 5)
    frozen, frozen_leases = router_with_leases(store, ami, "a")
    survivor, survivor_leases = router_with_leases(store, ami, "b", shared=frozen_leases)
    for router in (frozen, survivor):
        router._apply_agent("1001", "ready", NOW - 10)
        router._queue_locally(store.live_calls["c1"])

    async def freeze(ext, uid):  # a reserved 1001 for c1; while it is away b sweeps and connects c1
        survivor._apply_agent(ext, "reserved", NOW)
        survivor.core.remove_call(uid)
        await survivor.tick()
        survivor_leases.owners[ext] = "b"  # (b's own reservation, as the real store records it)

    frozen.after_reserve = freeze
    await frozen.route()
    assert len(ami.named("Redirect")) == 1  # b's; a, awake, confirmed nothing and sent nothing
    assert [(c.state, c.call) for c in store.changes] == [("reserved", "c1"), ("ready", ""), ("reserved", "c1")]


async def test_a_call_back_is_closed_under_the_floors_call_back_lock():
    """While another router holds the lock (starting, looking for call backs lost with Redis), a
    call back's close waits: it is never seen gone from Redis but still queued in the database."""
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "on_call", "", NOW - 30, "cb1")},
                      live_calls={"cb1": LiveCall("cb1", kind="callback", number="13800000001", skill="billing",
                                                  agent="1001")})
    outcomes = []

    async def record(uid, outcome):
        outcomes.append((uid, outcome))

    router = make_router(store, queues=QUEUES, skills={"1001": {"billing": 5}}, clock=lambda: NOW)
    router.on_callback = record
    held, asked = asyncio.Lock(), asyncio.Event()

    def guard():  # the lock the close asks for; `asked` says it got that far
        asked.set()
        return held

    router.callback_guard = guard
    await held.acquire()
    ended = {"Event": "UserEvent", "UserEvent": "CallbackEnded", "CallId": "cb1", "Uniqueid": "cb1-leg",
             "Channel": "Local/1001@cc-agent-phones-0001;1", "Context": "cc-callback-hangup", "DialStatus": "ANSWER",
             "Agent": "1001", "Number": "13800000001"}
    closing = asyncio.ensure_future(router.on_user_event(ended))
    await asyncio.wait_for(asked.wait(), 5)  # the close has entered `async with guard()`: it waits on the lock
    assert "cb1" in store.live_calls and outcomes == []  # waits for the lock
    held.release()
    await closing
    assert "cb1" not in store.live_calls and outcomes == [("cb1", "done")]
    router.callback_guard = contextlib.nullcontext
