"""The router process: dialplan events and agent changes in, AMI actions out, decisions by acd.core.

Callers wait inside Asterisk (cc-wait, music on hold); the router moves the chosen caller to
cc-connect, which rings the agent's phone for the queue's ring time. Answer, no answer and
hang-up come back as the dialplan's UserEvents (parsed once, in acd/protocol.py). On start (and
after Asterisk comes back) the router rebuilds its view from Asterisk's channels and Redis, so no
waiting caller is lost while it is down. Several routers may run at once: Redis's Lua scripts
arbitrate every reservation. Agent state and call control are the manager's (acd/manager.py);
the AMI verbs are acd/actions.py's.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import AsyncContextManager, Awaitable, Callable

from acd import agent_state as st
from acd import protocol as p
from acd.actions import Actions
from acd.core import Dispatcher, QueuePolicy
from acd.manager import AgentManager
from acd.store import AGENT_NOT_READY, CALL_GONE
from callcenter import dialplan
from callcenter.runtime.tasks import background

log = logging.getLogger("acd.router")
trace_log = logging.getLogger("acd.trace")  # per-hop times of the routing path (bench/acd_vs_app_queue.py)

PHONE_UNAVAILABLE = "CHANUNAVAIL"  # Dial's status when cc-agent-sip found the agent's phone unregistered
RESERVATION_GRACE_S = 10  # a reserved agent whose caller still waits after this was left behind


def _policies(queues: dict[str, p.Queue]) -> dict[str, QueuePolicy]:
    return {q.skill: QueuePolicy(q.skill, q.overflow) for q in queues.values()}


class Router:
    on_decision: Callable[..., None] | None = None  # (Decision, LiveCall, now): acd.call_log.CallLog.decision
    # the floor-wide call-back lock (acd/service.py): a call back's close (dropped from Redis, its
    # outcome written) is never seen half done by a router that starts and looks for lost ones
    callback_guard: Callable[[], AsyncContextManager] = contextlib.nullcontext
    # test-only (CC_TEST_FREEZE_AFTER_RESERVE, acd/service.py): awaited between a reservation and
    # its redirect, where a router that dies leaves the reservation to the others' sweep
    after_reserve: Callable[[str, str], Awaitable[None]] | None = None

    def __init__(self, store, actions: Actions, manager: AgentManager, agents: dict[str, dict[str, int]],
                 clock: Callable[[], float] = time.time,
                 on_callback: Callable[[str, str], Awaitable[None]] | None = None, leases=None):
        self.store = store
        self.leases = leases  # acd/leases.py: None for a router alone with no lease (the unit tests' default)
        self.actions = actions
        self.manager = manager
        self.queues = manager.queues  # one live table, shared with the manager
        self.on_callback = on_callback  # async (uniqueid, "done" | "no_answer"): the request's outcome
        self.clock = clock
        self.core = Dispatcher(policies=_policies(self.queues))
        for ext, skills in agents.items():
            self.core.set_agent(ext, skills)
        manager.served_skills = lambda: {skill for agent in self.core.agents.values() for skill in agent.skills}
        self.in_wrapup: set[str] = set()  # agents whose wrap-up end (in Redis) we watch
        self._wrapup_timers: dict[str, asyncio.Task] = {}
        self._retry_on_tick: set[str] = set()  # calls whose redirect failed: back in the queue next tick
        self._lock = asyncio.Lock()
        self._connecting: dict[str, asyncio.Task] = {}  # arrivals whose redirect's answer is awaited

    def reconfigure(self, queues: dict[str, p.Queue], agents: dict[str, dict[str, int]]) -> None:
        """New queues and skills from the database, applied without a restart."""
        self.queues.clear()
        self.queues.update(queues)
        self.core.policies = _policies(self.queues)
        for ext, skills in agents.items():
            if self.core.agents.get(ext) is None or self.core.agents[ext].skills != skills:
                self.core.set_agent(ext, skills)

    def queue(self, skill: str) -> p.Queue:
        return p.queue_for(self.queues, skill)

    def _trace(self, uid: str, hop: str) -> None:
        if trace_log.isEnabledFor(logging.DEBUG):
            trace_log.debug("call=%s hop=%s at=%.6f", uid, hop, time.time())

    # ---------------------------------------------------------------- rebuilding
    async def rebuild(self) -> None:
        """Our view from Redis (agents, calls) checked against Asterisk's live channels."""
        now = self.clock()
        live = await self.actions.waiting_channels()
        for ext, agent in (await self.store.agents()).items():
            self._apply_agent(ext, agent.state, agent.since or now)
            if agent.state == st.WRAPUP:
                self.in_wrapup.add(ext)
        for uid, call in (await self.store.calls()).items():
            if call.is_callback:
                if call.waiting:
                    self._queue_locally(call)  # a call back keeps its place
            elif uid not in live and call.waiting:
                await self.store.drop_call(uid)  # ended while we were away
        for uid, channel in live.items():
            call = await self.store.call(uid)
            if call is not None and call.agent and await self._reservation_in_flight(call.agent, uid, now):
                continue  # another router is connecting it right now: not ours to touch
            if call is None or call.agent:
                call = p.LiveCall(
                    uid, channel=channel,
                    skill=await self.actions.get_var(channel, dialplan.SKILL) or p.GENERAL,
                    priority=int(await self.actions.get_var(channel, dialplan.PRIORITY) or 0),
                    transferred=await self.actions.get_var(channel, dialplan.TRANSFERRED) == "1",
                    queued_at=call.queued_at if call else now)
                await self.store.put_call(call)
            self._queue_locally(call)
        await self._free_agents_of_gone_calls(now)
        log.info("rebuilt: %d waiting caller(s), %d agent(s) known", len(live), len(self.core.agents))
        await self.route()

    async def _free_agents_of_gone_calls(self, now: float) -> None:
        """An agent reserved, ringing or talking on a call Asterisk no longer has (it restarted and
        the channels died with it: no hangup handler ran, no CallEnded came) would stay so for
        ever and never be offered a call again. Such a call is ended here as its CallEnded would
        have ended it: the agent to wrap-up (was talking) or ready (was reserved or ringing). A
        reservation younger than RESERVATION_GRACE_S may be another router's call back before its
        Originate: left alone."""
        live = await self.actions.live_calls()
        for ext, agent in (await self.store.agents()).items():
            if agent.state not in (st.RESERVED, st.RINGING, st.ON_CALL) or not agent.call:
                continue
            if agent.state in (st.RESERVED, st.RINGING) and f"bridged:{agent.call}" in live:
                # answered while no router listened (AgentAnswered missed, and AgentRinging too when
                # the router died between the redirect and it): talking, not ringing
                await self.store.transition(ext, "answer", now, call=agent.call, misses=0, expect_call=agent.call)
                self.core.remove_call(agent.call)
                log.warning("agent %s answered call %s while no router listened: on call", ext, agent.call)
                continue
            if agent.call in live or f"ext:{ext}" in live:
                continue
            if agent.state != st.ON_CALL and now - agent.since < RESERVATION_GRACE_S:
                continue
            log.warning("agent %s was %s for call %s, which Asterisk no longer has: call ended", ext, agent.state,
                        agent.call)
            call = await self.store.call(agent.call)
            if call is not None and call.is_callback:
                # cut off with Asterisk: the request is tried again later (an attempt), never dropped
                await self._close_callback(agent.call, now, "no_answer")
            elif call is not None:
                await self._ended(agent.call, now)
            elif agent.state == st.ON_CALL:
                await self.manager.wrap_up(ext, p.LiveCall(agent.call), now)
            else:
                await self.store.transition(ext, "release", now, expect_call=agent.call)
            fresh = await self.store.agent(ext)
            self._apply_agent(ext, fresh.state, fresh.since or now)
            if fresh.state == st.WRAPUP:
                self.in_wrapup.add(ext)

    async def _reservation_in_flight(self, ext: str, uid: str, now: float) -> bool:
        """A caller still waiting although an agent was taken for them: either a router is between
        the reservation and the redirect (a moment), or one died there; then free the agent."""
        agent = await self.store.agent(ext)
        if agent.call != uid or agent.state not in (st.RESERVED, st.RINGING):
            return False
        if now - agent.since < RESERVATION_GRACE_S:
            return True
        await self.store.transition(ext, "release", now, expect_call=uid)
        log.warning("agent %s was left %s for call %s, which still waits: released", ext, agent.state, uid)
        return False

    # ---------------------------------------------------------------- local view
    def _apply_agent(self, ext: str, state: str, since: float) -> None:
        if ext not in self.core.agents:
            self.core.set_agent(ext, {p.GENERAL: 1})  # unknown to the database: a general agent
        if state == st.READY:
            self.core.agent_idle(ext, since)
        else:
            self.core.agent_busy(ext)

    def _queue_locally(self, call: p.LiveCall) -> None:
        self.core.add_call(call.uniqueid, call.skill, call.queued_at or self.clock(), vip=call.vip,
                           transferred=call.transferred)

    async def resync_agents(self) -> None:
        """Our view of every agent from the store (after a gap in the changes we heard)."""
        for ext, agent in (await self.store.agents()).items():
            self.on_agent_change(p.AgentChange(ext, agent.state, agent.reason, agent.call, agent.since))
        await self.route()

    def on_agent_change(self, change: p.AgentChange) -> None:
        self._apply_agent(change.ext, change.state, change.since)
        if change.state == st.WRAPUP:
            self.in_wrapup.add(change.ext)
            self._watch_wrapup(change.ext)

    def _watch_wrapup(self, ext: str) -> None:
        """End this agent's wrap-up at its time, not at the next one-second tick (the tick stays
        as the backstop, for wrap-ups found by a rebuild)."""
        if ext not in self._wrapup_timers or self._wrapup_timers[ext].done():
            self._wrapup_timers[ext] = asyncio.ensure_future(self._end_wrapup_on_time(ext))

    async def _end_wrapup_on_time(self, ext: str) -> None:
        try:
            while ext in self.in_wrapup:
                delay = (await self.store.agent(ext)).wrapup_until - self.clock()
                if delay > 0:  # also after a supervisor extended it: sleep to the new end
                    await asyncio.sleep(delay)
                    continue
                if await self._end_wrapup_if_due(ext, self.clock()):
                    await self.route()
                return
        except Exception:  # noqa: BLE001 - the tick ends it instead
            log.exception("wrap-up timer for %s failed", ext)

    # ---------------------------------------------------------------- events from the dialplan
    async def on_user_event(self, raw: dict) -> None:
        event = p.parse_event(raw)
        if event is None:
            return
        uid, now = event.call_id, self.clock()
        connecting = self._connecting.get(uid)
        if connecting is not None and not isinstance(event, p.AgentRinging):  # ringing: the redirect worked
            await asyncio.wait([connecting])  # this call's redirect answered (or refused) first: its order kept
        if isinstance(event, p.CallQueued):
            self._trace(uid, "received")
            await self._queued(p.LiveCall(uid, channel=event.channel, skill=event.skill, priority=event.priority,
                                          transferred=event.transferred, queued_at=now,
                                          queued_by=repr(event.at) if event.at is not None else ""))
        # every router hears each event: the first applies it, the others' compare-and-set finds the
        # agent moved on, and expect_call keeps a late one off the agent's next call (acd/store.py)
        elif isinstance(event, p.AgentRinging):
            await self.store.transition(event.agent, "ring", now, call=uid, expect_call=uid)
        elif isinstance(event, p.AgentAnswered):
            await self.store.transition(event.agent, "answer", now, call=uid, misses=0, expect_call=uid)
            self.core.remove_call(uid)
        elif isinstance(event, p.AgentNoAnswer):
            await self._no_answer(event.agent, uid, now, event.dial_status)
        elif isinstance(event, p.CallEnded) and event.end == "callback":
            await self._becomes_callback(uid, event.caller_number)
        elif isinstance(event, (p.CallEnded, p.AgentHungUp)):
            # AgentHungUp: the caller stays on for the survey, but the agent's part is over; the
            # CallEnded that follows finds nothing left to end
            await self._ended(uid, now)
        elif isinstance(event, p.AgentLeftHold):
            call = await self.store.call(uid)
            # the agent's leg went away while the caller was on hold; taken off hold by exactly one
            # router (both hear it), so the caller is sent on to the survey once, not restarted there
            if call is not None and call.held and await self.store.take_off_hold(uid):
                log.warning("agent leg of held call %s went away; ending the call", uid)
                await self.actions.hang_up_as_agent(call.channel)
        elif isinstance(event, p.CallerVerified):  # back from the password check, bridged to the agent
            await self.manager.verified_back(event.agent, uid, at=event.at)
        elif isinstance(event, p.CallbackEnded):
            await self._close_callback(uid, now, "done" if event.answered else "no_answer")

    async def _close_callback(self, uid: str, now: float, outcome: str) -> None:
        """A call back is over: out of Redis, then its outcome in the database (once the request
        reads "done" there, nothing of it is left live), both under the floor's call-back lock: a
        router starting meanwhile (callbacks.requeue_lost) would otherwise see it gone from Redis
        but still queued in the database, and make a finished call back due again."""
        async with self.callback_guard():
            await self._ended(uid, now)
            if self.on_callback is not None:
                await self.on_callback(uid, outcome)

    async def _no_answer(self, ext: str, uid: str, now: float, dial_status: str = "") -> None:
        agent, call = await self.store.agent(ext), await self.store.call(uid)
        if agent.call != uid or agent.state not in (st.RESERVED, st.RINGING):
            return  # handled already (by another router): the agent is on to something else
        misses = agent.misses + 1
        if dial_status == PHONE_UNAVAILABLE:  # no registered phone (cc-agent-sip): not a miss, no retry
            if await self.store.transition(ext, "no_answer", now, reason="phone_unregistered", misses=0,
                                           expect_call=uid):  # logged by the router that applied it
                log.warning("agent %s has no registered phone for call %s: not ready (phone_unregistered)", ext, uid)
        elif misses >= self.queue(call.skill if call else p.GENERAL).no_answer_limit:
            if await self.store.transition(ext, "no_answer", now, reason="no_answer", misses=0, expect_call=uid):
                log.warning("agent %s did not answer call %s: not ready (no answer)", ext, uid)
        else:
            await self.store.transition(ext, "release", now, misses=misses, expect_call=uid)
        # the caller is back in cc-wait; its CallQueued keeps the first queued time

    async def _becomes_callback(self, uid: str, number: str) -> None:
        """The caller hung up to be called back: the request keeps the call's place in its queue."""
        call = await self.store.call(uid)
        if call is None or not number:
            await self._ended(uid, self.clock())
            return
        await self.store.update_call(uid, kind="callback", number=number, channel="", agent="")
        log.info("call %s waits on as a call back to %s", uid, number)

    async def queue_callback(self, uid: str, number: str, skill: str) -> None:
        """A call back taken from the database joins the live queue behind everyone waiting now."""
        call = p.LiveCall(uid, kind="callback", number=number, skill=skill, queued_at=self.clock())
        await self.store.put_call(call)
        self._queue_locally(call)
        log.info("call back %s to %s queued for %s", uid, number, skill)
        await self.route()

    async def _dial_callback(self, ext: str, call: p.LiveCall) -> None:
        """Ring the agent first; when they answer, the dialplan dials the customer. A call back the
        rules refuse now, or whose id AMI cannot carry, is not dialled: the agent is let go, the
        live call dropped, and the request counts as unanswered (its next try is refused for good)."""
        if await self.store.transition(ext, "ring", self.clock(), call=call.uniqueid,
                                       expect_call=call.uniqueid) is None:
            # no longer reserved for it: released meanwhile (this router was frozen and another
            # swept the reservation, acd/leases.py); dialling now would dial the customer twice
            log.warning("call back %s: agent %s is no longer reserved for it; not dialled", call.uniqueid, ext)
            return
        try:
            dialled = await self.actions.originate_callback(call.uniqueid, ext, call.number,
                                                            self.queue(call.skill).ring_time_s)
        except (p.AcdError, ValueError) as exc:
            log.warning("call back %s to %s not dialled: %s", call.uniqueid, call.number, exc)
            await self._close_callback(call.uniqueid, self.clock(), "no_answer")
            return
        if not dialled:
            await self._no_answer(ext, call.uniqueid, self.clock())
            await self.store.update_call(call.uniqueid, agent="")
            self.core.add_call(call.uniqueid, call.skill, call.queued_at)  # its place kept
            await self.route()

    async def _ended(self, uid: str, now: float) -> None:
        call = await self.store.call(uid)
        if call is not None:
            await self.manager.end_agent_leg(call)
            agent = await self.store.agent(call.agent) if call.agent else None
            if agent is not None and agent.call == uid:
                if agent.state == st.ON_CALL:
                    await self.manager.wrap_up(call.agent, call, now)
                elif agent.state in (st.RESERVED, st.RINGING):
                    await self.store.transition(call.agent, "release", now, expect_call=uid)
        await self.store.drop_call(uid)
        self.core.remove_call(uid)

    # ---------------------------------------------------------------- routing
    async def _queued(self, call: p.LiveCall) -> None:
        """A caller (again) waiting. When the first decision is theirs (an agent is free for them:
        the common case), the enqueue and the reservation are one Redis round trip; else the call
        is enqueued, then routed. The decision is the one route() would make: a call new here is
        assumed queued now, and a queued time read back older only makes it more urgent."""
        uid = call.uniqueid
        async with self._lock:
            self._queue_locally(call)  # a call known here keeps its first queued time
            decision = self.core.next_decision(self.clock())
            if decision is None or decision.call_id != uid:
                self._as_stored(await self.store.enqueue(call))
            else:
                idle_since = self.core.agents[decision.agent_id].idle_since
                self.core.commit(decision)
                taken, stored = await self.store.enqueue_and_reserve(call, decision.agent_id, self.clock())
                if taken == CALL_GONE:  # another router applied this event first: the agent is still free
                    self.core.agent_idle(decision.agent_id, idle_since)
                    self.core.put_back(uid)
                    self._as_stored(stored)
                elif taken == AGENT_NOT_READY:  # another router took the agent first
                    self.core.put_back(uid)  # and the agent is busy in our view now: no loop
                else:  # the redirect's answer is awaited aside: other calls' events and routing go on
                    self._correct_queued_at(uid, stored.queued_at)
                    await self._carry_out(decision, stored, aside=True)
        await self.route()

    def _as_stored(self, stored: p.LiveCall) -> None:
        """Our view of a call as Redis has it after an enqueue: being connected by another router
        (it applied this event first and reserved an agent), or waiting since the time kept."""
        if stored.agent:
            self.core.remove_call(stored.uniqueid)  # not ours: its next CallQueued brings it back
        else:
            self._correct_queued_at(stored.uniqueid, stored.queued_at)

    def _correct_queued_at(self, uid: str, stored: float) -> None:
        """The queued time Redis keeps (a call come back that this router did not know) wins."""
        local = self.core.calls.get(uid)
        if local is None or local.queued_at <= stored:
            return
        local.queued_at = stored
        if local.waiting:  # in the queue under the later time: put back in its true place
            local.waiting = False
            self.core.put_back(uid)

    async def route(self) -> None:
        async with self._lock:  # one routing pass at a time in this process
            while (decision := self.core.next_decision(self.clock())) is not None:
                self.core.commit(decision)
                now = self.clock()
                taken, call = await self.store.reserve_call(decision.agent_id, decision.call_id, now)
                if taken == AGENT_NOT_READY:  # another router took the agent first
                    self.core.put_back(decision.call_id)  # and the agent is busy in our view now: no loop
                    continue
                if taken == CALL_GONE or call is None:  # the call is gone, or another router placed it
                    self.core.agent_idle(decision.agent_id, now)
                    continue
                await self._carry_out(decision, call)

    async def _carry_out(self, decision, call: p.LiveCall, aside: bool = False) -> None:
        """The agent is reserved for the call: ring them (or dial the call back). Aside: the
        redirect's answer is awaited in a task of its own, which the call's next event waits for."""
        self._trace(call.uniqueid, "reserved")
        if self.after_reserve is not None:
            await self.after_reserve(decision.agent_id, call.uniqueid)
        # the last look before Asterisk is told: a reservation released while this router was
        # frozen (acd/leases.py) is another router's call now; confirming renews our lease
        if self.leases is not None and not await self.leases.confirm(decision.agent_id, call.uniqueid):
            log.warning("agent %s's reservation for call %s was released while this router was away: "
                        "not connected", decision.agent_id, call.uniqueid)
            self.core.remove_call(call.uniqueid)  # the other router's now; it comes back with its next CallQueued
            return
        if call.is_callback:
            background(self._dial_callback(decision.agent_id, call), f"call back {call.uniqueid}")
            log.info("call back %s -> %s", decision.call_id, decision.reason)
            if self.on_decision is not None:  # the journey keeps the reason (acd.call_log)
                self.on_decision(decision, call, self.clock())
            return
        try:
            answered = self.actions.start_connect(call.channel, decision.agent_id, self.queue(call.skill).ring_time_s)
        except Exception as exc:  # refused before anything was sent: undone as a refused redirect
            answered = _raise(exc)
        if aside:
            uid = call.uniqueid
            self._connecting[uid] = task = background(self._connected(decision, call, answered), f"connect {uid}")
            task.add_done_callback(lambda done: self._connecting.pop(uid, None)
                                   if self._connecting.get(uid) is done else None)
        else:
            await self._connected(decision, call, answered)

    async def _connected(self, decision, call: p.LiveCall, answered) -> None:
        """Asterisk's answer to the redirect: the decision logged, or undone (Asterisk refused it)."""
        try:
            await answered
            self._trace(call.uniqueid, "sent")
            log.info("call %s -> %s", decision.call_id, decision.reason)
            if self.on_decision is not None:  # the journey keeps the reason (acd.call_log)
                self.on_decision(decision, call, self.clock())
        except Exception as exc:
            log.warning("could not connect %s to %s: %s", decision.call_id, decision.agent_id, exc)
            await self.store.transition(decision.agent_id, "release", self.clock(), expect_call=decision.call_id)
            await self.store.update_call(decision.call_id, agent="")
            self._retry_on_tick.add(decision.call_id)  # not at once: Asterisk just refused it

    async def tick(self) -> None:
        """Once a second: wrap-ups that are over, overflow times that have come."""
        now = self.clock()
        for ext in list(self.in_wrapup):
            await self._end_wrapup_if_due(ext, now)
        for uid in self._retry_on_tick:  # a caller who hung up meanwhile has left the core: a no-op
            self.core.put_back(uid)
        self._retry_on_tick.clear()
        await self.sweep_orphaned_reservations(now)
        await self.route()

    async def sweep_orphaned_reservations(self, now: float) -> None:
        """Reservations of a router whose lease is gone (dead, or frozen: acd/leases.py), made but
        never carried out: the agent back to ready and the call back in the queue, as that
        router's own restart would do it (rebuild's _reservation_in_flight). Only a caller still in
        cc-wait (never redirected: a redirected one's dialplan events settle it) and a call back
        not being dialled (its agent would be ringing)."""
        if self.leases is None:
            return
        orphans = await self.leases.orphans()
        if not orphans:
            return
        waiting = await self.actions.waiting_channels()
        for ext, uid, owner in orphans:
            call = await self.store.call(uid)
            if call is not None and not call.is_callback and uid not in waiting:
                continue
            if not await self.leases.release_orphan(ext, uid, owner, now):
                continue  # its owner came back, or another router swept it first
            log.warning("agent %s was reserved for call %s by router %s, whose lease is gone: released, "
                        "the call back in the queue", ext, uid, owner)
            fresh = await self.store.agent(ext)  # ready, or logged out by a logout waiting for the call
            self._apply_agent(ext, fresh.state, fresh.since or now)
            if call is not None:
                self._queue_locally(call.but(agent=""))

    async def _end_wrapup_if_due(self, ext: str, now: float) -> bool:
        """Make the agent ready if their wrap-up time is over; True if this call did it."""
        agent = await self.store.agent(ext)
        if agent.state != st.WRAPUP:
            self.in_wrapup.discard(ext)  # ended early by the agent or a supervisor
        elif now >= agent.wrapup_until:
            self.in_wrapup.discard(ext)
            return await self.store.transition(ext, "ready", now) is not None
        return False


async def _raise(exc: Exception) -> None:
    raise exc


async def listen_for_changes(redis, router: Router, reload, after_reload=None) -> None:
    """Agent changes and reloads from Redis pub/sub, for ever; one bad message is logged and
    skipped. Returns (or raises) only when the subscription is lost: run it supervised."""
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(p.AGENT_CHANGES, p.RELOAD)
        # changes published while we were not subscribed (Redis restarting, this task restarting)
        # are in the store: read every agent once, then follow the changes
        await router.resync_agents()
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                if p.as_text(message["channel"]) == p.RELOAD:
                    router.reconfigure(*await asyncio.to_thread(reload))
                    if after_reload is not None:
                        await after_reload()
                else:
                    router.on_agent_change(p.AgentChange.from_json(message["data"]))
                await router.route()
            except Exception:  # noqa: BLE001 - one bad message must not end the listener
                log.exception("could not apply a message on %s", p.as_text(message.get("channel")))
    finally:
        await pubsub.aclose()
