"""The router process: AMI events and agent changes in, AMI Redirects out, decisions by acd.core.

Callers wait inside Asterisk (cc-wait, music on hold); the router moves the chosen caller to
cc-connect, which rings the agent's phone for the queue's ring time. Answer, no answer and
hang-up come back as the dialplan's UserEvents. On start (and after Asterisk comes back) the
router rebuilds its view from Asterisk's channels and Redis, so no waiting caller is lost while
it is down. Several routers may run at once: Redis's Lua scripts arbitrate every reservation.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from acd import agent_state as st
from acd.core import GENERAL, Dispatcher, OverflowStep, QueuePolicy
from acd.store import CHANGES, Store
from callcenter import dialplan

log = logging.getLogger("acd.router")

VIP_PRIORITY = 1  # the IVR sets the customer's VIP level (0 ordinary .. 3) as the priority


@dataclass(frozen=True)
class Queue:
    skill: str
    ring_time_s: int = 15
    wrapup_s: int = 10
    no_answer_limit: int = 1
    overflow: tuple[OverflowStep, ...] = ()


def parse_overflow(text: str) -> tuple[OverflowStep, ...]:
    """ "30:4,90:2" -> after 30 s general level >= 4, after 90 s level >= 2."""
    steps = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        after, level = part.split(":")
        steps.append(OverflowStep(float(after), int(level)))
    return tuple(steps)


RESERVATION_GRACE_S = 10  # a reserved agent whose caller still waits after this was left behind


class Router:
    def __init__(self, store: Store, manager, queues: dict[str, Queue], agents: dict[str, dict[str, int]],
                 clock=time.time, on_callback=None):
        self.store = store
        self.on_callback = on_callback  # async (uniqueid, "done" | "no_answer"): the request's outcome
        self.manager = manager
        self.clock = clock
        self.queues = queues
        self.core = Dispatcher(policies={q.skill: QueuePolicy(q.skill, q.overflow) for q in queues.values()})
        for ext, skills in agents.items():
            self.core.set_agent(ext, skills)
        self.in_wrapup: set[str] = set()  # agents whose wrap-up end (in Redis) we watch
        self._wrapup_timers: dict[str, asyncio.Task] = {}
        self._retry_on_tick: set[str] = set()  # calls whose redirect failed: back in the queue next tick
        self._lock = asyncio.Lock()

    def reconfigure(self, queues: dict[str, Queue], agents: dict[str, dict[str, int]]) -> None:
        """New queues and skills from the database, applied without a restart."""
        self.queues = queues
        self.core.policies = {q.skill: QueuePolicy(q.skill, q.overflow) for q in queues.values()}
        for ext, skills in agents.items():
            if self.core.agents.get(ext) is None or self.core.agents[ext].skills != skills:
                self.core.set_agent(ext, skills)

    def queue(self, skill: str) -> Queue:
        return self.queues.get(skill) or self.queues.get(GENERAL) or Queue(skill)

    # ---------------------------------------------------------------- rebuilding
    async def rebuild(self) -> None:
        """Our view from Redis (agents, calls) checked against Asterisk's live channels."""
        now = self.clock()
        live = await self._waiting_channels()
        for ext, agent in (await self.store.agents()).items():
            self._apply_agent(ext, agent["state"], float(agent.get("since") or now))
            if agent["state"] == st.WRAPUP:
                self.in_wrapup.add(ext)
        for uid, call in (await self.store.calls()).items():
            if call.get("kind") == "callback":
                if call.get("agent") == "":
                    self._queue_locally(uid, call)  # a call back keeps its place
            elif uid not in live and call.get("agent") == "":
                await self.store.drop_call(uid)  # ended while we were away
        for uid, channel in live.items():
            call = await self.store.call(uid)
            if call.get("agent") and await self._reservation_in_flight(call["agent"], uid, now):
                continue  # another router is connecting it right now: not ours to touch
            if not call or call.get("agent"):
                skill = await self._getvar(channel, "CC_SKILL") or GENERAL
                priority = await self._getvar(channel, "CC_PRIORITY") or "0"
                transferred = await self._getvar(channel, "CC_TRANSFERRED") or ""
                call = {"channel": channel, "skill": skill, "priority": priority, "transferred": transferred,
                        "queued_at": call.get("queued_at") or repr(now), "agent": ""}
                await self.store.put_call(uid, **call)
            self._queue_locally(uid, call)
        log.info("rebuilt: %d waiting caller(s), %d agent(s) known", len(live), len(self.core.agents))
        await self.route()

    async def _reservation_in_flight(self, ext: str, uid: str, now: float) -> bool:
        """A caller still waiting although an agent was taken for them: either a router is between
        the reservation and the redirect (a moment), or one died there; then free the agent."""
        agent = await self.store.agent(ext)
        if agent.get("call") != uid or agent["state"] not in (st.RESERVED, st.RINGING):
            return False
        if now - float(agent.get("since") or 0) < RESERVATION_GRACE_S:
            return True
        await self.store.transition(ext, "release", now)
        log.warning("agent %s was left %s for call %s, which still waits: released", ext, agent["state"], uid)
        return False

    async def _waiting_channels(self) -> dict[str, str]:
        replies = await self.manager.send_action({"Action": "CoreShowChannels"}, as_list=True)
        return {r["Uniqueid"]: r["Channel"] for r in replies
                if r.get("Event") == "CoreShowChannel" and r.get("Context") == dialplan.WAIT}

    async def _getvar(self, channel: str, name: str) -> str:
        reply = await self.manager.send_action({"Action": "Getvar", "Channel": channel, "Variable": name})
        return reply.get("Value") or "" if reply.get("Response") == "Success" else ""

    # ---------------------------------------------------------------- local view
    def _apply_agent(self, ext: str, state: str, since: float) -> None:
        if ext not in self.core.agents:
            self.core.set_agent(ext, {GENERAL: 1})  # unknown to the database: a general agent
        if state == st.READY:
            self.core.agent_idle(ext, since)
        else:
            self.core.agent_busy(ext)

    def _queue_locally(self, uid: str, call: dict[str, str]) -> None:
        self.core.add_call(uid, call.get("skill") or GENERAL, float(call.get("queued_at") or self.clock()),
                           vip=int(call.get("priority") or 0) >= VIP_PRIORITY,
                           transferred=call.get("transferred") == "1")

    def on_agent_change(self, message: dict) -> None:
        self._apply_agent(message["ext"], message["state"], float(message["since"]))
        if message["state"] == st.WRAPUP:
            self.in_wrapup.add(message["ext"])
            self._watch_wrapup(message["ext"])

    def _watch_wrapup(self, ext: str) -> None:
        """End this agent's wrap-up at its time, not at the next one-second tick (the tick stays
        as the backstop, for wrap-ups found by a rebuild)."""
        if ext not in self._wrapup_timers or self._wrapup_timers[ext].done():
            self._wrapup_timers[ext] = asyncio.ensure_future(self._end_wrapup_on_time(ext))

    async def _end_wrapup_on_time(self, ext: str) -> None:
        try:
            while ext in self.in_wrapup:
                until = float((await self.store.agent(ext)).get("wrapup_until") or 0)
                delay = until - self.clock()
                if delay > 0:  # also after a supervisor extended it: sleep to the new end
                    await asyncio.sleep(delay)
                    continue
                if await self._end_wrapup_if_due(ext, self.clock()):
                    await self.route()
                return
        except Exception:  # noqa: BLE001 - the tick ends it instead
            log.exception("wrap-up timer for %s failed", ext)

    # ---------------------------------------------------------------- events from the dialplan
    async def on_user_event(self, event: dict) -> None:
        kind, uid = event.get("UserEvent"), event.get("CallId", "")
        now = self.clock()
        if kind == dialplan.EV_CALL_QUEUED:
            call = await self.store.call(uid)
            fields = {"channel": event.get("Channel", ""), "skill": event.get("Skill") or GENERAL,
                      "priority": event.get("CallPriority") or "0", "transferred": event.get("Transferred", ""),
                      "queued_at": call.get("queued_at") or repr(now), "agent": ""}  # back: keeps its place
            await self.store.put_call(uid, **fields)
            self._queue_locally(uid, fields)
            await self.route()
        elif kind == dialplan.EV_AGENT_RINGING:
            await self.store.transition(event.get("Agent", ""), "ring", now, call=uid)
        elif kind == dialplan.EV_AGENT_ANSWERED:
            await self.store.transition(event.get("Agent", ""), "answer", now, call=uid, misses=0)
            self.core.remove_call(uid)
        elif kind == dialplan.EV_AGENT_NO_ANSWER:
            await self._no_answer(event.get("Agent", ""), uid, now)
        elif kind == dialplan.EV_CALL_ENDED and event.get("End") == "callback":
            await self._becomes_callback(uid, event)
        elif kind == dialplan.EV_CALL_ENDED:
            await self._ended(uid, now)
        elif kind == dialplan.EV_AGENT_LEFT_HOLD:
            call = await self.store.call(uid)
            if call.get("held") == "1":  # the agent's leg went away while the caller was on hold
                log.warning("agent leg of held call %s went away; ending the call", uid)
                await self.manager.send_action({"Action": "Setvar", "Channel": call["channel"],
                                                "Variable": "CC_END", "Value": "agent"})
                await self.manager.send_action({"Action": "Hangup", "Channel": call["channel"]})
        elif kind == dialplan.EV_CALLBACK_ENDED:
            # Redis first: once the request reads "done" in the database, nothing of it is left live.
            await self._ended(uid, now)
            if self.on_callback is not None:
                await self.on_callback(uid, "done" if event.get("DialStatus") == "ANSWER" else "no_answer")

    async def _no_answer(self, ext: str, uid: str, now: float) -> None:
        agent = await self.store.agent(ext)
        misses = int(agent.get("misses") or 0) + 1
        call = await self.store.call(uid)
        limit = self.queue(call.get("skill") or GENERAL).no_answer_limit
        if misses >= limit:
            await self.store.transition(ext, "no_answer", now, reason="no_answer", misses=0)
            log.warning("agent %s did not answer call %s: not ready (no answer)", ext, uid)
        else:
            await self.store.transition(ext, "release", now, misses=misses)
        # the caller is back in cc-wait; its CallQueued keeps the first queued time

    async def _becomes_callback(self, uid: str, event: dict) -> None:
        """The caller hung up to be called back: the request keeps the call's place in its queue."""
        number = "".join(ch for ch in event.get("CallerIDNum", "") if ch.isdigit())[:20]
        call = await self.store.call(uid)
        if not call or not number:
            await self._ended(uid, self.clock())
            return
        await self.store.put_call(uid, kind="callback", number=number, channel="", agent="")
        log.info("call %s waits on as a call back to %s", uid, number)

    async def queue_callback(self, uid: str, number: str, skill: str) -> None:
        """A call back taken from the database joins the live queue behind everyone waiting now."""
        fields = {"kind": "callback", "number": number, "channel": "", "skill": skill, "priority": "0",
                  "transferred": "", "queued_at": repr(self.clock()), "agent": ""}
        await self.store.put_call(uid, **fields)
        self._queue_locally(uid, fields)
        log.info("call back %s to %s queued for %s", uid, number, skill)
        await self.route()

    async def _dial_callback(self, uid: str, ext: str, call: dict[str, str]) -> None:
        """Ring the agent first; when they answer, the dialplan dials the customer."""
        queue = self.queue(call.get("skill") or GENERAL)
        await self.store.transition(ext, "ring", self.clock(), call=uid)
        reply = await self.manager.send_action({
            "Action": "Originate", "Channel": f"Local/{ext}@{dialplan.AGENT_PHONES}/n",
            "Context": dialplan.CALLBACK_DIAL, "Exten": "s", "Priority": "1",
            "CallerID": f"<{call['number']}>", "Timeout": str(queue.ring_time_s * 1000), "Async": "true",
            "Variable": f"CC_CALL_ID={uid},CC_AGENT={ext},CC_CALLBACK_NUMBER={call['number']}"})
        replies = reply if isinstance(reply, list) else [reply]
        if not any(r.get("Event") == "OriginateResponse" and r.get("Response") == "Success" for r in replies):
            await self._no_answer(ext, uid, self.clock())
            await self.store.put_call(uid, agent="")
            self.core.add_call(uid, call.get("skill") or GENERAL, float(call["queued_at"]))  # its place kept
            await self.route()

    async def hang_up_agent_leg(self, uid: str, call: dict[str, str]) -> None:
        """After hold/resume the agent's leg is no longer Dial's: end it with the call."""
        if call.get("agent_channel"):
            await self.store.put_call(uid, agent_channel="", held="")
            await self.manager.send_action({"Action": "Hangup", "Channel": call["agent_channel"]})

    async def _ended(self, uid: str, now: float) -> None:
        call = await self.store.call(uid)
        await self.hang_up_agent_leg(uid, call)
        ext = call.get("agent", "")
        if ext:
            agent = await self.store.agent(ext)
            if agent.get("call") == uid:
                if agent["state"] == st.ON_CALL:
                    wrapup = self.queue(call.get("skill") or GENERAL).wrapup_s
                    await self.store.set_wrapup_until(ext, now + wrapup)  # before the change is announced
                    await self.store.transition(ext, "hangup", now, call=uid)
                elif agent["state"] in (st.RESERVED, st.RINGING):
                    await self.store.transition(ext, "release", now)
        await self.store.drop_call(uid)
        self.core.remove_call(uid)

    # ---------------------------------------------------------------- routing
    async def route(self) -> None:
        async with self._lock:  # one routing pass at a time in this process
            while (decision := self.core.next_decision(self.clock())) is not None:
                self.core.commit(decision)
                now = self.clock()
                taken = await self.store.reserve(decision.agent_id, decision.call_id, now)
                if taken == 0:  # the agent is not ready in Redis (another router took them first)
                    self.core.put_back(decision.call_id)  # and is busy in our view now: no loop
                    continue
                if taken == -1:  # the call is gone, or another router placed it
                    self.core.agent_idle(decision.agent_id, now)
                    continue
                call = await self.store.call(decision.call_id)
                if call.get("kind") == "callback":
                    asyncio.ensure_future(self._dial_callback(decision.call_id, decision.agent_id, call))
                    log.info("call back %s -> %s", decision.call_id, decision.reason)
                    continue
                try:
                    await self.connect(call["channel"], decision.agent_id, self.queue(call.get("skill", "")))
                    log.info("call %s -> %s", decision.call_id, decision.reason)
                except Exception as exc:
                    log.warning("could not connect %s to %s: %s", decision.call_id, decision.agent_id, exc)
                    await self.store.transition(decision.agent_id, "release", self.clock())
                    await self.store.put_call(decision.call_id, agent="")
                    self._retry_on_tick.add(decision.call_id)  # not at once: Asterisk just refused it

    async def connect(self, channel: str, ext: str, queue: Queue) -> None:
        # Written back to back on our one AMI session, which Asterisk runs in order: the variables
        # are set before the redirect, for one round trip instead of three.
        sent = [self.manager.send_action({"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value})
                for name, value in ((dialplan.AGENT_EXT, ext), ("CC_RING_TIME", str(queue.ring_time_s)))]
        sent.append(self.manager.send_action({"Action": "Redirect", "Channel": channel,
                                              "Context": dialplan.CONNECT, "Exten": "s", "Priority": "1"}))
        *_, reply = await asyncio.gather(*sent)
        if reply.get("Response") != "Success":
            raise RuntimeError(reply.get("Message"))

    async def tick(self) -> None:
        """Once a second: wrap-ups that are over, overflow times that have come."""
        now = self.clock()
        for ext in list(self.in_wrapup):
            await self._end_wrapup_if_due(ext, now)
        for uid in self._retry_on_tick:  # a caller who hung up meanwhile has left the core: a no-op
            self.core.put_back(uid)
        self._retry_on_tick.clear()
        await self.route()

    async def _end_wrapup_if_due(self, ext: str, now: float) -> bool:
        """Make the agent ready if their wrap-up time is over; True if this call did it."""
        agent = await self.store.agent(ext)
        if agent["state"] != st.WRAPUP:
            self.in_wrapup.discard(ext)  # ended early by the agent or a supervisor
        elif now >= float(agent.get("wrapup_until") or 0):
            self.in_wrapup.discard(ext)
            return await self.store.transition(ext, "ready", now) is not None
        return False


RELOAD = "acd:reload"  # publish here after changing queues or skills in the database


async def listen_for_changes(redis, router: Router, reload, after_reload=None) -> None:
    """Apply agent changes and reloads until the connection fails; run it under
    callcenter.runtime.tasks.supervise, which calls it again (a new subscription) after a Redis
    restart. A message that cannot be applied is logged and skipped."""
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(CHANGES, RELOAD)
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
                if channel == RELOAD:
                    router.reconfigure(*await asyncio.to_thread(reload))
                    if after_reload is not None:
                        await after_reload()
                else:
                    router.on_agent_change(json.loads(message["data"]))
                await router.route()
            except Exception:  # noqa: BLE001 - one bad message must not stop the next ones
                log.exception("skipped a message on %s: %.200r", message.get("channel"), message.get("data"))
    finally:
        await pubsub.aclose()
