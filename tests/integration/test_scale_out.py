"""Scale-out on the real stack (issue 15): `callcenter up` with two routers, two FastAGI servers and
two web workers (CC_ROUTERS=2, CC_AGI_SERVERS=2, CC_WEB_WORKERS=2) on one Redis and one database.

The stack is this module's own, in a private home on free ports, started once for the module
and stopped at its end (`callcenter down`); the session's one-of-each stack is neither used nor
touched. A burst of real calls through the menu against a few agents, one of whom never answers:
every call is answered exactly once and has its record and reason, and the state log (Redis's
``acd:state-log``, every applied agent change) shows no agent given a second call before the
first was over and no call given to two agents. A desktop client on worker 1 sees a change made
through worker 2. One router frozen (SIGSTOP) mid-traffic: the other carries the calls, and the
frozen one, woken with its backlog of stale events, books nobody twice. One router stopped right
after it reserved an agent, before its redirect (a test-only hook, CC_TEST_FREEZE_AFTER_RESERVE):
the other releases the reservation once its lease is gone and connects the caller, and the
stopped one, woken, sends nothing (acd/leases.py).
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from acd import agent_state as st
from acd.service import TEST_FREEZE_KEY
from callcenter import db
from callcenter.config import Settings
from callcenter.models import Call
from callcenter.runtime.supervisor import read_status
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import free_port, private_stack_env, read_log, running_stack, wait_until
from tests.integration.desktop_helpers import make_user, socket_client, web_login
from tests.integration.helpers import make_customer

pytestmark = pytest.mark.slow

ACCESS = "10000"
CONSULT = "w" * 10 + "5"  # greeting, then the main menu's business enquiry (skill consult)
SCALED = {"CC_ROUTERS": "2", "CC_AGI_SERVERS": "2", "CC_WEB_WORKERS": "2",
          "CC_TEST_FREEZE_AFTER_RESERVE": "1"}  # armed only by the one test that sets TEST_FREEZE_KEY


def two_free_ports() -> int:
    """A port whose next one is free too: the second web worker listens there."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


@pytest.fixture(scope="module")
def stack_env(tmp_path_factory, postgres) -> dict[str, str]:
    """Two of each, on a database of its own: on the session's PostgreSQL server, or SQLite when
    the tier runs on SQLite. The conftest's ami, store and floor fixtures follow this module's
    `stack` and `sessions`."""
    database = postgres.database("scaled") if postgres else None
    env = private_stack_env(tmp_path_factory.mktemp("callcenter-scaled"), database)
    env.update({"CC_WEB_PORT": str(two_free_ports()), **SCALED})
    return env


@pytest.fixture(scope="module")
def stack(stack_env):
    yield from running_stack(stack_env, check_nothing_left=True)


@pytest.fixture(scope="module")
def scaled(stack) -> Settings:
    return stack


@pytest.fixture(scope="module")
def sessions(stack):
    return db.session_factory(stack.database_url)


def services(settings: Settings) -> dict[str, dict]:
    return read_status(settings.run_dir)["services"]


def records(sessions, uids: list[str]):
    """Every call's row, once each has ended; None until then."""
    def fetch():
        with sessions() as s:
            rows = s.scalars(select(Call).where(Call.uniqueid.in_(uids))).all()
        ended = {r.uniqueid: r for r in rows if r.ended_at is not None}
        return ended if len(ended) == len(uids) else None
    return fetch


def record_counts(sessions, uids: list[str]) -> dict[str, int]:
    with sessions() as s:
        return dict(s.execute(select(Call.uniqueid, func.count()).where(Call.uniqueid.in_(uids))
                              .group_by(Call.uniqueid)).all())


def booking_problems(entries: list[tuple[str, dict]], agents: set[str]) -> list[str]:
    """What the state log shows that a double booking would: an agent changed along no edge of the
    state machine (reserved again while reserved, ringing or talking ...), or moved on a call other
    than the one they were reserved for; and a call talked on by two agents."""
    allowed = {(before, after) for edges in st.TRANSITIONS.values() for before, after in edges.items()}
    last: dict[str, tuple[str, str]] = {}
    talkers: dict[str, set[str]] = defaultdict(set)
    problems = []
    for stream_id, entry in entries:
        ext = entry["ext"]
        if ext not in agents:
            continue
        state, call = entry["state"], entry.get("call", "")
        before, before_call = last.get(ext, (st.LOGGED_OUT, ""))
        if (before, state) not in allowed:
            problems.append(f"{stream_id}: agent {ext} {before} ({before_call}) -> {state} ({call})")
        if state in (st.RINGING, st.ON_CALL) and call != before_call:
            problems.append(f"{stream_id}: agent {ext} {state} on {call} but was {before} for {before_call}")
        if state == st.ON_CALL:
            talkers[call].add(ext)
        last[ext] = (state, call)
    problems += [f"call {call} talked on by {sorted(exts)}" for call, exts in talkers.items() if len(exts) > 1]
    return problems


async def burst(floor, sessions, calls: int) -> list[str]:
    uids = []
    for _ in range(calls):
        _, number = make_customer(sessions)
        uids.append(await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=240))
    return uids


async def assert_every_call_answered_once_with_its_record(ami, sessions, uids: list[str]) -> None:
    rows = await wait_until(records(sessions, uids), timeout=300, what=f"records of {len(uids)} calls closed")
    assert record_counts(sessions, uids) == {uid: 1 for uid in uids}  # one record per call, never two
    answers = [e["CallId"] for e in ami.events.matching(Event="UserEvent", UserEvent="AgentAnswered")]
    assert {uid: answers.count(uid) for uid in uids} == {uid: 1 for uid in uids}
    assert {uid: bool(rows[uid].end_reason and rows[uid].answered_at) for uid in uids} == {uid: True for uid in uids}


async def floor_of(floor, ami, answering: int) -> tuple[list[str], str]:
    """`answering` agents whose phones answer after 1 s and talk 3 s, and one whose phone never
    answers (every router hears its no-answer), all ready on consult (4 s ring, 1 s wrap-up)."""
    floor.queue("consult", ring_time_s=4, wrapup_s=1, no_answer_limit=1)
    agents = [floor.agent({"consult": 3}) for _ in range(answering)]
    silent = floor.agent({"consult": 3})
    await floor.reload()
    for ext in agents:
        await set_sim_phone(ami, ext, answer_after=1, talk_s=3)
    await set_sim_phone(ami, silent, answer_after=None)
    for ext in agents + [silent]:
        await floor.ready(ext)
    return agents, silent


async def test_two_of_each_carry_a_burst_with_no_double_booking_and_no_lost_call(scaled, ami, sessions, store,
                                                                                  floor):
    names = services(scaled)
    assert {"acd-1", "acd-2", "ivr-1", "ivr-2", "web-1", "web-2"} <= set(names) and not {"acd", "ivr", "web"} & set(names)
    assert all(names[n]["state"] == "running" for n in ("acd-1", "acd-2", "ivr-1", "ivr-2", "web-1", "web-2"))
    log_from = (await store.state_log())[-1][0] if await store.state_log() else "-"
    agents, silent = await floor_of(floor, ami, answering=3)
    uids = await burst(floor, sessions, calls=10)
    await assert_every_call_answered_once_with_its_record(ami, sessions, uids)
    assert (await store.agent(silent)).reason == "no_answer"
    # both routers heard its no-answer; one applied it (and says so in its log), the other found it done
    misses = [line for name in ("acd-1", "acd-2") for line in read_log(scaled, name).splitlines()
              if f"agent {silent} did not answer" in line]
    assert len(misses) == 1, misses
    entries = await store.state_log(log_from, count=100_000)
    assert booking_problems(entries, set(agents) | {silent}) == []
    talked = {e["call"] for _, e in entries if e["state"] == st.ON_CALL and e["ext"] in agents}
    assert talked == set(uids)


async def test_the_kernel_spreads_fastagi_connections_over_both_servers_on_one_port(scaled):
    servers = {services(scaled)[name]["pid"] for name in ("ivr-1", "ivr-2")}

    def accepted_by() -> set[int]:  # the processes holding the server side of each connection
        listed = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{scaled.agi_port} )"],
                                capture_output=True, text=True, timeout=10).stdout
        return {int(pid) for pid in re.findall(r"pid=(\d+)", listed)}
    # 16 connections: the kernel's hash puts them all on one server once in 2**15
    connections = [socket.create_connection((scaled.agi_host, scaled.agi_port), timeout=5) for _ in range(16)]
    try:
        await wait_until(lambda: servers <= accepted_by(), timeout=10, what="both FastAGI servers accepting")
    finally:
        for connection in connections:
            connection.close()


async def test_a_client_on_worker_1_sees_a_change_made_through_worker_2(scaled, sessions, floor):
    ext = floor.extension()
    make_user(sessions, "s_agent", "agent", ext=ext, team="team-s")
    make_user(sessions, "s_lead", "supervisor", team="team-s", lead=True)
    first, second = (f"http://{scaled.web_host}:{port}" for port in scaled.web_ports)
    agent_http, agent_token = web_login(first, "s_agent")
    lead_http, lead_token = web_login(second, "s_lead")
    agent, lead = socket_client(first, agent_http, agent_token), socket_client(second, lead_http, lead_token)
    try:
        states: list = []
        agent.on("agent_state", states.append)
        reply = lead.call("supervise_state", {"ext": ext, "to": "not_ready"}, timeout=10)
        assert reply == {"ok": True, "state": "not_ready"}
        # worker 2 -> router (a Redis list one router pops) -> push -> Redis message queue -> worker 1
        await wait_until(lambda: any(s["state"] == "not_ready" and s["reason"] == "supervisor" for s in states),
                         timeout=20, what="the agent's socket on worker 1 told of the change")
    finally:
        agent.disconnect()
        lead.disconnect()


async def test_one_router_frozen_mid_traffic_the_other_carries_on_and_the_late_one_books_nobody_twice(
        scaled, ami, sessions, store, floor):
    log_from = (await store.state_log())[-1][0] if await store.state_log() else "-"
    agents, silent = await floor_of(floor, ami, answering=2)
    frozen = services(scaled)["acd-1"]["pid"]
    os.kill(frozen, signal.SIGSTOP)  # alive to the supervisor, deaf to every event meanwhile
    try:
        uids = await burst(floor, sessions, calls=6)
        await assert_every_call_answered_once_with_its_record(ami, sessions, uids)
    finally:
        os.kill(frozen, signal.SIGCONT)
    # woken, acd-1 handles every event it missed, each about a call long over; then one more call
    # through both routers shows the floor still works and nothing was booked twice meanwhile
    later = await burst(floor, sessions, calls=2)
    await assert_every_call_answered_once_with_its_record(ami, sessions, later)
    assert services(scaled)["acd-1"]["pid"] == frozen  # the same process, not a restart
    entries = await store.state_log(log_from, count=100_000)
    assert booking_problems(entries, set(agents) | {silent}) == []


def is_stopped(pid: int) -> bool:
    """The process is stopped (SIGSTOP): its state in /proc/<pid>/stat is T."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


async def test_a_router_stopped_between_a_reservation_and_its_redirect_is_swept_by_the_other(
        scaled, ami, sessions, store, floor):
    """Issue 15's gap: a router that dies (or freezes) after reserving an agent and before moving
    the caller used to leave the agent reserved until its own restart. Here the router that makes
    the reservation stops itself right there (SIGSTOP, the test hook): the other router, once the
    stopped one's lease is gone, puts the agent back to ready and the call back in the queue,
    and connects it; the stopped one, woken, confirms nothing and sends no redirect."""
    log_from = (await store.state_log())[-1][0] if await store.state_log() else "-"
    floor.queue("consult", ring_time_s=4, wrapup_s=1, no_answer_limit=1)
    agent = floor.agent({"consult": 3})
    await floor.reload()
    await set_sim_phone(ami, agent, answer_after=1, talk_s=3)
    await floor.ready(agent)
    routers = {services(scaled)[name]["pid"]: name for name in ("acd-1", "acd-2")}
    await store.redis.set(TEST_FREEZE_KEY, "1")  # the router that takes it stops after its next reservation
    [uid] = await burst(floor, sessions, calls=1)
    frozen = (await wait_until(lambda: [pid for pid in routers if is_stopped(pid)], timeout=60,
                               what="a router stopped right after its reservation"))[0]
    try:
        reserved = await store.agent(agent)
        assert (reserved.state, reserved.call) == ("reserved", uid)  # reserved, and never redirected
        answered = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, timeout=60)
        assert answered["Agent"] == agent
        assert is_stopped(frozen)  # answered while it was still stopped: the other router did it all
    finally:
        os.kill(frozen, signal.SIGCONT)
    await assert_every_call_answered_once_with_its_record(ami, sessions, [uid])
    survivor = routers[next(pid for pid in routers if pid != frozen)]
    assert f"reserved for call {uid} by router" in read_log(scaled, survivor)  # the survivor's sweep
    await wait_until(lambda: f"reservation for call {uid} was released while this router was away"
                     in read_log(scaled, routers[frozen]), timeout=30, what="the woken router finding it released")
    assert services(scaled)[routers[frozen]]["pid"] == frozen  # the same process, never restarted
    entries = await store.state_log(log_from, count=100_000)
    assert booking_problems(entries, {agent}) == []
    moves = [(e["state"], e["call"]) for _, e in entries if e["ext"] == agent]
    first = moves.index((st.RESERVED, uid))
    assert moves[first:first + 5] == [(st.RESERVED, uid), (st.READY, ""), (st.RESERVED, uid), (st.RINGING, uid),
                                      (st.ON_CALL, uid)]
    assert await store.redis.exists(TEST_FREEZE_KEY) == 0


def test_the_state_log_check_sees_a_double_booking():
    """booking_problems is the check the tests above rely on: it must see what it looks for."""
    def log(*rows):
        return [(f"{i}-0", {"ext": ext, "state": state, "call": call}) for i, (ext, state, call) in enumerate(rows)]
    clean = log(("1", "not_ready", ""), ("1", "ready", ""), ("1", "reserved", "a"), ("1", "ringing", "a"),
                ("1", "on_call", "a"), ("1", "wrapup", "a"), ("1", "ready", ""))
    assert booking_problems(clean, {"1"}) == []
    released_then_rung_for_the_old_call = log(("1", "not_ready", ""), ("1", "ready", ""), ("1", "reserved", "b"),
                                              ("1", "ringing", "a"))
    assert booking_problems(released_then_rung_for_the_old_call, {"1"}) == [
        "3-0: agent 1 ringing on a but was reserved for b"]
    reserved_twice = log(("1", "not_ready", ""), ("1", "ready", ""), ("1", "reserved", "a"), ("1", "reserved", "b"))
    assert booking_problems(reserved_twice, {"1"}) == ["3-0: agent 1 reserved (a) -> reserved (b)"]
    two_agents = log(("1", "not_ready", ""), ("1", "ready", ""), ("1", "reserved", "a"), ("1", "on_call", "a"),
                     ("2", "not_ready", ""), ("2", "ready", ""), ("2", "reserved", "a"), ("2", "on_call", "a"))
    assert booking_problems(two_agents, {"1", "2"}) == ["call a talked on by ['1', '2']"]
