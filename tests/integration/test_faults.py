"""Faults on the real stack (issue 15): one part of the call center fails under live calls, and no
call is lost. Every call a test places ends with a call record and an end reason, and a call an
agent answered has a recording path (`assert_no_call_lost`); no agent is left ringing, reserved
or on a call that is gone; calls placed after the fault reach an agent.

A part is killed the way it dies in production (SIGKILL, no clean-up) and the supervisor of
`callcenter up` starts it again; the database is made unavailable by holding SQLite's write lock
from another connection, as a long writer or a stuck process would. These tests share the
session's stack, so each waits until the part it broke serves again before it ends.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import threading

import pytest
from redis import exceptions as redis_errors
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from acd import agent_state as st
from callcenter.models import Call, Recording
from callcenter.runtime import asterisk
from callcenter.runtime.ami_check import ami_login_ok
from callcenter.runtime.ports import is_listening
from callcenter.runtime.supervisor import read_status
from callcenter.runtime.tasks import read_health
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import log_size, read_log, wait_until
from tests.integration.desktop_helpers import PASSWORD, make_user
from tests.integration.helpers import call_row, fresh_number, make_customer

# each kills a part of the shared stack and waits for it to serve again: 20-60 s a test
pytestmark = pytest.mark.slow

ACCESS = "10000"
BUSY = (st.RESERVED, st.RINGING, st.ON_CALL)
REPORTING_TASKS = ("acd", "cdr", "sip", "desktop-push")  # services whose supervised tasks report their health


# ---------------------------------------------------------------- the stack's processes
def service(stack, name: str) -> dict:
    return read_status(stack.run_dir)["services"][name]


def kill(stack, name: str) -> dict:
    """SIGKILL a service as a crash would; what the supervisor said of it before."""
    before = service(stack, name)
    os.kill(before["pid"], signal.SIGKILL)
    return before


async def restarted(stack, name: str, before: dict, timeout: float = 60) -> dict:
    """Until the supervisor runs the service again under a new pid, and its tasks are all up."""
    def again():
        svc = service(stack, name)
        if svc["restarts"] <= before["restarts"] or svc["state"] != "running" or svc["pid"] == before["pid"]:
            return None
        if name not in REPORTING_TASKS:  # ready when it listens (redis, asterisk's AMI, ivr, web)
            return svc if svc.get("port") is None or is_listening(svc["port"]) else None
        tasks = read_health(stack.run_dir, svc["pid"])  # written once its start-up (a rebuild) is done
        return svc if tasks and all(t.get("up") for t in tasks.values()) else None
    return await wait_until(again, timeout=timeout, what=f"{name} restarted by the supervisor")


async def tasks_up(stack, name: str, timeout: float = 60) -> None:
    """The service's supervised tasks all report up (after a fault they restart and reconnect)."""
    def up():
        tasks = read_health(stack.run_dir, service(stack, name)["pid"])
        return bool(tasks) and all(t.get("up") for t in tasks.values())
    await wait_until(up, timeout=timeout, what=f"{name}'s tasks up")


# ---------------------------------------------------------------- what must hold after a fault
def ended_rows(sessions, uids: list[str]):
    def fetch():
        with sessions() as s:
            rows = list(s.scalars(select(Call).where(Call.uniqueid.in_(uids))))
        return rows if len(rows) == len(uids) and all(r.ended_at is not None for r in rows) else None
    return fetch


async def assert_no_call_lost(sessions, uids: list[str], answered: list[str], timeout: float = 60) -> dict[str, Call]:
    """Each call ended with one record and a reason; each answered call has a recording path."""
    rows = {r.uniqueid: r for r in await wait_until(ended_rows(sessions, uids), timeout=timeout,
                                                      what=f"records of {uids} closed")}
    with sessions() as s:  # one record per call, never two
        counts = dict(s.execute(select(Call.uniqueid, func.count()).where(Call.uniqueid.in_(uids))
                                .group_by(Call.uniqueid)).all())
    assert counts == {uid: 1 for uid in uids}, counts
    reasons = {uid: rows[uid].end_reason for uid in uids}
    assert all(reasons.values()), reasons
    for uid in answered:
        assert rows[uid].answered_at is not None, f"call {uid} was answered: {rows[uid].__dict__}"
        assert rows[uid].recording_path, f"answered call {uid} has no recording path ({reasons[uid]})"
    return rows


async def no_agent_held(store, agents) -> None:
    """No agent left reserved, ringing or on a call."""
    async def let_go():
        states = {ext: (await store.agent(ext)).state for ext in agents}
        return states if not set(states.values()) & set(BUSY) else None
    await wait_until(let_go, timeout=30, what=f"agents {agents} let go (not {BUSY})")


async def answered_by(ami, uid: str, timeout: float = 60) -> str:
    event = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, timeout=timeout)
    return event["Agent"]


async def queued_in_router(store, uid: str, timeout: float = 40) -> None:
    async def waiting():
        call = (await store.calls()).get(uid)
        return call is not None and call.waiting
    await wait_until(waiting, timeout=timeout, what=f"call {uid} waiting in the router's queue")


async def key_when_heard(ami, uid: str, prompt: str, digit: str, timeout: float = 60) -> None:
    """Key `digit` once the menu has started playing `prompt` to this caller: keyed on what the
    caller hears, not after a fixed number of seconds, so a prompt added before the menu (or a
    slower menu under a fault) does not shift the keys."""
    def started():
        return any(e.get("Command", "").startswith("STREAM FILE ") and f'/{prompt}"' in e["Command"]
                   for e in ami.events.matching(Event="AGIExecStart", Uniqueid=uid))
    await wait_until(started, timeout=timeout, what=f"prompt {prompt} played to {uid}")
    # the simulated caller's own half (Local ...;1, uniqueid without "-2") sends the tone to the menu
    caller_leg = ami.events.matching(Event="Newchannel", Uniqueid=uid.removesuffix("-2"))[0]["Channel"]
    # Async: false because panoramisk 1.4 reads Asterisk's "DTMF successfully queued" as an
    # Originate's answer and looks up the action's Async header (a KeyError that drops the connection)
    reply = await ami.send_action({"Action": "PlayDTMF", "Channel": caller_leg, "Digit": digit, "Duration": "250",
                                   "Async": "false"})
    assert reply.get("Response") == "Success", reply


async def consult_call(floor, sessions, hold_s: float = 120) -> str:
    """A known customer who chooses business enquiry (skill consult) in the main menu."""
    _, number = make_customer(sessions)
    uid = await floor.call(ACCESS, number, hold_s=hold_s)
    await key_when_heard(floor.ami, uid, "main_menu", "5")
    return uid


# ---------------------------------------------------------------- Asterisk
async def test_asterisk_restarted_with_calls_talking_ringing_queued_and_in_the_menu(stack, ami, sessions, store,
                                                                                    floor):
    floor.queue("consult", ring_time_s=90)  # the ringing agent still rings when Asterisk dies
    talker, ringer = floor.agent({"consult": 5}), floor.agent({"consult": 5})
    await floor.reload()
    await set_sim_phone(ami, talker, answer_after=1, talk_s=300)
    await set_sim_phone(ami, ringer, answer_after=None)
    await floor.ready(talker)
    talking = await consult_call(floor, sessions)
    assert await answered_by(ami, talking) == talker
    await floor.ready(ringer)
    ringing = await consult_call(floor, sessions)
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentRinging", CallId=ringing, Agent=ringer, timeout=40)
    queued = await consult_call(floor, sessions)
    await queued_in_router(store, queued)
    _, number = make_customer(sessions)
    in_menu = await floor.call(ACCESS, number, hold_s=120)  # silent: the menu replays its prompts
    await ami.events.wait_for(Event="AGIExecStart", Uniqueid=in_menu, timeout=30)
    assert (await store.agent(talker)).state == st.ON_CALL and (await store.agent(ringer)).state == st.RINGING

    acd_log, cdr_log = log_size(stack, "acd"), log_size(stack, "cdr")
    before = kill(stack, "asterisk")
    await restarted(stack, "asterisk", before)
    await wait_until(lambda: ami_login_ok(stack), timeout=60, what="AMI answers a login again")

    # the router rebuilt from the booted Asterisk and let both agents go; the records are closed
    await no_agent_held(store, [talker, ringer])
    rows = await assert_no_call_lost(sessions, [talking, ringing, queued, in_menu], answered=[talking])
    assert {uid: rows[uid].end_reason for uid in rows} == dict.fromkeys(rows, "lost")
    assert [uid for uid in rows if await store.call(uid) is not None] == []  # none left in the live queue
    assert "which Asterisk no longer has" in read_log(stack, "acd", since=acd_log)
    assert "whose channel was gone" in read_log(stack, "cdr", since=cdr_log)

    # and the center serves again: the globals the phones were set up with went with Asterisk
    for ext in (talker, ringer):
        await set_sim_phone(ami, ext, answer_after=1, talk_s=3)
        if (await store.agent(ext)).state != st.READY:
            await floor.ready(ext)
    after = await consult_call(floor, sessions, hold_s=60)
    assert await answered_by(ami, after) in (talker, ringer)
    await assert_no_call_lost(sessions, [after], answered=[after])


# ---------------------------------------------------------------- the router
async def test_router_killed_with_calls_talking_ringing_and_arriving_loses_none(stack, ami, sessions, store, floor):
    floor.queue("consult", ring_time_s=30)
    talker, ringer, late = (floor.agent({"consult": 5}) for _ in range(3))
    await floor.reload()
    await set_sim_phone(ami, talker, answer_after=1, talk_s=20)
    await set_sim_phone(ami, ringer, answer_after=8, talk_s=30)  # answers while no router runs
    await set_sim_phone(ami, late, answer_after=1, talk_s=3)
    await floor.ready(talker)
    talking = await consult_call(floor, sessions, hold_s=90)
    assert await answered_by(ami, talking) == talker
    ringing = await consult_call(floor, sessions, hold_s=90)
    await queued_in_router(store, ringing)
    await floor.ready(ringer)
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentRinging", CallId=ringing, Agent=ringer, timeout=40)

    acd_log = log_size(stack, "acd")
    supervisor = read_status(stack.run_dir)["supervisor_pid"]
    os.kill(supervisor, signal.SIGSTOP)  # no router at all until the ringing agent has answered
    try:
        before = kill(stack, "acd")
        arriving = await consult_call(floor, sessions, hold_s=90)  # queued while no router hears it
        await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=arriving, timeout=40)
        await floor.ready(late)  # an agent becomes ready while no router runs
        assert await answered_by(ami, ringing) == ringer
    finally:
        os.kill(supervisor, signal.SIGCONT)
    await restarted(stack, "acd", before)
    # the rebuild takes the agent who answered meanwhile as on call (not ringing), and finds the
    # caller who arrived meanwhile waiting in Asterisk: they reach the agent who came in meanwhile
    assert (await store.agent(ringer)).state == st.ON_CALL
    assert "while no router listened: on call" in read_log(stack, "acd", since=acd_log)
    assert await answered_by(ami, arriving) == late
    rows = await assert_no_call_lost(sessions, [talking, ringing, arriving], answered=[talking, ringing, arriving])
    assert {rows[uid].end_reason for uid in rows} <= {"agent_hangup", "caller_hangup"}
    await no_agent_held(store, [talker, ringer, late])


# ---------------------------------------------------------------- Redis
def redis_answers(store):
    async def answers() -> bool:  # the test's own client: its pooled connection died with the server
        try:
            return await store.redis.ping()
        except redis_errors.ConnectionError:
            return False
    return answers


async def test_redis_restarted_with_a_call_talking_and_one_queued_loses_none(stack, ami, sessions, store, floor):
    talker, late = floor.agent({"consult": 5}), floor.agent({"consult": 5})
    await floor.reload()
    await set_sim_phone(ami, talker, answer_after=1, talk_s=25)
    await set_sim_phone(ami, late, answer_after=1, talk_s=3)
    await floor.ready(talker)
    talking = await consult_call(floor, sessions, hold_s=90)
    assert await answered_by(ami, talking) == talker
    queued = await consult_call(floor, sessions, hold_s=90)
    await queued_in_router(store, queued)

    before = kill(stack, "redis")  # it keeps its data in an append-only file (callcenter/runtime/redis_server.py)
    await restarted(stack, "redis", before)
    await wait_until(redis_answers(store), what="Redis answers the test's client again")
    for name in ("acd", "desktop-push", "cdr"):  # their listeners subscribed again
        await tasks_up(stack, name)
    assert (await store.agent(talker)).state == st.ON_CALL and (await store.call(queued)).waiting
    await floor.ready(late)  # a change after the restart reaches the router: the caller is served
    assert await answered_by(ami, queued) == late
    rows = await assert_no_call_lost(sessions, [talking, queued], answered=[talking, queued])
    assert {rows[uid].end_reason for uid in rows} <= {"agent_hangup", "caller_hangup"}
    await no_agent_held(store, [talker, late])


async def test_redis_restarted_empty_waiting_callers_are_found_again_in_asterisk(stack, ami, sessions, store, floor):
    """A Redis that comes back without its data (its files lost): the router, subscribing again,
    rebuilds from Asterisk. The waiting caller is queued again; agents, whose states went with
    Redis, log in again and are served."""
    agent = floor.agent({"consult": 5})
    await floor.reload()
    await set_sim_phone(ami, agent, answer_after=1, talk_s=3)
    queued = await consult_call(floor, sessions, hold_s=90)
    await queued_in_router(store, queued)

    supervisor = read_status(stack.run_dir)["supervisor_pid"]
    os.kill(supervisor, signal.SIGSTOP)  # Redis stays down until its files are gone
    try:
        before = kill(stack, "redis")
        data = stack.home / "redis"
        shutil.rmtree(data / "appendonlydir", ignore_errors=True)
        (data / "dump.rdb").unlink(missing_ok=True)
    finally:
        os.kill(supervisor, signal.SIGCONT)
    await restarted(stack, "redis", before)
    await wait_until(redis_answers(store), what="Redis answers the test's client again")
    await tasks_up(stack, "acd")
    await queued_in_router(store, queued)  # put back from Asterisk's cc-wait
    await floor.ready(agent)
    assert await answered_by(ami, queued) == agent
    await assert_no_call_lost(sessions, [queued], answered=[queued])
    await no_agent_held(store, [agent])


# ---------------------------------------------------------------- the FastAGI server
async def test_fastagi_killed_callers_fall_to_agi_fail_and_still_reach_an_agent(stack, ami, sessions, store, floor):
    general = floor.agent({"general": 5})
    await floor.reload()
    await set_sim_phone(ami, general, answer_after=1, talk_s=3)
    await floor.ready(general)
    # nothing may listen on the IVR's port while the calls come in: hold the supervisor still
    supervisor = read_status(stack.run_dir)["supervisor_pid"]
    os.kill(supervisor, signal.SIGSTOP)
    try:
        kill(stack, "ivr")
        await wait_until(lambda: not is_listening(stack.agi_port), what="FastAGI port closed")
        _, number = make_customer(sessions)
        uid = await floor.call(ACCESS, number, hold_s=30)  # no menu to key in: straight to agi_fail
        failed = await ami.events.wait_for(Event="UserEvent", UserEvent="IvrFailed", CallId=uid, timeout=30)
        assert failed["Reason"] == "ivr_unreachable"
        assert await answered_by(ami, uid) == general  # a general agent, not dead air
    finally:
        os.kill(supervisor, signal.SIGCONT)
    await wait_until(lambda: is_listening(stack.agi_port), timeout=60, what="FastAGI restarted and listening")
    rows = await assert_no_call_lost(sessions, [uid], answered=[uid])
    assert rows[uid].end_detail == "ivr_unreachable" and rows[uid].end_reason in ("agent_hangup", "caller_hangup")
    await no_agent_held(store, [general])


# ---------------------------------------------------------------- the database
class WriteLock:
    """SQLite's write lock held from another connection (BEGIN IMMEDIATE): every other writer waits
    out its busy timeout and fails with 'database is locked', as with a long migration or a
    stuck process; readers go on (WAL). Released by release()."""

    def __init__(self, url: str):
        self.database = make_url(url).database
        self.held = threading.Event()
        self.release_now = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        connection = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self.held.set()
            self.release_now.wait(300)
            connection.execute("ROLLBACK")
        finally:
            connection.close()

    def hold(self) -> None:
        self.thread.start()
        assert self.held.wait(30), "could not take the database's write lock"

    def release(self) -> None:
        self.release_now.set()
        self.thread.join(30)


class PostgresOutage:
    """The PostgreSQL database unreachable (CC_TEST_DATABASE=postgresql): new connections refused
    (ALLOW_CONNECTIONS false) and every open one ended, as while the server restarts. The
    superuser's own database carries the commands. Back with release()."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def _allow(self, allowed: bool) -> None:
        with self.admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": self.url.database})

    def hold(self) -> None:
        self._allow(False)

    def release(self) -> None:
        self._allow(True)
        self.admin.dispose()


def database_outage(url: str):
    return PostgresOutage(url) if make_url(url).get_backend_name() == "postgresql" else WriteLock(url)


def row_if_readable(sessions, uid: str):
    try:
        return call_row(sessions, uid)()
    except OperationalError:  # PostgreSQL down: nothing can be read either
        return None


async def test_database_unavailable_calls_still_routed_and_every_record_written_once_when_it_is_back(
        stack, ami, sessions, store, floor):
    agents = (floor.agent({"general": 5}), floor.agent({"general": 5}))
    await floor.reload()
    for ext in agents:
        await set_sim_phone(ami, ext, answer_after=1, talk_s=3)
        await floor.ready(ext)
    cdr_log = log_size(stack, "cdr")
    lock = database_outage(stack.database_url)
    lock.hold()
    try:
        # the menu cannot write the call's first row: it fails safe (agi_fail) to a general agent
        uids = [await floor.call(ACCESS, fresh_number("1390000"), hold_s=40) for _ in range(2)]
        for uid in uids:
            failed = await ami.events.wait_for(Event="UserEvent", UserEvent="IvrFailed", CallId=uid, timeout=60)
            assert failed["Reason"] == "ivr_error"
        answered = [await answered_by(ami, uid) for uid in uids]
        assert sorted(answered) == sorted(agents)  # routed from Redis while the database was locked
        for uid in uids:
            await ami.events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid, timeout=60)
        await wait_until(lambda: (stack.run_dir / "cdr-spool.jsonl").exists(), what="call events spooled")
        assert row_if_readable(sessions, uids[0]) is None  # nothing could be written meanwhile
    finally:
        lock.release()
    rows = await assert_no_call_lost(sessions, uids, answered=uids)
    for uid in uids:  # the record is whole: the spool kept every event, in order
        row = rows[uid]
        assert row.caller_number and row.access_number == ACCESS and row.queued_at and row.agent_extension in agents
        assert row.end_reason in ("agent_hangup", "caller_hangup") and row.end_detail == "ivr_error"
    await wait_until(lambda: not (stack.run_dir / "cdr-spool.jsonl").exists(), what="spool emptied")
    log = read_log(stack, "cdr", since=cdr_log)
    assert "call events are spooled" in log and "the spooled call events are written" in log
    await tasks_up(stack, "cdr")
    await no_agent_held(store, agents)


# ---------------------------------------------------------------- a web worker


async def test_web_worker_killed_the_agents_desktop_reconnects_to_the_state_it_missed(stack, ami, sessions, store,
                                                                                       floor, browser):
    ext = floor.extension()
    username = f"fault_agent_{ext}"
    make_user(sessions, username, "agent", ext=ext)
    floor.agent({"consult": 5}, ext=ext)
    await floor.reload()
    await set_sim_phone(ami, ext, answer_after=1, talk_s=300)
    base = f"http://{stack.web_host}:{stack.web_port}"
    page = await (await browser.new_context()).new_page()
    await page.goto(base + "/login?lang=en")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await page.wait_for_url(base + "/agent")
    await page.click("#btn-ready")
    await page.wait_for_selector('#state[data-state="ready"]')

    before = kill(stack, "web")
    uid = await consult_call(floor, sessions)  # the agent is rung and answers while no web worker runs
    assert await answered_by(ami, uid) == ext
    await restarted(stack, "web", before)
    # the page's socket reconnects by itself and reads the state it missed; the session cookie holds
    await page.wait_for_selector('#state[data-state="on_call"]', timeout=60_000)
    await page.click("#btn-hangup")  # and commands and pushes flow again over the new socket
    await page.wait_for_selector('#state[data-state="wrapup"]', timeout=30_000)
    await assert_no_call_lost(sessions, [uid], answered=[uid])


# ---------------------------------------------------------------- the recordings disk
class FullRecordingsDisk:
    """The recordings folder, as Asterisk sees it, on a 64 KiB tmpfs filled to the last byte: every
    MixMonitor write fails with ENOSPC. Asterisk runs in a mount namespace of its own (a chroot's
    private mounts, callcenter/runtime/asterisk.py), so the tmpfs is mounted inside it (nsenter);
    our services keep seeing the real folder, where no file appears. Unmounted when done."""

    def __init__(self, stack):
        install = asterisk.locate(stack, build=False)
        pid = service(stack, "asterisk")["pid"]
        self.enter = ["nsenter", "-t", str(pid), "-m"] if install.root is not None else []
        self.target = f"{install.root}{stack.recordings_dir}" if install.root is not None else str(stack.recordings_dir)

    def _run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.enter + list(argv), capture_output=True, text=True, timeout=30)

    def __enter__(self):
        mounted = self._run("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", self.target)
        assert mounted.returncode == 0, mounted.stderr
        self._run("dd", "if=/dev/zero", f"of={self.target}/filler", "bs=4096")  # ends with "No space left"
        free = self._run("stat", "-f", "-c", "%a", self.target)
        assert free.stdout.strip() == "0", f"tmpfs not full: {free.stdout} {free.stderr}"
        return self

    def __exit__(self, *_):
        self._run("umount", self.target)


def recording_problem(sessions, uid: str):
    def fetch():
        with sessions() as s:
            row = s.scalar(select(Recording).where(Recording.call_uniqueid == uid))
        return row.problem if row is not None else None
    return fetch


async def test_recordings_disk_full_calls_go_on_and_the_missing_recordings_are_flagged(stack, ami, sessions, store,
                                                                                       floor):
    agent = floor.agent({"consult": 5})
    await floor.reload()
    await set_sim_phone(ami, agent, answer_after=1, talk_s=4)
    await floor.ready(agent)
    with FullRecordingsDisk(stack):
        uid = await consult_call(floor, sessions, hold_s=60)  # menu, queue, agent: nothing waits on the disk
        assert await answered_by(ami, uid) == agent
        await ami.events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid, timeout=60)
    rows = await assert_no_call_lost(sessions, [uid], answered=[uid])
    assert rows[uid].end_reason in ("agent_hangup", "caller_hangup")
    assert not os.path.exists(rows[uid].recording_path)  # nothing was written where it should be
    # the recordings' pass (recordings/job.py, in the CDR process) flags the answered call's missing file
    problem = await wait_until(recording_problem(sessions, uid), timeout=120, what=f"recording of {uid} flagged")
    assert problem == "missing"
    await no_agent_held(store, [agent])
