"""The one place that decides agent state and call control, whoever asks.

The desktop (through the router's command list), `callcenter agent`, the demo and the tests all
call these methods, so the rules are the same for everyone: the agent state machine
(acd/agent_state.py) applied by the store's compare-and-set, reasons a person may give, calls an
agent may control, and an audit row whenever someone acts on another's behalf (a supervisor, the
command line). Refusals are ``AcdError`` with a stable code (acd/protocol.py's catalogue).

Built from its parts (store, AMI actions, the live queue table, a clock, an audit sink), not
from the Router, so a process that only changes states needs no router and no Asterisk.
"""
from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable, Collection, Mapping

from acd import agent_state as st
from acd.protocol import GENERAL, AcdError, LiveCall, Queue, is_extension, is_skill, queue_for

log = logging.getLogger("acd.manager")

#: reasons a person may give for not ready ("login" and "no_answer" are the system's own)
PERSON_REASONS = tuple(r for r in st.NOT_READY_REASONS if r not in st.SYSTEM_REASONS)
MAX_WRAPUP_EXTENSION_S = 600

Audit = Callable[[str, str, str, str], Awaitable[None]]  # actor, action, target, detail


def extension(value) -> str:
    if not is_extension(value):
        raise AcdError("BAD_EXTENSION")
    return value


class AgentManager:
    on_hold: Callable[[str, str, str, float], None] | None = None  # (call, ext, hold|resume, now): acd.call_log

    def __init__(self, store, actions, queues: Mapping[str, Queue], clock: Callable[[], float] = time.time,
                 audit: Audit | None = None):
        self.store = store
        self.actions = actions
        self.queues = queues  # the router's live table (changed in place on a reload)
        self.clock = clock
        self.audit = audit
        # skills some agent holds: served (with the default queue settings) though no queue row
        # names them; the router, which knows the agents, replaces this
        self.served_skills: Callable[[], Collection[str]] = lambda: ()

    @classmethod
    def for_states(cls, store, audit: Audit | None = None, clock: Callable[[], float] = time.time) -> AgentManager:
        """A manager for agent states only (the CLI, the demo, tests): no AMI, no queues."""
        return cls(store, actions=None, queues={}, clock=clock, audit=audit)

    def queue(self, skill: str) -> Queue:
        return queue_for(self.queues, skill)

    async def _audited(self, actor: str | None, action: str, target: str, detail: str) -> None:
        if actor and self.audit is not None:
            await self.audit(actor, action, target, detail)

    # ---------------------------------------------------------------- agent state
    async def set_state(self, ext: str, to: str, reason: str | None = None, actor: str | None = None) -> str:
        """ready, not_ready (with a person's reason) or logged_out; logs the agent in first when
        needed. The new state, or AcdError."""
        ext, now = extension(ext), self.clock()
        if to not in (st.READY, st.NOT_READY, st.LOGGED_OUT):
            raise AcdError("BAD_STATE")
        if to == st.NOT_READY and reason not in PERSON_REASONS:
            raise AcdError("BAD_REASON")
        current = (await self.store.agent(ext)).state
        if to != st.LOGGED_OUT and current == st.LOGGED_OUT:
            await self.store.transition(ext, "login", now)
        event = {st.READY: "ready", st.NOT_READY: "not_ready", st.LOGGED_OUT: "logout"}[to]
        changed = await self.store.transition(ext, event, now, reason=reason if to == st.NOT_READY else None)
        if changed is None:
            state = (await self.store.agent(ext)).state
            raise AcdError(st.InvalidTransition.code, f"an agent who is {state} cannot become {to}")
        await self._audited(actor, "agent_state", ext, f"to {to}" + (f" ({reason})" if reason else ""))
        return changed

    async def log_out_when_free(self, ext: str, actor: str | None = None) -> dict:
        """Log the seat out now or, while it is reserved, ringing or on a call, as soon as that call
        and its wrap-up are over (issue 15: an agent deactivated or moved by an admin). From this
        moment it is offered no call: a busy seat is not ready for one, and its next ready or not
        ready is turned into logged out by the store's compare-and-set (acd/store.py), on every
        router at once. A ringing (or reserved) seat's ring is left to end by itself rather than
        cut: hanging up a Dial leg races with the agent's answer (a caller answered, then cut
        off), whereas an unanswered ring already sends the caller back to the head of the queue
        and an answered one is a call the caller wanted; either way no later call rings the seat.
        {"state": the state now, "logout_pending": True when it waits for the call}."""
        ext = extension(ext)
        for _ in range(3):  # the seat may move between the two tries (its call ended, or was offered)
            if await self.store.transition(ext, "logout", self.clock()) is not None:
                await self._audited(actor, "agent_state", ext, "to logged_out")
                return {"state": st.LOGGED_OUT}
            busy = await self.store.logout_when_free(ext)
            if busy:
                await self._audited(actor, "agent_state", ext, f"to logged_out when free (now {busy})")
                return {"state": busy, "logout_pending": True}
            if (await self.store.agent(ext)).state == st.LOGGED_OUT:
                return {"state": st.LOGGED_OUT}
        raise AcdError(st.InvalidTransition.code, "the seat kept changing state; try again")

    async def phone_lost(self, ext: str) -> str | None:
        """The phone the agent's calls ring on is not registered: a ready agent becomes Not ready
        (phone_unregistered), so no call is offered to a phone that cannot ring. None when the
        agent was not ready (on a call, in wrap-up, or Not ready for a reason of their own)."""
        return await self.store.transition(extension(ext), "phone_lost", self.clock(), reason="phone_unregistered")

    async def login(self, ext: str, actor: str | None = None) -> str:
        """Logged out -> not ready (login): at the seat, not yet taking calls."""
        ext = extension(ext)
        changed = await self.store.transition(ext, "login", self.clock())
        if changed is None:
            state = (await self.store.agent(ext)).state
            raise AcdError(st.InvalidTransition.code, f"an agent who is {state} is already logged in")
        await self._audited(actor, "agent_state", ext, "login")
        return changed

    async def end_wrapup(self, ext: str, actor: str | None = None) -> str:
        ext = extension(ext)
        if (await self.store.agent(ext)).state != st.WRAPUP:
            raise AcdError("NOT_IN_WRAPUP")
        return await self.set_state(ext, st.READY, actor=actor)

    async def extend_wrapup(self, ext: str, seconds, actor: str | None = None) -> float:
        """More wrap-up time; the new end."""
        ext = extension(ext)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= MAX_WRAPUP_EXTENSION_S:
            raise AcdError("BAD_SECONDS")
        agent = await self.store.agent(ext)
        if agent.state != st.WRAPUP:
            raise AcdError("NOT_IN_WRAPUP")
        until = agent.wrapup_until + seconds
        await self.store.set_wrapup_until(ext, until)
        await self._audited(actor, "extend_wrapup", ext, f"+{seconds:g} s")
        return until

    async def wrap_up(self, ext: str, call: LiveCall, now: float) -> None:
        """The agent's part of the call is over: wrap-up for the queue's time."""
        await self.store.set_wrapup_until(ext, now + self.queue(call.skill).wrapup_s)  # before it is announced
        await self.store.transition(ext, "hangup", now, call=call.uniqueid, expect_call=call.uniqueid)

    # ---------------------------------------------------------------- call control
    async def own_call(self, ext, uid) -> LiveCall:
        """The call the agent is talking on now, or NOT_YOUR_CALL."""
        ext = extension(ext)
        if not isinstance(uid, str) or not uid:
            raise AcdError("NO_SUCH_CALL")
        call, agent = await self.store.call(uid), await self.store.agent(ext)
        if call is None or call.agent != ext or agent.state != st.ON_CALL or agent.call != uid:
            raise AcdError("NOT_YOUR_CALL", f"agent {ext} is not talking on that call")
        return call

    async def hang_up(self, ext, uid) -> None:
        call = await self.own_call(ext, uid)
        await self.actions.hang_up_as_agent(call.channel)  # the hangup handler's CallEnded starts wrap-up

    async def hold(self, ext, uid) -> None:
        call = await self.own_call(ext, uid)
        if call.held:
            raise AcdError("ALREADY_HELD")
        peer = await self.actions.hold(call.channel, call.uniqueid)
        await self.store.update_call(call.uniqueid, held=True, agent_channel=peer)
        if self.on_hold is not None:
            self.on_hold(call.uniqueid, ext, "hold", self.clock())

    async def verify(self, ext, uid) -> None:
        """The caller to the menu's password check; back to this agent when it ends (the
        dialplan's CallerVerified: verified_back). Held meanwhile, so resume still works."""
        call = await self.own_call(ext, uid)
        if call.held:
            raise AcdError("ALREADY_HELD")
        peer = await self.actions.verify(call.channel, call.uniqueid)
        await self.store.update_call(call.uniqueid, held=True, agent_channel=peer)
        if self.on_hold is not None:
            self.on_hold(call.uniqueid, ext, "hold", self.clock())

    async def verified_back(self, ext, uid, at: float | None = None) -> None:
        """The password check ended and the dialplan bridged the caller back to the agent. at: the
        event's own time (Asterisk's), so the two routers that both hear it write the same resume
        row, which the journey's unique key keeps once."""
        call = await self.store.call(uid)
        if call is not None and call.held:
            await self.store.update_call(uid, held=False)
            if self.on_hold is not None:
                self.on_hold(uid, ext, "resume", self.clock() if at is None else at)

    async def resume(self, ext, uid) -> None:
        call = await self.own_call(ext, uid)
        if not call.held:
            raise AcdError("NOT_HELD")
        await self.actions.resume(call.channel, call.agent_channel)
        await self.store.update_call(call.uniqueid, held=False)
        if self.on_hold is not None:
            self.on_hold(call.uniqueid, ext, "resume", self.clock())

    async def transfer_to_agent(self, ext, uid, target) -> None:
        """Straight to a named agent who is ready now; the call keeps its skill."""
        call = await self.own_call(ext, uid)
        target, now = extension(target), self.clock()
        if target == ext:
            raise AcdError("BAD_TARGET")
        await self.store.update_call(uid, agent="", transferred=True)
        if await self.store.reserve(target, uid, now) != 1:
            await self.store.update_call(uid, agent=ext)
            raise AcdError("AGENT_NOT_READY", f"agent {target} is not ready")
        await self.release_agent(ext, call, now)
        await self.actions.connect_to_agent(call.channel, target, self.queue(call.skill).ring_time_s)

    async def transfer_to_skill(self, ext, uid, skill) -> None:
        """Back to wait for another skill, ahead of callers not transferred; a fresh wait there."""
        call = await self.own_call(ext, uid)
        if not is_skill(skill) or (skill not in self.queues and skill != GENERAL and skill not in self.served_skills()):
            raise AcdError("UNKNOWN_SKILL", f"no queue serves {skill!r}")
        now = self.clock()
        await self.store.update_call(uid, agent="", skill=skill, transferred=True, queued_at=now)
        if not await self.actions.requeue(call.channel, skill):
            await self.store.update_call(uid, agent=ext, skill=call.skill, transferred=call.transferred,
                                         queued_at=call.queued_at)
            raise AcdError("TRANSFER_FAILED")
        await self.release_agent(ext, call, now)

    async def release_agent(self, ext: str, call: LiveCall, now: float) -> None:
        """The agent leaves a call that goes on (transferred): their leg ends, wrap-up starts."""
        await self.end_agent_leg(call)
        await self.wrap_up(ext, call, now)

    async def end_agent_leg(self, call: LiveCall) -> None:
        """After hold and resume the agent's leg is no longer Dial's: end it with the call."""
        if call.agent_channel:
            await self.store.update_call(call.uniqueid, agent_channel="", held=False)
            await self.actions.hang_up(call.agent_channel)
