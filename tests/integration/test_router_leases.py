"""Router leases on a real redis-server and the real Lua (acd/leases.py, acd/store.py; issue 15).

A reservation names the router that made it; a reservation whose owner's lease is gone is listed
by the other routers and released by exactly one compare-and-set that re-checks the lease, the
state, the call and the owner; the owner confirms its own reservation (renewing its lease) right
before its redirect, and finds out when it was released. No Asterisk: the redis-server of
test_store_contract.py (its own, on a free port).
"""
from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from acd import protocol as p
from acd.leases import Leases, alive_key
from acd.protocol import LiveCall
from acd.store import RESERVED, Store
from tests.integration.test_store_contract import redis_port  # noqa: F401 - the fixture

A = "1001"
C1 = "1795957925.1"
CHANNEL = "Local/10000@hotline-00000000;2"


@pytest.fixture
async def redis(redis_port):  # noqa: F811 - the imported fixture
    client = aioredis.Redis(port=redis_port)
    await client.flushdb()
    yield client
    await client.aclose()


def router(redis, owner: str) -> tuple[Store, Leases]:
    """What acd/service.py gives a router: a store whose reservations name it, and its lease."""
    store = Store(redis)
    store.owner = owner
    return store, Leases(redis, owner, lease_s=60)


async def reserved_by(store: Store) -> None:
    assert await store.transition(A, "login", 1.0) == "not_ready"
    assert await store.transition(A, "ready", 1.0) == "ready"
    assert (await store.enqueue_and_reserve(LiveCall(C1, channel=CHANNEL, skill="billing", queued_at=2.0), A,
                                            3.0))[0] == RESERVED


async def test_a_reservation_names_its_router_and_only_that_router_confirms_it(redis):
    a_store, a = router(redis, "a")
    _, b = router(redis, "b")
    await reserved_by(a_store)
    assert p.as_text(await redis.hget(p.agent_key(A), "owner")) == "a"
    assert await b.confirm(A, C1) is False
    assert await a.confirm(A, C1) is True
    assert await redis.ttl(alive_key("a")) > 0  # confirming renewed a's lease
    assert await a.confirm(A, "1795957925.9") is False  # another call


async def test_reserve_call_names_its_router_too(redis):
    a_store, _ = router(redis, "a")
    await a_store.transition(A, "login", 1.0)
    await a_store.transition(A, "ready", 1.0)
    await a_store.put_call(LiveCall(C1, channel=CHANNEL, queued_at=2.0))
    assert (await a_store.reserve_call(A, C1, 3.0))[0] == RESERVED
    assert p.as_text(await redis.hget(p.agent_key(A), "owner")) == "a"


async def test_only_a_reservation_whose_owner_lost_its_lease_is_an_orphan(redis):
    a_store, a = router(redis, "a")
    _, b = router(redis, "b")
    await reserved_by(a_store)
    await a.renew()
    assert await b.orphans() == [] and await a.orphans() == []
    assert await b.release_orphan(A, C1, "a", 10.0) is False  # a lives: refused inside Redis
    await redis.delete(alive_key("a"))  # a died: its lease expired
    assert await b.orphans() == [(A, C1, "a")]
    assert await a.orphans() == []  # never one's own


async def test_releasing_an_orphan_frees_the_agent_and_the_call_once_and_tells_everyone(redis):
    a_store, a = router(redis, "a")
    b_store, b = router(redis, "b")
    await reserved_by(a_store)
    log_from = (await b_store.state_log())[-1][0]
    changes = redis.pubsub()
    await changes.subscribe(p.AGENT_CHANGES)
    await changes.get_message(timeout=1)  # the subscription's confirmation
    assert await b.release_orphan(A, C1, "a", 10.0) is True
    assert await b.release_orphan(A, C1, "a", 11.0) is False  # once
    agent, call = await b_store.agent(A), await b_store.call(C1)
    assert (agent.state, agent.call, agent.since) == ("ready", "", 10.0)
    assert call is not None and call.agent == "" and call.waiting
    assert [(e["state"], e["call"]) for _, e in await b_store.state_log(log_from)] == [("ready", "")]
    message = await changes.get_message(timeout=5)
    assert p.AgentChange.from_json(message["data"]) == p.AgentChange(A, "ready", "", "", 10.0)
    await changes.aclose()
    # a, awake, finds its reservation gone; b reserves the agent for the call and owns it now
    assert await a.confirm(A, C1) is False
    assert await b_store.reserve(A, C1, 12.0) == RESERVED
    assert await b.confirm(A, C1) is True and await a.confirm(A, C1) is False


async def test_a_reservation_that_moved_on_is_not_released(redis):
    a_store, _ = router(redis, "a")
    _, b = router(redis, "b")
    await reserved_by(a_store)
    assert await a_store.transition(A, "ring", 4.0, call=C1, expect_call=C1) == "ringing"  # redirected in time
    assert await b.orphans() == []
    assert await b.release_orphan(A, C1, "a", 10.0) is False
    assert (await a_store.agent(A)).state == "ringing"
