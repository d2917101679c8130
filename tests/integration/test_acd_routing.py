"""The routing rules on the real Asterisk, with simulated agent phones and the real router."""
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

from acd.store import Store, make_ready
from agent_desktop.acd_client import RouterClient
from callcenter.models import AgentStateLog, CallbackRequest, QueueConfig
from callcenter.runtime.supervisor import read_status
from callcenter.simulate import place_call, set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.helpers import add_agent, ended_row, hang_up, logout, make_customer, reload, streamed

ACCESS = "10000"
GREETED = "w" * 10
CONSULT = GREETED + "5"  # main menu: business enquiry -> skill consult
COMPLAINT = GREETED + "6"


def set_queue(sessions, skill: str, **fields) -> None:
    with sessions() as s:
        queue = s.get(QueueConfig, skill) or QueueConfig(skill=skill)
        for k, v in fields.items():
            setattr(queue, k, v)
        s.merge(queue)
        s.commit()


async def agent_state(store: Store, ext: str, wanted: str, timeout: float = 10) -> str:
    """The agent's state once it is `wanted` (or whatever it is at the timeout)."""
    deadline = time.monotonic() + timeout
    while (state := (await store.agent(ext))["state"]) != wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return state


async def queued_in_router(store: Store, uid: str) -> None:
    """The router has taken the call into its queue (it handles the event a moment after us)."""
    for _ in range(50):
        if await store.call(uid):
            await asyncio.sleep(0.3)
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"router never queued {uid}")


async def agent_rung(ami, uid: str, timeout: float = 40) -> str:
    event = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentRinging", CallId=uid, timeout=timeout)
    return event["Agent"]


def cli(stack_env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcenter.cli", *args], env=stack_env, capture_output=True,
                          text=True, timeout=30)


async def test_skill_match_best_level_then_longest_idle(stack, stack_env, ami, sessions, store):
    add_agent(sessions, "1501", {"consult": 3})
    add_agent(sessions, "1502", {"consult": 5})
    add_agent(sessions, "1503", {"consult": 5})
    add_agent(sessions, "1504", {"complaint": 5})
    await reload(store)
    for ext in ("1501", "1502", "1503", "1504"):
        await set_sim_phone(ami, ext, answer_after=1, talk_s=2)
    now = time.time()
    await make_ready(store, "1501", now - 300)
    await make_ready(store, "1504", now - 300)
    await make_ready(store, "1503", now - 10)
    await make_ready(store, "1502", now - 100)  # level 5 and idle longest of the level-5 agents
    try:
        _, number = make_customer(sessions)
        uid = await place_call(ami, ACCESS, number, dtmf=CONSULT, hold_s=30)
        assert await agent_rung(ami, uid) == "1502"
        await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid)
        assert await agent_state(store, "1502", "on_call") == "on_call"
        # the agent hangs up: wrap-up (the queue's time), then ready again
        await ami.events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid, timeout=20)
        assert await agent_state(store, "1502", "wrapup") == "wrapup"
        # a supervisor extends the wrap-up, then ends it; wrap-up calls are never offered meanwhile
        before = float((await store.agent("1502"))["wrapup_until"])
        assert cli(stack_env, "agent", "1502", "extend-wrapup", "--seconds", "60").stdout.strip() == \
            "agent 1502: wrap-up extended by 60 s"
        assert float((await store.agent("1502"))["wrapup_until"]) == pytest.approx(before + 60)
        assert cli(stack_env, "agent", "1502", "end-wrapup").stdout.strip() == "agent 1502: now ready"
        row = await wait_until(ended_row(sessions, uid), what="call closed")
        assert row.end_reason == "agent_hangup" and row.answered_at is not None
        def logged():  # drained from Redis into the database once a second
            with sessions() as s:
                states = [r.state for r in s.scalars(select(AgentStateLog).where(AgentStateLog.extension == "1502")
                                                      .order_by(AgentStateLog.id))]
            return states if len(states) >= 6 else None
        states = await wait_until(logged, what="state log drained")
        assert states[:6] == ["not_ready", "ready", "reserved", "ringing", "on_call", "wrapup"]
    finally:
        await logout(store, "1501", "1502", "1503", "1504")


async def test_vip_goes_first(stack, ami, sessions, store):
    add_agent(sessions, "1521", {"complaint": 2})
    add_agent(sessions, "1522", {"complaint": 5})
    await reload(store)
    await set_sim_phone(ami, "1521", answer_after=1, talk_s=20)
    await set_sim_phone(ami, "1522", answer_after=1, talk_s=20)
    try:
        _, ordinary = make_customer(sessions, vip_level=0)
        _, vip = make_customer(sessions, vip_level=3)
        first = await place_call(ami, ACCESS, ordinary, dtmf=COMPLAINT, hold_s=60)
        await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=first, timeout=30)
        second = await place_call(ami, ACCESS, vip, dtmf=COMPLAINT, hold_s=60)
        await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=second, timeout=30)
        await queued_in_router(store, second)
        await make_ready(store, "1522", time.time())
        assert await agent_rung(ami, second) == "1522"  # the VIP, though it came later, goes first
        assert not ami.events.matching(Event="UserEvent", UserEvent="AgentRinging", CallId=first)
        await make_ready(store, "1521", time.time())
        assert await agent_rung(ami, first) == "1521"
    finally:
        await logout(store, "1521", "1522")


async def test_a_transferred_call_goes_before_callers_who_waited_longer(stack, ami, sessions, store):
    """Agent 1511 transfers their caller back into the complaint queue, where another caller has
    waited longer; the next free agent gets the transferred call first."""
    add_agent(sessions, "1511", {"complaint": 5})
    add_agent(sessions, "1512", {"complaint": 5})
    with sessions() as s:
        wrapup_before = s.get(QueueConfig, "complaint").wrapup_s if s.get(QueueConfig, "complaint") else 10
    set_queue(sessions, "complaint", wrapup_s=120)  # 1511 stays in wrap-up: not offered the waiting caller
    await reload(store)
    await set_sim_phone(ami, "1511", answer_after=1, talk_s=60)
    await set_sim_phone(ami, "1512", answer_after=1, talk_s=20)
    router = RouterClient(sync_redis.Redis.from_url(stack.effective_redis_url, decode_responses=True))
    transferred = waiting = None
    try:
        await make_ready(store, "1511", time.time())
        _, number = make_customer(sessions)
        transferred = await place_call(ami, ACCESS, number, dtmf=COMPLAINT, hold_s=90)
        await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=transferred, timeout=60)
        _, number = make_customer(sessions)
        waiting = await place_call(ami, ACCESS, number, dtmf=COMPLAINT, hold_s=90)
        await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=waiting, timeout=30)
        await queued_in_router(store, waiting)
        await asyncio.sleep(2)  # the waiting caller is now well ahead in time
        result = await asyncio.to_thread(router.send, "transfer", ext="1511", call=transferred, skill="complaint")
        assert result.ok, result
        await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=transferred, Transferred="1",
                                  timeout=10)
        await queued_in_router(store, transferred)
        assert await agent_state(store, "1511", "wrapup") == "wrapup"
        await make_ready(store, "1512", time.time())
        await ami.events.wait_for(Event="UserEvent", UserEvent="AgentRinging", CallId=transferred, Agent="1512",
                                  timeout=30)
        assert not ami.events.matching(Event="UserEvent", UserEvent="AgentRinging", CallId=waiting)
    finally:
        await hang_up(ami, transferred, waiting)  # neither may be left for the next test's agents
        set_queue(sessions, "complaint", wrapup_s=wrapup_before)
        await reload(store)
        await logout(store, "1511", "1512")


async def test_no_answer_sets_not_ready_and_the_call_goes_to_the_next_agent(stack, ami, sessions, store):
    set_queue(sessions, "consult", ring_time_s=4, no_answer_limit=1)
    add_agent(sessions, "1531", {"consult": 5})
    add_agent(sessions, "1532", {"consult": 1})
    await reload(store)
    await set_sim_phone(ami, "1531", answer_after=None)  # never answers
    await set_sim_phone(ami, "1532", answer_after=1, talk_s=2)
    now = time.time()
    await make_ready(store, "1531", now - 100)
    await make_ready(store, "1532", now)
    try:
        _, number = make_customer(sessions)
        uid = await place_call(ami, ACCESS, number, dtmf=CONSULT, hold_s=40)
        assert await agent_rung(ami, uid) == "1531"
        missed = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentNoAnswer", CallId=uid, timeout=20)
        assert missed["Agent"] == "1531"
        await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, Agent="1532", timeout=20)
        assert await agent_state(store, "1531", "not_ready") == "not_ready"
        assert (await store.agent("1531"))["reason"] == "no_answer"
    finally:
        set_queue(sessions, "consult", ring_time_s=15)
        await reload(store)
        await logout(store, "1531", "1532")


async def test_overflow_to_a_general_agent_after_the_queue_time(stack, ami, sessions, store):
    set_queue(sessions, "complaint", overflow="6:4")
    add_agent(sessions, "1541", {"general": 4})
    await reload(store)
    await set_sim_phone(ami, "1541", answer_after=1, talk_s=2)
    try:
        _, number = make_customer(sessions)
        uid = await place_call(ami, ACCESS, number, dtmf=COMPLAINT, hold_s=40)
        queued = await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uid, timeout=30)
        # only complaint callers may be waiting, or the general agent would serve an older general call
        await make_ready(store, "1541", time.time())
        assert await agent_rung(ami, uid, timeout=30) == "1541"
        rung = ami.events.matching(Event="UserEvent", UserEvent="AgentRinging", CallId=uid)[0]
        assert float(rung["Timestamp"]) - float(queued["Timestamp"]) >= 5.5  # not before the overflow time
    finally:
        set_queue(sessions, "complaint", overflow="")
        await reload(store)
        await logout(store, "1541")


async def test_abandoned_while_waiting_is_counted_with_its_wait(stack, ami, sessions, store):
    _, number = make_customer(sessions)
    uid = await place_call(ami, ACCESS, number, dtmf=COMPLAINT, hold_s=12)
    row = await wait_until(ended_row(sessions, uid), timeout=40, what="call closed")
    assert row.end_reason == "abandoned_waiting"
    assert row.queued_at is not None and (row.ended_at - row.queued_at).total_seconds() >= 3
    assert await store.call(uid) == {}


async def test_router_killed_with_callers_waiting_loses_none(stack, ami, sessions, store):
    add_agent(sessions, "1551", {"consult": 4})
    add_agent(sessions, "1552", {"consult": 4})
    await reload(store)
    await set_sim_phone(ami, "1551", answer_after=1, talk_s=5)
    await set_sim_phone(ami, "1552", answer_after=1, talk_s=5)
    try:
        uids = []
        for _ in range(2):
            _, number = make_customer(sessions)
            uids.append(await place_call(ami, ACCESS, number, dtmf=CONSULT, hold_s=90))
        for uid in uids:
            await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uid, timeout=30)
        acd = read_status(stack.run_dir)["services"]["acd"]
        os.kill(acd["pid"], signal.SIGKILL)
        now = time.time()  # agents become ready while no router runs
        await make_ready(store, "1551", now)
        await make_ready(store, "1552", now)
        rung = {await agent_rung(ami, uid, timeout=45) for uid in uids}
        assert rung == {"1551", "1552"}
        assert read_status(stack.run_dir)["services"]["acd"]["restarts"] > acd["restarts"]
    finally:
        await logout(store, "1551", "1552")


async def test_two_routers_at_once_never_double_book(stack, stack_env, ami, sessions, store):
    log = open(stack.log_dir / "acd-second-router.log", "ab")  # kept with the stack's logs for a failure
    second_router = subprocess.Popen([sys.executable, "-m", "acd"], env=stack_env, stdout=log, stderr=log)
    log.close()
    agents = ("1561", "1562", "1563")
    for ext in agents:
        add_agent(sessions, ext, {"consult": 3})
    await reload(store)
    for ext in agents:
        await set_sim_phone(ami, ext, answer_after=1, talk_s=30)
    uids = []
    try:
        await asyncio.sleep(3)  # the second router has rebuilt its view
        for _ in range(5):
            _, number = make_customer(sessions)
            uids.append(await place_call(ami, ACCESS, number, dtmf=CONSULT, hold_s=60))
        for uid in uids:
            await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uid, timeout=30)
        now = time.time()
        for ext in agents:
            await make_ready(store, ext, now)
        await asyncio.sleep(8)
        rung = [e for e in ami.events.matching(Event="UserEvent", UserEvent="AgentRinging") if e["CallId"] in uids]
        seen = [(e["Agent"], e["CallId"], e["Timestamp"]) for e in rung]
        assert len(rung) == 3, seen  # three agents, each on a 30 s call: three calls placed, two still waiting
        assert sorted(e["Agent"] for e in rung) == list(agents)  # no agent twice
        assert len({e["CallId"] for e in rung}) == 3  # no call twice
    finally:
        second_router.send_signal(signal.SIGKILL)
        second_router.wait()
        await logout(store, *agents)
        await hang_up(ami, *uids)


async def test_waiting_callers_hear_their_position_and_may_take_a_call_back(stack, ami, sessions, store):
    await ami.send_action({"Action": "Setvar", "Variable": "CC_ANNOUNCE_S", "Value": "3"})
    try:
        _, listener = make_customer(sessions)
        first = await place_call(ami, ACCESS, listener, dtmf=COMPLAINT, hold_s=25)
        await ami.events.wait_for(Event="AGIExecStart", Uniqueid=first, timeout=40,
                                  Command=f'STREAM FILE "{stack.prompts_dir}/zh/queue_ahead" "1"')
        _, number = make_customer(sessions)
        second = await place_call(ami, ACCESS, number, dtmf=COMPLAINT + "w" * 10 + "1" + "w" * 4 + "1", hold_s=20)
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
    assert (await store.call(second)).get("kind") == "callback"
    for ext in ("1571", "1572"):
        add_agent(sessions, ext, {"complaint": 3})
    await reload(store)
    try:
        for ext in ("1571", "1572"):
            await set_sim_phone(ami, ext, answer_after=1, talk_s=10)
            await make_ready(store, ext, time.time())
        answered = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=second,
                                             timeout=30)
        assert answered["Agent"] in ("1571", "1572")
        done = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=second, timeout=30)
        assert done["DialStatus"] == "ANSWER"

        def status():
            with sessions() as s:
                r = s.scalar(select(CallbackRequest).where(CallbackRequest.call_uniqueid == second))
                return r.status if r.status != "pending" else None
        assert await wait_until(status, what="callback request done") == "done"
        assert await store.call(second) == {}
    finally:
        await logout(store, "1571", "1572")
