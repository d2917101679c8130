"""Wiring of the router process: configuration from the database, Redis, AMI, the loops."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import datetime, timezone

import redis.asyncio as aioredis
from sqlalchemy import select

from acd import call_log as journey_log
from acd import callbacks, commands, leases
from acd.actions import Actions
from acd.manager import AgentManager
from acd import monitoring
from acd import protocol
from acd.monitoring import Monitors
from acd.protocol import GENERAL, Queue, parse_overflow
from acd.router import Router, listen_for_changes
from acd.store import Store
from callcenter import ami, audit, callback_rules, db
from callcenter.business_hours import BusinessHours, hours_file
from callcenter.config import Settings
from callcenter.models import AgentSkill, AgentStateLog, QueueConfig, User
from callcenter.runtime.tasks import Health, background, supervise

log = logging.getLogger("acd")

# The router reads UserEvents (ours) and OriginateResponse (call class, for call backs); not the
# dialplan class (Newexten, VarSet: most of the stream), which it would only parse and drop.
ROUTER_EVENTS = "call,user,system,dtmf"  # system: FullyBooted, when Asterisk came back before it had booted
# dtmf: only the keys a monitor's own leg receives (mode switches keyed on their phone); manager.conf
# excludes every other DTMF event, Asterisk-side
CALLBACK_SCAN_S = 30  # how often due call backs are looked for (also at once after a reload)
# Held, floor-wide, by a claim and its queueing, a call back's close, and a start's look for lost
# ones (callbacks.requeue_lost), so none sees another half done. Expires if its holder dies.
CALLBACKS_LOCK, CALLBACKS_LOCK_S = "acd:callbacks-lock", 30
# test-only: with CC_TEST_FREEZE_AFTER_RESERVE=1 set for the routers, the one router that deletes
# this key stops itself (SIGSTOP) right after its next reservation (tests/integration/test_scale_out.py)
TEST_FREEZE_KEY = "acd:test:freeze-after-reserve"


def load_config(sessions) -> tuple[dict[str, Queue], dict[str, dict[str, int]]]:
    """Queues and agents' skills as the database has them now."""
    with sessions() as s:
        queues = {q.skill: Queue(q.skill, q.ring_time_s, q.wrapup_s, q.no_answer_limit, parse_overflow(q.overflow))
                  for q in s.scalars(select(QueueConfig))}
        agents: dict[str, dict[str, int]] = {}
        for ext, skill, level in s.execute(select(User.agent_extension, AgentSkill.skill, AgentSkill.level)
                                           .join(AgentSkill, AgentSkill.user_id == User.id)
                                           .where(User.agent_extension.is_not(None), User.active)):
            agents.setdefault(ext, {})[skill] = level
        for user in s.scalars(select(User).where(User.agent_extension.is_not(None), User.active)):
            agents.setdefault(user.agent_extension, {GENERAL: 1})  # no skills configured: general only
    return queues, agents


async def drain_state_log(store: Store, sessions, after: str) -> str:
    """Copy new agent state changes from Redis into agent_state_log; return the last id seen."""
    entries = await store.state_log(after)
    rows = [{"stream_id": sid, "extension": f["ext"], "state": f["state"], "reason": f.get("reason") or None,
             "call_uniqueid": f.get("call") or None,
             "started_at": datetime.fromtimestamp(float(f["since"]), tz=timezone.utc)} for sid, f in entries]

    def write() -> None:
        with sessions() as s:
            db.insert_ignoring_duplicates(s, AgentStateLog, rows)
            s.commit()
    await asyncio.to_thread(write)
    return entries[-1][0] if entries else after


def callback_outcome(sessions):
    async def record(uniqueid: str, status: str) -> None:
        outcome = await asyncio.to_thread(callbacks.record_outcome, sessions, uniqueid, status == "done")
        log.info("call back %s: %s", uniqueid, outcome or "no request on record")
    return record


def callback_dialler(settings: Settings, sessions, router: Router):
    """Queue the call backs that are due, while the center is open; one pass at a time."""
    lock = asyncio.Lock()

    async def release_due() -> None:
        async with lock:
            now = datetime.now(timezone.utc)
            if not BusinessHours.load(hours_file(settings.home)).is_open(now):
                return
            rules = callback_rules.load(settings.home)  # the dial plan as the file says now
            for due in await asyncio.to_thread(callbacks.due_requests, sessions, now):
                async with router.callback_guard():  # claimed and live in Redis at once, to the others
                    if await asyncio.to_thread(callbacks.claim, sessions, due, rules):
                        await router.queue_callback(due.uniqueid, due.number, due.skill)
    return release_due


def freeze_once(redis):
    """The test hook (CC_TEST_FREEZE_AFTER_RESERVE): after a reservation, if the test armed
    TEST_FREEZE_KEY and this router is the one that deletes it, stop this process right there."""
    async def hook(ext: str, uid: str) -> None:
        if await redis.delete(TEST_FREEZE_KEY):
            log.warning("test hook: stopping this router after reserving agent %s for call %s", ext, uid)
            os.kill(os.getpid(), signal.SIGSTOP)
    return hook


def last_logged(sessions) -> str:
    with sessions() as s:
        return s.scalar(select(AgentStateLog.stream_id).order_by(AgentStateLog.id.desc()).limit(1)) or "-"


async def run(settings: Settings) -> None:
    sessions = db.session_factory(settings.database_url)
    redis = aioredis.from_url(settings.effective_redis_url)
    store = Store(redis)
    lease = leases.Leases(redis, leases.new_owner())
    store.owner = lease.owner  # every reservation names this router (acd/leases.py)
    await lease.renew()
    ami_manager = await ami.connect(settings)
    queues, agents = load_config(sessions)
    actions = Actions(ami_manager, callback_rules=lambda: callback_rules.load(settings.home))
    manager = AgentManager(store, actions, queues, audit=audit.recorder(sessions))
    router = Router(store, actions, manager, agents, on_callback=callback_outcome(sessions), leases=lease)
    router.callback_guard = lambda: redis.lock(CALLBACKS_LOCK, timeout=CALLBACKS_LOCK_S)
    if os.environ.get("CC_TEST_FREEZE_AFTER_RESERVE") == "1":
        router.after_reserve = freeze_once(redis)
    async def tell_switch(switched) -> None:  # a switch keyed on the phone: the push process tells the wallboard
        await redis.publish(protocol.MONITOR_CHANGES, switched.to_json())

    monitors = Monitors(store, actions, audit=audit.recorder(sessions), on_changed=tell_switch)  # listen, whisper, barge
    kept = journey_log.CallLog()  # decisions and holds, for the call's journey
    router.on_decision, manager.on_hold = kept.decision, kept.hold
    if os.environ.get("CC_ROUTE_TRACE") == "1":  # per-hop times for bench/acd_vs_app_queue.py
        logging.getLogger("acd.trace").setLevel(logging.DEBUG)

    # One at a time, in Asterisk's order: a call back whose customer is busy ends a few ms after the
    # agent answered, and handled concurrently the end could read the agent as still ringing.
    events: asyncio.Queue[dict] = asyncio.Queue()

    async def handle_in_order() -> None:
        while True:
            event = await events.get()
            try:
                await router.on_user_event(event)
            except Exception:
                log.exception("could not handle %s", event.get("UserEvent"))

    ami_manager.register_event("UserEvent", lambda _manager, event: events.put_nowait(dict(event)))

    def on_hangup(_manager, event) -> None:
        """A monitor's leg that hangs up (the call ended or was transferred: ChanSpy's E option;
        or the monitor put their phone down) closes its session."""
        uid = str(event.get("Uniqueid") or "")
        if uid.startswith(monitoring.ID_PREFIX):
            background(monitors.leg_gone(uid), "monitoring leg gone")

    ami_manager.register_event("Hangup", on_hangup)

    def on_key(_manager, event) -> None:
        """A key a monitor's leg received (keyed on their phone, or our own PlayDTMF's echo)."""
        uid = str(event.get("Uniqueid") or "")
        if uid.startswith(monitoring.ID_PREFIX) and event.get("Direction") == "Received":
            background(monitors.keyed(uid, str(event.get("Digit") or "")), "monitoring key")

    ami_manager.register_event("DTMFEnd", on_key)
    # after Asterisk restarts (panoramisk logs in again), look at what is waiting again
    await actions.limit_events(ROUTER_EVENTS)

    async def after_login() -> None:
        await actions.limit_events(ROUTER_EVENTS)  # a new session hears everything again
        # rebuilt from a booted Asterisk only: before, its channel list is empty and a redirect
        # into a dialplan not yet loaded fails
        if not await ami.booted(ami_manager):
            log.warning("Asterisk did not say FullyBooted within a minute of the login; rebuilding anyway")
        await router.rebuild()

    ami_manager.on_login = lambda m: background(after_login(), "rebuild after the AMI login")
    await ami.booted(ami_manager)
    await router.rebuild()
    async with router.callback_guard():  # no call back half claimed or half closed by another router
        lost = callbacks.requeue_lost(sessions, set(await store.calls()))
    if lost:
        log.warning("%d queued call back(s) were not in Redis any more: due again", lost)
    release_callbacks = callback_dialler(settings, sessions, router)
    logged = last_logged(sessions)

    async def renew_lease() -> None:
        """This router is alive: the others leave its reservations alone (acd/leases.py)."""
        while True:
            await lease.renew()
            await asyncio.sleep(leases.RENEW_EVERY_S)

    async def tick_every_second() -> None:
        nonlocal logged
        ticks = 0
        while True:
            await asyncio.sleep(1)
            ticks += 1
            try:
                logged = await drain_state_log(store, sessions, logged)
                await router.tick()
                if ticks % CALLBACK_SCAN_S == 0:
                    await release_callbacks()
                await journey_log.drain(kept, sessions)  # last: a refusal here delays no routing
            except Exception:  # noqa: BLE001 - a pass that fails is tried again; the loop goes on
                log.exception("routing pass failed; trying again in a second")

    followed = 0

    async def follow_agent_changes() -> None:
        """The agent-changes listener. Run again after a gap (Redis restarted: its append-only file
        may be behind by a second, or gone), it first rebuilds from Asterisk: callers waiting in
        cc-wait that Redis lost are queued again, agents held by calls that ended are let go."""
        nonlocal followed
        followed += 1
        if followed > 1:
            # idle pooled connections may still point at the Redis that died: each would fail once
            # more ("Connection closed by server") and put this listener back a growing back-off
            # (16 s measured after a restart); closed here, they reconnect on their next use
            await redis.connection_pool.disconnect(inuse_connections=False)
            await router.rebuild()
        await listen_for_changes(redis, router, lambda: load_config(sessions), release_callbacks)

    health = Health.for_process(settings.run_dir, "acd")
    log.info("router running: %d queue(s), %d agent(s)", len(queues), len(agents))
    await asyncio.gather(
        supervise("user-events", handle_in_order, health=health),
        supervise("agent-changes", follow_agent_changes, health=health),
        supervise("commands", lambda: commands.serve(redis, manager, monitors), health=health),
        supervise("ticks", tick_every_second, health=health),
        supervise("lease", renew_lease, health=health))
