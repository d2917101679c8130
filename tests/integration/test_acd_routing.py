"""The routing rules on the real Asterisk, with simulated agent phones and the real router.

Each test's agents, queue settings and calls come from the `floor` fixture (tests/integration/
floor.py): extensions no other test uses, and everything ended and logged out when it ends.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
import redis as sync_redis
from sqlalchemy import select

from acd.protocol import RELOAD
from acd.store import Store
from agent_desktop.acd_client import RouterClient
from callcenter.models import AgentStateLog, CallbackRequest
from callcenter.runtime.supervisor import read_status
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.helpers import ended_row, make_customer, streamed, wait_for_state

ACCESS = "10000"
GREETED = "w" * 10
CONSULT = GREETED + "5"  # main menu: business enquiry -> skill consult
COMPLAINT = GREETED + "6"
TO_AGENT = GREETED + "0"  # main menu 0: a general agent
# the bill (1) asks the service password (make_customer's 123456); then 0 until the menu after
# the bill hears it: a general agent, the caller verified in this call
VERIFIED_TO_AGENT = GREETED + "1wwww123456" + "w" * 30 + "0w" * 12


async def queued_in_router(store: Store, uid: str, timeout: float = 30) -> None:
    """The router has taken the call into its live queue, waiting for an agent."""
    async def waiting():
        call = (await store.calls()).get(uid)  # in the set: written whole (one transaction)
        return call is not None and call.waiting
    await wait_until(waiting, timeout=timeout, what=f"call {uid} waiting in the router's queue")


async def agent_rung(ami, uid: str, timeout: float = 40) -> str:
    event = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentRinging", CallId=uid, timeout=timeout)
    return event["Agent"]


def cli(stack_env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcenter.cli", *args], env=stack_env, capture_output=True,
                          text=True, timeout=30)


async def test_skill_match_best_level_then_longest_idle(stack, stack_env, ami, sessions, store, floor):
    low = floor.agent({"consult": 3})
    best = floor.agent({"consult": 5})
    fresh = floor.agent({"consult": 5})
    other = floor.agent({"complaint": 5})
    await floor.reload()
    for ext in (low, best, fresh, other):
        await set_sim_phone(ami, ext, answer_after=1, talk_s=2)
    now = time.time()
    await floor.ready(low, since=now - 300)
    await floor.ready(other, since=now - 300)
    await floor.ready(fresh, since=now - 10)
    await floor.ready(best, since=now - 100)  # level 5 and idle longest of the level-5 agents
    _, number = make_customer(sessions)
    uid = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=30)
    assert await agent_rung(ami, uid) == best
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid)
    await wait_for_state(store, best, "on_call")
    # the agent hangs up: wrap-up (the queue's time), then ready again
    await ami.events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid, timeout=20)
    await wait_for_state(store, best, "wrapup")
    # a supervisor extends the wrap-up, then ends it; wrap-up calls are never offered meanwhile
    before = (await store.agent(best)).wrapup_until
    assert cli(stack_env, "agent", best, "extend-wrapup", "--seconds", "60").stdout.strip() == \
        f"agent {best}: wrap-up extended by 60 s"
    assert (await store.agent(best)).wrapup_until == pytest.approx(before + 60)
    assert cli(stack_env, "agent", best, "end-wrapup").stdout.strip() == f"agent {best}: now ready"
    row = await wait_until(ended_row(sessions, uid), what="call closed")
    assert row.end_reason == "agent_hangup" and row.answered_at is not None

    def logged():  # drained from Redis into the database once a second
        with sessions() as s:
            states = [r.state for r in s.scalars(select(AgentStateLog).where(AgentStateLog.extension == best)
                                                  .order_by(AgentStateLog.id))]
        return states if len(states) >= 7 else None
    states = await wait_until(logged, what="state log drained")
    assert states[:7] == ["not_ready", "ready", "reserved", "ringing", "on_call", "wrapup", "ready"]


async def test_vip_goes_first(ami, sessions, store, floor):
    """A VIP who keyed their service password in the menu (issue 15: the caller ID alone is no
    proof, see the next test)."""
    weaker = floor.agent({"general": 2})
    stronger = floor.agent({"general": 5})
    await floor.reload()
    await set_sim_phone(ami, weaker, answer_after=1, talk_s=20)
    await set_sim_phone(ami, stronger, answer_after=1, talk_s=20)
    _, ordinary = make_customer(sessions, vip_level=0)
    _, vip = make_customer(sessions, vip_level=3)
    first = await floor.call(ACCESS, ordinary, dtmf=TO_AGENT, hold_s=90)
    await queued_in_router(store, first)
    second = await floor.call(ACCESS, vip, dtmf=VERIFIED_TO_AGENT, hold_s=60)
    await queued_in_router(store, second, timeout=90)
    assert ((await store.call(first)).priority, (await store.call(second)).priority) == (0, 3)
    await floor.ready(stronger)
    assert await agent_rung(ami, second) == stronger  # the VIP, though it came later, goes first
    assert not ami.events.matching(Event="UserEvent", UserEvent="AgentRinging", CallId=first)
    await floor.ready(weaker)
    assert await agent_rung(ami, first) == weaker


async def test_a_vip_known_only_by_the_caller_id_waits_its_turn(ami, sessions, store, floor):
    """Issue 15: a caller ID (anyone can send any) names a VIP but proves nothing; without the
    service password the call gets no VIP priority and is served in its turn."""
    agent = floor.agent({"complaint": 5})
    await floor.reload()
    await set_sim_phone(ami, agent, answer_after=1, talk_s=20)
    _, ordinary = make_customer(sessions, vip_level=0)
    _, vip = make_customer(sessions, vip_level=3)
    first = await floor.call(ACCESS, ordinary, dtmf=COMPLAINT, hold_s=60)
    await queued_in_router(store, first)
    second = await floor.call(ACCESS, vip, dtmf=COMPLAINT, hold_s=60)
    await queued_in_router(store, second)
    assert (await store.call(second)).priority == 0
    await floor.ready(agent)
    assert await agent_rung(ami, first) == agent  # the first caller first
    assert not ami.events.matching(Event="UserEvent", UserEvent="AgentRinging", CallId=second)


async def test_a_transferred_call_goes_before_callers_who_waited_longer(stack, ami, sessions, store, floor):
    """A complaint caller waits (no complaint agent is ready); a consult agent then transfers their
    own caller into the complaint queue: the next complaint agent gets the transferred call first."""
    floor.queue("complaint")  # a transfer goes only to a skill with a queue row (UNKNOWN_SKILL otherwise)
    consultant = floor.agent({"consult": 5})  # never offered the complaint caller
    handler = floor.agent({"complaint": 5})
    await floor.reload()
    await set_sim_phone(ami, consultant, answer_after=1, talk_s=60)
    await set_sim_phone(ami, handler, answer_after=1, talk_s=20)
    router = RouterClient(sync_redis.Redis.from_url(stack.effective_redis_url, decode_responses=True))

    _, number = make_customer(sessions)
    waiting = await floor.call(ACCESS, number, dtmf=COMPLAINT, hold_s=90)
    await queued_in_router(store, waiting)
    await floor.ready(consultant)
    _, number = make_customer(sessions)
    transferred = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=90)
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=transferred, Agent=consultant,
                              timeout=60)
    await wait_for_state(store, consultant, "on_call")
    result = await asyncio.to_thread(router.send, "transfer", ext=consultant, call=transferred, skill="complaint")
    assert result.ok, result
    await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=transferred, Transferred="1",
                              timeout=10)
    await queued_in_router(store, transferred)
    await wait_for_state(store, consultant, "wrapup")
    # the premise: the other caller has waited longer in this queue
    assert (await store.call(waiting)).queued_at < (await store.call(transferred)).queued_at
    await floor.ready(handler)
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentRinging", CallId=transferred, Agent=handler,
                              timeout=30)
    assert not ami.events.matching(Event="UserEvent", UserEvent="AgentRinging", CallId=waiting)


async def test_no_answer_sets_not_ready_and_the_call_goes_to_the_next_agent(ami, sessions, store, floor):
    floor.queue("consult", ring_time_s=4, no_answer_limit=1)
    deaf = floor.agent({"consult": 5})
    backup = floor.agent({"consult": 1})
    await floor.reload()
    await set_sim_phone(ami, deaf, answer_after=None)  # never answers
    await set_sim_phone(ami, backup, answer_after=1, talk_s=2)
    now = time.time()
    await floor.ready(deaf, since=now - 100)
    await floor.ready(backup, since=now)
    _, number = make_customer(sessions)
    uid = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=40)
    assert await agent_rung(ami, uid) == deaf
    missed = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentNoAnswer", CallId=uid, timeout=20)
    assert missed["Agent"] == deaf
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, Agent=backup, timeout=20)
    await wait_for_state(store, deaf, "not_ready")
    assert (await store.agent(deaf)).reason == "no_answer"
    # the floor's teardown waits for the backup's 2 s call to end before it logs them out: a
    # logout while on the call is refused, and the wrap-up that follows would make them ready


async def test_overflow_to_a_general_agent_after_the_queue_time(ami, sessions, store, floor):
    floor.queue("complaint", overflow="6:4")
    general = floor.agent({"general": 4})
    await floor.reload()
    await set_sim_phone(ami, general, answer_after=1, talk_s=2)
    _, number = make_customer(sessions)
    uid = await floor.call(ACCESS, number, dtmf=COMPLAINT, hold_s=40)
    queued = await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uid, timeout=30)
    await queued_in_router(store, uid)
    # no other test's caller waits (the floor ends every test's calls), so the general agent's
    # only candidate is this complaint caller, once it overflows
    await floor.ready(general)
    assert await agent_rung(ami, uid, timeout=30) == general
    rung = ami.events.matching(Event="UserEvent", UserEvent="AgentRinging", CallId=uid)[0]
    assert float(rung["Timestamp"]) - float(queued["Timestamp"]) >= 5.5  # not before the overflow time


async def test_abandoned_while_waiting_is_counted_with_its_wait(sessions, store, floor):
    _, number = make_customer(sessions)
    uid = await floor.call(ACCESS, number, dtmf=COMPLAINT, hold_s=12)
    row = await wait_until(ended_row(sessions, uid), timeout=40, what="call closed")
    assert row.end_reason == "abandoned_waiting"
    assert row.queued_at is not None and (row.ended_at - row.queued_at).total_seconds() >= 3
    assert await store.call(uid) is None


async def test_router_killed_with_callers_waiting_loses_none(stack, ami, sessions, store, floor):
    agents = (floor.agent({"consult": 4}), floor.agent({"consult": 4}))
    await floor.reload()
    for ext in agents:
        await set_sim_phone(ami, ext, answer_after=1, talk_s=5)
    uids = []
    for _ in range(2):
        _, number = make_customer(sessions)
        uids.append(await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=90))
    for uid in uids:
        await queued_in_router(store, uid)
    acd = read_status(stack.run_dir)["services"]["acd"]
    os.kill(acd["pid"], signal.SIGKILL)
    now = time.time()  # agents become ready while no router runs
    for ext in agents:
        await floor.ready(ext, since=now)
    rung = {await agent_rung(ami, uid, timeout=45) for uid in uids}
    assert rung == set(agents)
    assert read_status(stack.run_dir)["services"]["acd"]["restarts"] > acd["restarts"]


async def test_two_routers_at_once_never_double_book(stack, stack_env, ami, sessions, store, floor):
    log = open(stack.log_dir / "acd-second-router.log", "ab")  # kept with the stack's logs for a failure
    second_router = subprocess.Popen([sys.executable, "-m", "acd"], env=stack_env, stdout=log, stderr=log)
    log.close()
    agents = [floor.agent({"consult": 3}) for _ in range(3)]
    try:
        async def two_routers() -> bool:  # only routers subscribe to reloads; one rebuilds first
            [(_, subscribers)] = await store.redis.pubsub_numsub(RELOAD)
            return subscribers == 2
        await wait_until(two_routers, timeout=30, what="the second router rebuilt and subscribed")
        await floor.reload()
        for ext in agents:
            await set_sim_phone(ami, ext, answer_after=1, talk_s=30)
        uids = []
        for _ in range(5):
            _, number = make_customer(sessions)
            uids.append(await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=60))
        for uid in uids:
            await queued_in_router(store, uid)
        now = time.time()
        for ext in agents:
            await floor.ready(ext, since=now)
        # both routers race for the three agents; once all three talk, every reservation is made
        for ext in agents:
            await wait_for_state(store, ext, "on_call", timeout=30)
        rung = [e for e in ami.events.matching(Event="UserEvent", UserEvent="AgentRinging") if e["CallId"] in uids]
        seen = [(e["Agent"], e["CallId"], e["Timestamp"]) for e in rung]
        assert len(rung) == 3, seen  # three agents, each on a 30 s call: three calls placed, two still waiting
        assert sorted(e["Agent"] for e in rung) == sorted(agents)  # no agent twice
        assert len({e["CallId"] for e in rung}) == 3  # no call twice
        assert sorted({(await store.agent(ext)).call for ext in agents}) == sorted(e["CallId"] for e in rung)
    finally:
        second_router.send_signal(signal.SIGKILL)
        second_router.wait()


async def test_waiting_callers_hear_their_position_and_may_take_a_call_back(stack, ami, sessions, store, floor):
    await ami.send_action({"Action": "Setvar", "Variable": "CC_ANNOUNCE_S", "Value": "3"})
    try:
        _, listener = make_customer(sessions)
        first = await floor.call(ACCESS, listener, dtmf=COMPLAINT, hold_s=25)
        await ami.events.wait_for(Event="AGIExecStart", Uniqueid=first, timeout=40,
                                  Command=f'STREAM FILE "{stack.prompts_dir}/zh/queue_ahead" "1"')
        _, number = make_customer(sessions)
        second = await floor.call(ACCESS, number, dtmf=COMPLAINT + "w" * 10 + "1" + "w" * 4 + "1", hold_s=20)
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=second, timeout=60)
        assert ended["End"] == "callback"
    finally:
        await ami.send_action({"Action": "Setvar", "Variable": "CC_ANNOUNCE_S", "Value": "30"})
    heard = [f.rsplit("/", 1)[-1] for f in streamed(ami.events, first)]
    at = heard.index("queue_ahead")
    assert heard[at + 1: at + 3] == ["n0", "queue_callers"]  # nobody ahead of the first caller
    with sessions() as s:
        request = s.scalar(select(CallbackRequest).where(CallbackRequest.call_uniqueid == second))
        assert request.number == number and request.reason == "queue" and request.status == "pending"
    row = await wait_until(ended_row(sessions, second), what="call closed")
    assert row.end_reason == "callback_requested"
    # the request waits in the queue; when agents are free: the agent's phone first, then the customer
    assert (await store.call(second)).is_callback
    agents = (floor.agent({"complaint": 3}), floor.agent({"complaint": 3}))
    await floor.reload()
    for ext in agents:
        await set_sim_phone(ami, ext, answer_after=1, talk_s=10)
        await floor.ready(ext)
    answered = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=second, timeout=30)
    assert answered["Agent"] in agents
    done = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=second, timeout=30)
    assert done["DialStatus"] == "ANSWER"

    def status():
        with sessions() as s:
            r = s.scalar(select(CallbackRequest).where(CallbackRequest.call_uniqueid == second))
            return r.status if r.status != "pending" else None
    assert await wait_until(status, what="callback request done") == "done"
    assert await store.call(second) is None
