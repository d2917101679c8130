"""The contract that binds the unit tests' FakeStore to the real Store (Redis and its Lua).

Every case below is a small function of a store that returns what can be observed (answers,
agents, calls); each runs on both ``acd.store.Store`` over a redis-server of its own and on
``tests.unit.fakes.FakeStore``, and must give the expected result on both. A unit test that passes
on the fake therefore says something true of the real thing. What only the real store does
(publish every applied change, append it to the state log) is checked against the changes the
fake records.

No Asterisk and no stack: just redis-server, started here on a free loopback port and stopped at
the end. A missing redis-server fails the test (scripts/setup.sh installs it), never skips it.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis as sync_redis
import redis.asyncio as aioredis

from acd import protocol as p
from acd.protocol import AgentChange, LiveCall
from acd.store import AGENT_NOT_READY, CALL_GONE, RESERVED, Store
from tests.unit.fakes import FakeStore

A, B = "1001", "1002"  # agents
C1, C2 = "1795957925.1", "1795957925.2"  # calls
CHANNEL = "Local/10000@hotline-00000000;2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (scripts/setup.sh installs it)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis-contract")
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = sync_redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except sync_redis.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not answer on port {port} (exit {proc.poll()})")
            time.sleep(0.05)
        client.close()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def redis(redis_port):
    client = aioredis.Redis(port=redis_port)  # bytes, as acd/service.py's from_url gives them
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(params=["redis", "fake"])
async def store(request, redis_port):
    if request.param == "fake":
        yield FakeStore()
        return
    client = aioredis.Redis(port=redis_port)
    await client.flushdb()
    yield Store(client)
    await client.aclose()


# ---------------------------------------------------------------- what a case can observe
async def agent(store, ext):
    """state, reason, call, misses, since, wrapup_until"""
    a = await store.agent(ext)
    return a.state, a.reason, a.call, a.misses, a.since, a.wrapup_until


async def ready(store, ext, now=1.0):
    assert await store.transition(ext, "login", now) == "not_ready"
    assert await store.transition(ext, "ready", now) == "ready"


async def on_call(store, ext, uid, now=3.0):
    await ready(store, ext)
    await store.put_call(LiveCall(uid, channel=CHANNEL, queued_at=2.0))
    assert await store.reserve(ext, uid, now) == RESERVED
    assert await store.transition(ext, "ring", now, call=uid) == "ringing"
    assert await store.transition(ext, "answer", now, call=uid, misses=0) == "on_call"


def waiting(uid=C1, **fields) -> LiveCall:
    return LiveCall(uid, channel=CHANNEL, skill=fields.pop("skill", "billing"), queued_at=fields.pop("queued_at", 100.0),
                    **fields)


# ---------------------------------------------------------------- the cases: (case, expected)
CASES = []


def case(expected):
    def register(fn):
        CASES.append(pytest.param(fn, expected, id=fn.__name__))
        return fn
    return register


# -- agents and their transitions
@case(("logged_out", "", "", 0, 0.0, 0.0))
async def unknown_agent_is_logged_out(store):
    return await agent(store, "1999")


@case({})
async def no_agents_at_first(store):
    return await store.agents()


@case(("not_ready", ("not_ready", "login", "", 0, 10.0, 0.0)))
async def login(store):
    return await store.transition(A, "login", 10.0), await agent(store, A)


@case((None, ("logged_out", "", "", 0, 0.0, 0.0)))
async def ready_before_login_refused(store):
    return await store.transition(A, "ready", 10.0), await agent(store, A)


@case((None, ("not_ready", "login", "", 0, 10.0, 0.0)))
async def login_twice_refused(store):
    await store.transition(A, "login", 10.0)
    return await store.transition(A, "login", 11.0), await agent(store, A)


@case(("ready", ("ready", "", "", 0, 11.0, 0.0)))
async def ready_after_login(store):
    await store.transition(A, "login", 10.0)
    return await store.transition(A, "ready", 11.0), await agent(store, A)


@case(("not_ready", ("not_ready", "break", "", 0, 12.0, 0.0)))
async def not_ready_with_a_reason(store):
    await ready(store, A)
    return await store.transition(A, "not_ready", 12.0, reason="break"), await agent(store, A)


@case((None, ("ready", "", "", 0, 1.0, 0.0)))
async def not_ready_without_a_reason_refused(store):
    await ready(store, A)
    return await store.transition(A, "not_ready", 12.0), await agent(store, A)


@case((None, ("ready", "", "", 0, 1.0, 0.0)))
async def not_ready_with_an_unknown_reason_refused(store):
    await ready(store, A)
    return await store.transition(A, "not_ready", 12.0, reason="nap"), await agent(store, A)


@case((None, ("on_call", "", C1, 0, 3.0, 0.0)))
async def logout_while_on_call_refused(store):
    await on_call(store, A, C1)
    return await store.transition(A, "logout", 20.0), await agent(store, A)


@case(("logged_out", ("logged_out", "", "", 0, 20.0, 0.0)))
async def logout_when_ready(store):
    await ready(store, A)
    return await store.transition(A, "logout", 20.0), await agent(store, A)


@case(("wrapup", ("wrapup", "", C1, 0, 30.0, 40.0)))
async def hang_up_with_wrapup_until_set_first(store):
    await on_call(store, A, C1)
    await store.set_wrapup_until(A, 40.0)
    return await store.transition(A, "hangup", 30.0, call=C1), await agent(store, A)


@case([("ready", "", "", 2, 5.0, 0.0), ("ready", "", "", 2, 6.0, 0.0), ("not_ready", "no_answer", "", 0, 7.0, 0.0)])
async def misses_given_kept_then_reset(store):
    await ready(store, A)
    await store.put_call(waiting())
    seen = []
    await store.reserve(A, C1, 4.0)
    await store.transition(A, "release", 5.0, misses=2)  # given
    seen.append(await agent(store, A))
    await store.transition(A, "not_ready", 6.0, reason="break")
    await store.transition(A, "ready", 6.0)  # not given: kept
    seen.append(await agent(store, A))
    await store.update_call(C1, agent="")
    await store.reserve(A, C1, 7.0)
    await store.transition(A, "no_answer", 7.0, reason="no_answer", misses=0)
    seen.append(await agent(store, A))
    return seen


@case([A, B])
async def agents_lists_every_agent_that_changed(store):
    await store.transition(B, "login", 1.0)
    await ready(store, A)
    return sorted(await store.agents())


@case(("wrapup", 55.5))
async def set_wrapup_until_keeps_the_state(store):
    await on_call(store, A, C1)
    await store.set_wrapup_until(A, 50.0)
    await store.transition(A, "hangup", 30.0, call=C1)
    await store.set_wrapup_until(A, 55.5)  # a supervisor extended it
    a = await store.agent(A)
    return a.state, a.wrapup_until


# -- reservations
@case((RESERVED, ("reserved", "", C1, 0, 4.0, 0.0), A))
async def reserve_ready_agent_and_waiting_call(store):
    await ready(store, A)
    await store.put_call(waiting())
    return await store.reserve(A, C1, 4.0), await agent(store, A), (await store.call(C1)).agent


@case((AGENT_NOT_READY, ("not_ready", "login", "", 0, 1.0, 0.0), ""))
async def reserve_agent_not_ready(store):
    await store.transition(A, "login", 1.0)
    await store.put_call(waiting())
    return await store.reserve(A, C1, 4.0), await agent(store, A), (await store.call(C1)).agent


@case(AGENT_NOT_READY)
async def reserve_agent_unknown(store):
    await store.put_call(waiting())
    return await store.reserve("1999", C1, 4.0)


@case((CALL_GONE, ("ready", "", "", 0, 1.0, 0.0), B))
async def reserve_call_taken(store):
    await ready(store, A)
    await ready(store, B)
    await store.put_call(waiting())
    assert await store.reserve(B, C1, 3.0) == RESERVED
    return await store.reserve(A, C1, 4.0), await agent(store, A), (await store.call(C1)).agent


@case((CALL_GONE, ("ready", "", "", 0, 1.0, 0.0), None))
async def reserve_call_missing(store):
    await ready(store, A)
    return await store.reserve(A, C1, 4.0), await agent(store, A), await store.call(C1)


@case(AGENT_NOT_READY)
async def reserve_checks_the_agent_before_the_call(store):
    await store.transition(A, "login", 1.0)
    return await store.reserve(A, C1, 4.0)  # neither ready nor a call: the agent is named


@case((RESERVED, LiveCall(C1, channel=CHANNEL, skill="billing", priority=2, transferred=True, queued_at=100.0,
                          agent=A)))
async def reserve_call_returns_the_call_as_reserved(store):
    await ready(store, A)
    await store.put_call(waiting(priority=2, transferred=True))
    return await store.reserve_call(A, C1, 4.0)


@case([(AGENT_NOT_READY, None), (CALL_GONE, None)])
async def reserve_call_refused_returns_no_call(store):
    await store.transition(A, "login", 1.0)
    refused = [await store.reserve_call(A, C1, 4.0)]
    await store.transition(A, "ready", 2.0)
    refused.append(await store.reserve_call(A, C1, 4.0))
    return refused


# -- calls
@case((waiting(), {C1: waiting()}))
async def put_call_then_read_it(store):
    await store.put_call(waiting())
    return await store.call(C1), await store.calls()


@case((None, {}))
async def unknown_call(store):
    return await store.call(C1), await store.calls()


@case((100.0, LiveCall(C1, channel=CHANNEL, skill="billing", queued_at=100.0)))
async def enqueue_a_new_call(store):
    stored = await store.enqueue(waiting(queued_at=100.0, agent=A))  # an agent given is not kept
    return stored.queued_at, await store.call(C1)


@case((LiveCall(C1, channel=CHANNEL, skill="consult", transferred=True, queued_at=100.0),) * 2)
async def enqueue_again_keeps_the_first_queued_at(store):
    await store.enqueue(waiting(queued_at=100.0))
    await store.update_call(C1, agent=A)  # rung, not answered: back to wait
    back = await store.enqueue(waiting(queued_at=150.0, skill="consult", transferred=True))
    return back, await store.call(C1)


@case(((RESERVED, waiting(agent=A)), ("reserved", "", C1, 0, 4.0, 0.0), {C1: waiting(agent=A)}))
async def enqueue_and_reserve_a_new_call(store):
    await ready(store, A)
    answer = await store.enqueue_and_reserve(waiting(queued_at=100.0), A, 4.0)
    return answer, await agent(store, A), await store.calls()


@case(((AGENT_NOT_READY, waiting()), ("not_ready", "login", "", 0, 1.0, 0.0), waiting()))
async def enqueue_and_reserve_an_agent_not_ready_still_enqueues(store):
    await store.transition(A, "login", 1.0)
    answer = await store.enqueue_and_reserve(waiting(queued_at=100.0), A, 4.0)
    return answer, await agent(store, A), await store.call(C1)


@case((RESERVED, LiveCall(C1, channel=CHANNEL, skill="consult", transferred=True, queued_at=100.0, agent=B)))
async def enqueue_and_reserve_keeps_the_first_queued_at(store):
    await ready(store, B)
    await store.enqueue(waiting(queued_at=100.0))
    await store.update_call(C1, agent=A)  # rung, not answered: back to wait
    return await store.enqueue_and_reserve(waiting(queued_at=150.0, skill="consult", transferred=True), B, 4.0)


# -- two routers hear every CallQueued: only the first to apply it resets the call to waiting
@case((waiting(agent=A, queued_by="1.5"), waiting(agent=A, queued_by="1.5")))
async def the_same_call_queued_event_applied_twice_changes_nothing(store):
    await ready(store, A)
    await store.enqueue(waiting(queued_by="1.5"))
    await store.reserve(A, C1, 4.0)  # the first router reserved an agent for it
    again = await store.enqueue(waiting(queued_at=150.0, queued_by="1.5"))  # the second router, same event
    return again, await store.call(C1)


@case(((RESERVED, waiting(agent=A, queued_by="1.5")), (CALL_GONE, waiting(agent=A, queued_by="1.5")), "ready"))
async def enqueue_and_reserve_of_an_event_applied_already_reserves_nobody(store):
    await ready(store, A)
    await ready(store, B)
    first = await store.enqueue_and_reserve(waiting(queued_by="1.5"), A, 4.0)
    second = await store.enqueue_and_reserve(waiting(queued_at=150.0, queued_by="1.5"), B, 4.5)
    return first, second, (await store.agent(B)).state


@case(waiting(queued_by="2.5"))
async def a_new_call_queued_event_makes_the_call_wait_again(store):
    await ready(store, A)
    await store.enqueue(waiting(queued_by="1.5"))
    await store.reserve(A, C1, 4.0)
    await store.enqueue(waiting(queued_at=150.0, queued_by="2.5"))  # not answered: back in cc-wait
    return await store.call(C1)


@case(LiveCall(C1, channel=CHANNEL, skill="billing", queued_at=100.0, agent=A, held=True,
               agent_channel="Local/1001@cc-agent-phones-00000001;1"))
async def update_call_changes_only_those_fields(store):
    await store.put_call(waiting())
    await store.update_call(C1, agent=A)
    await store.update_call(C1, held=True, agent_channel="Local/1001@cc-agent-phones-00000001;1")
    return await store.call(C1)


@case("ValueError")
async def update_call_refuses_an_unknown_field(store):
    await store.put_call(waiting())
    try:
        await store.update_call(C1, colour="red")
    except ValueError:
        return "ValueError"
    return "accepted"


@case((None, {}))
async def update_call_of_a_call_no_longer_live_leaves_nothing(store):
    """A Redirect refused because the caller just hung up: the router frees the call it no longer has."""
    await store.put_call(waiting())
    await store.drop_call(C1)
    await store.update_call(C1, agent="")
    return await store.call(C1), await store.calls()


@case((None, {C2: waiting(C2)}))
async def drop_call(store):
    await store.put_call(waiting())
    await store.put_call(waiting(C2))
    await store.drop_call(C1)
    await store.drop_call("1795957925.9")  # unknown: nothing to do
    return await store.call(C1), await store.calls()


# -- two routers acting on one event (scale-out, issue 15)
@case((None, None, "ringing", C2))
async def a_change_about_another_call_is_refused(store):
    """A no-answer for C1 heard late: the agent was given C2 since; only a change about C2 applies."""
    await ready(store, A)
    await store.put_call(waiting(C2))
    await store.reserve(A, C2, 4.0)
    late = await store.transition(A, "release", 5.0, expect_call=C1)
    also_late = await store.transition(A, "ring", 5.0, call=C1, expect_call=C1)
    now = await store.transition(A, "ring", 6.0, call=C2, expect_call=C2)
    return late, also_late, now, (await store.agent(A)).call


@case((True, False, False, False))
async def only_one_takes_a_held_call_off_hold(store):
    await store.put_call(waiting(held=True))
    first, second = await store.take_off_hold(C1), await store.take_off_hold(C1)
    await store.put_call(waiting(C2))  # never held
    return first, second, await store.take_off_hold(C2), (await store.call(C1)).held


# -- a logout asked while the seat is busy (issue 15: an agent deactivated on a call)
@case(("on_call", None, "on_call", "wrapup", "logged_out", ("logged_out", "logout_after_call", "", 0, 6.0, 0.0),
       AGENT_NOT_READY))
async def a_logout_when_free_waits_for_the_call_and_its_wrapup(store):
    await on_call(store, A, C1)
    marked = await store.logout_when_free(A)
    logout_now = await store.transition(A, "logout", 4.0)  # refused while talking: the mark waits
    still = (await store.agent(A)).state
    wrapup = await store.transition(A, "hangup", 5.0, call=C1, expect_call=C1)
    after = await store.transition(A, "ready", 6.0)  # the wrap-up's end: logged out instead, never ready
    await store.put_call(waiting(C2))
    return marked, logout_now, still, wrapup, after, await agent(store, A), await store.reserve(A, C2, 7.0)


@case(("ringing", "logged_out", ("logged_out", "logout_after_call", "", 0, 5.0, 0.0), "", "not_ready"))
async def a_ring_left_unanswered_logs_the_marked_seat_out_and_the_mark_ends_there(store):
    await ready(store, A)
    await store.put_call(waiting())
    await store.reserve(A, C1, 3.0)
    await store.transition(A, "ring", 4.0, call=C1)
    marked = await store.logout_when_free(A)
    released = await store.transition(A, "release", 5.0, expect_call=C1)
    seat = await agent(store, A)
    # a seat that is not busy is not marked; a later login is an ordinary one
    return marked, released, seat, await store.logout_when_free(A), await store.transition(A, "login", 8.0)


@pytest.mark.parametrize("run, expected", CASES)
async def test_contract(store, run, expected):
    assert await run(store) == expected


# ---------------------------------------------------------------- what only the real store does
async def some_changes(store) -> None:
    """Applied and refused changes of two agents and a call."""
    await store.transition(A, "ready", 1.0)  # refused: not logged in
    await ready(store, A, 2.0)
    await store.transition(B, "login", 2.5)
    await store.put_call(waiting())
    await store.reserve(B, C1, 2.6)  # refused: B is not ready
    await store.reserve(A, C1, 3.0)
    await store.transition(A, "ring", 3.5, call=C1)
    await store.transition(A, "logout", 3.6)  # refused: ringing
    await store.transition(A, "answer", 4.0, call=C1, misses=0)


async def test_the_real_store_publishes_and_logs_every_applied_change_as_the_fake_records_it(redis):
    fake, real = FakeStore(), Store(redis)
    pubsub = redis.pubsub()
    await pubsub.subscribe(p.AGENT_CHANGES)
    await pubsub.get_message(timeout=1.0)  # the subscribe confirmation
    await some_changes(fake)
    await some_changes(real)

    published = []
    while len(published) < len(fake.changes):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
        assert message is not None, f"only {len(published)} of {len(fake.changes)} changes published"
        published.append(AgentChange.from_json(message["data"]))
    assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2) is None  # nothing refused
    await pubsub.aclose()

    assert fake.changes == [AgentChange(A, "not_ready", "login", "", 2.0), AgentChange(A, "ready", "", "", 2.0),
                            AgentChange(B, "not_ready", "login", "", 2.5), AgentChange(A, "reserved", "", C1, 3.0),
                            AgentChange(A, "ringing", "", C1, 3.5), AgentChange(A, "on_call", "", C1, 4.0)]
    assert published == fake.changes
    logged = [AgentChange(f["ext"], f["state"], f["reason"], f["call"], float(f["since"]))
              for _, f in await real.state_log()]
    assert logged == fake.changes


async def test_state_log_reads_on_after_a_given_entry(redis):
    real = Store(redis)
    await ready(real, A, 2.0)
    first, second = await real.state_log()
    await real.transition(A, "logout", 3.0)
    assert [f["state"] for _, f in await real.state_log(after=first[0])] == ["ready", "logged_out"]
    assert [f["state"] for _, f in await real.state_log(after=second[0], count=1)] == ["logged_out"]


async def test_announce_reload_reaches_the_reload_channel(redis):
    pubsub = redis.pubsub()
    await pubsub.subscribe(p.RELOAD)
    await pubsub.get_message(timeout=1.0)
    await Store(redis).announce_reload()
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
    await pubsub.aclose()
    assert message is not None and p.as_text(message["channel"]) == p.RELOAD
    fake = FakeStore()
    await fake.announce_reload()
    assert fake.reloads == 1


def test_every_public_method_of_the_real_store_is_on_the_fake():
    """state_log is the router's drain of the real stream; the fake records `changes` instead."""
    public = {name for name in vars(Store) if not name.startswith("_")} - {"state_log"}
    assert public <= {name for name in dir(FakeStore) if not name.startswith("_")}

