"""Live monitoring sessions, in the router: start, switch mode, stop, and the end when the call ends.

The desktop checks who asks (role, team: agent_desktop/monitor_events.py) and sends a command;
this applies it through AMI (acd/actions.py) and keeps one session per monitor in Redis
(``acd:monitor:<id>``, acd/protocol.py), so any router can switch or stop it. The rules and the
ChanSpy options are acd/monitor.py's. Every start, switch and stop, and the end of a session
because the call ended, was transferred or the monitor hung up, writes an audit row: who, which
call, which mode, how long.

The spied channel is the agent's leg of the call, found here from the call's id (the caller's
BRIDGEPEER, or the parked agent leg while on hold), never a name from a client. ChanSpy's E option
ends the monitor's leg when that leg goes (hang-up or transfer); the router hears the leg's Hangup
(``leg_gone``) and closes the session. Two routers hear the same Hangup: the one whose DEL removes
the session writes the row.

Mode switches keyed on the supervisor's own phone (4/5/6, ChanSpy's d; acd/monitor.py says why they
are read rather than refused) reach ``keyed`` from the leg's DTMFEnd events. Every change of mode,
from the wallboard or the phone, claims the session's next switch number once (SET NX), so two
routers hearing the same digit write one row, and the wallboard's own digit, stored first, is no
change when its echo is heard.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Awaitable, Callable

from acd import agent_state as st
from acd import protocol as p
from acd.monitor import Mode, chanspy_options, keyed_mode, refusal, switch_digit
from acd.protocol import AcdError, is_extension
from callcenter import dialplan as dp
from callcenter.runtime.tasks import background

log = logging.getLogger("acd.monitoring")

RING_TIME_S = 20  # the monitor's own phone rings this long before the session is given up
ID_PREFIX = "mon"  # monitors' legs have uniqueids mon<hex> (Originate's ChannelId)


@dataclass(frozen=True)
class MonitorSession:
    id: str
    call: str  # the monitored call's uniqueid
    agent: str  # the agent's extension
    by: str  # the monitor's user name
    role: str  # supervisor or quality
    listener: str  # the extension of the phone the monitor listens on
    mode: str
    started: float
    answered: float = 0.0  # when the monitor's phone answered (0: still ringing)
    mode_since: float = 0.0
    switches: int = 0  # changes of mode so far (each claimed once: _claim_switch)

    @classmethod
    def from_hash(cls, raw) -> MonitorSession | None:
        data = p.decode_hash(raw)
        if not data.get("id"):
            return None
        return cls(id=data["id"], call=data["call"], agent=data["agent"], by=data["by"], role=data["role"],
                   listener=data["listener"], mode=data["mode"], started=float(data["started"]),
                   answered=float(data.get("answered") or 0), mode_since=float(data.get("mode_since") or 0),
                   switches=int(data.get("switches") or 0))

    def as_dict(self) -> dict:
        return {"monitor": self.id, "call": self.call, "agent": self.agent, "mode": self.mode,
                "answered": bool(self.answered)}


def _seconds(since: float, now: float) -> str:
    return f"{max(0.0, now - since):.0f} s" if since else "0 s"


SWITCH_CLAIM_S = 6 * 3600  # a switch's claim outlives any monitored call


class Monitors:
    def __init__(self, store, actions, audit, clock: Callable[[], float] = time.time,
                 on_changed: Callable[[p.MonitorChanged], Awaitable[None]] | None = None):
        self.redis = store.redis
        self.store = store
        self.actions = actions
        self.audit = audit  # (actor, action, target, detail), as the agent manager's
        self.clock = clock
        self.on_changed = on_changed  # a switch keyed on the phone, an end: told to the wallboard (service.py)
        self._keys = asyncio.Lock()  # keyed digits one at a time, in the order Asterisk sent them

    # ---------------------------------------------------------------- sessions in Redis
    async def session(self, monitor_id: str) -> MonitorSession | None:
        if not isinstance(monitor_id, str) or not monitor_id.startswith(ID_PREFIX) or len(monitor_id) > 40:
            return None
        return MonitorSession.from_hash(await self.redis.hgetall(p.monitor_key(monitor_id)))

    async def sessions(self) -> list[MonitorSession]:
        found = []
        for raw_id in await self.redis.smembers(p.MONITORS):
            session = await self.session(p.as_text(raw_id))
            if session is None:
                await self.redis.srem(p.MONITORS, raw_id)
            else:
                found.append(session)
        return found

    async def _save(self, session: MonitorSession) -> None:
        await self.redis.hset(p.monitor_key(session.id), mapping={k: str(v) for k, v in asdict(session).items()})
        await self.redis.sadd(p.MONITORS, session.id)

    async def _claim(self, monitor_id: str) -> bool:
        """Take the session away: True for the one process that removed it."""
        await self.redis.srem(p.MONITORS, monitor_id)
        return await self.redis.delete(p.monitor_key(monitor_id)) == 1

    async def _mine(self, monitor_id, by: str) -> MonitorSession:
        session = await self.session(monitor_id)
        if session is None or session.by != by:
            raise AcdError("NO_SUCH_MONITOR")
        return session

    # ---------------------------------------------------------------- the three commands
    async def start(self, call_id, mode_name, by: str, role: str, listener: str) -> MonitorSession:
        mode = Mode.parse(mode_name)
        code = refusal(role, mode, on_their_team=True)  # the team was checked by the desktop
        if code:
            raise AcdError(code)
        if not is_extension(listener):
            raise AcdError("BAD_EXTENSION")
        call = await self.store.call(call_id) if isinstance(call_id, str) and call_id else None
        if call is None:
            raise AcdError("NO_SUCH_CALL")
        agent = await self.store.agent(call.agent) if call.agent else None
        if agent is None or agent.state != st.ON_CALL or agent.call != call.uniqueid:
            raise AcdError("NOT_ON_CALL")
        for other in await self.sessions():
            if other.by == by and not await self._gone_quietly(other):
                raise AcdError("ALREADY_MONITORING")
        spied = call.agent_channel if call.held else await self.actions.bridge_peer(call.channel)
        if not spied:
            raise AcdError("NOT_ON_CALL")
        now = self.clock()
        session = MonitorSession(id=f"{ID_PREFIX}{uuid.uuid4().hex[:20]}", call=call.uniqueid, agent=call.agent,
                                 by=by, role=role, listener=listener, mode=mode.value, started=now)
        await self._save(session)
        answered = self.actions.start_spy(session.id, listener, spied, chanspy_options(mode, role), RING_TIME_S)
        await self.audit(by, "monitor_start", call.uniqueid,
                         f"mode {mode.value}; agent {call.agent}; rings {listener}")
        background(self._when_answered(session.id, answered), f"monitor {session.id}")
        return session

    async def switch(self, monitor_id, mode_name, by: str, role: str) -> MonitorSession:
        session = await self._mine(monitor_id, by)
        mode = Mode.parse(mode_name)
        code = refusal(role, mode, on_their_team=True)
        if code:
            raise AcdError(code)
        if mode.value == session.mode:
            return session
        if not session.answered:
            raise AcdError("MONITOR_NOT_ANSWERED")
        channel = await self.actions.channel_named(session.id)
        if not channel:
            await self._end(session, "the monitor's phone is gone")
            raise AcdError("NO_SUCH_MONITOR")
        if not await self._claim_switch(session):
            raise AcdError("MONITOR_FAILED")  # a key on the phone switched it this instant: try again
        # stored before the digit is sent: its echo (the DTMFEnd ``keyed`` hears) is then no change
        changed = await self._store_mode(session, mode)
        if not await self.actions.spy_key(channel, switch_digit(mode)):
            # back to the mode ChanSpy is still in; the switch's number stays used (claimed)
            await self._write(session.id, mode=session.mode, mode_since=str(session.mode_since))
            raise AcdError("MONITOR_FAILED")
        await self.audit(by, "monitor_switch", session.call,
                         f"mode {session.mode} -> {mode.value} after {_seconds(session.mode_since, changed.mode_since)}; "
                         f"agent {session.agent}")
        return changed

    async def keyed(self, uniqueid: str, digit: str) -> MonitorSession | None:
        """A DTMF digit the monitor's leg received (its DTMFEnd): when it is a supervisor's 4/5/6
        naming another mode than the session's, ChanSpy has switched on it, keyed on their phone.
        Stored, audited as a switch and told (on_changed); the changed session, else None."""
        if not uniqueid.startswith(ID_PREFIX):
            return None
        async with self._keys:
            session = await self.session(uniqueid)
            mode = keyed_mode(digit, session.role) if session is not None else None
            if mode is None or mode.value == session.mode or not await self._claim_switch(session):
                return None
            changed = await self._store_mode(session, mode)
            await self.audit(session.by, "monitor_switch", session.call,
                             f"mode {session.mode} -> {mode.value} after "
                             f"{_seconds(session.mode_since or session.answered, changed.mode_since)}; "
                             f"agent {session.agent}; keyed on the phone")
            await self._tell(session, mode.value)
            return changed

    async def _tell(self, session: MonitorSession, mode: str) -> None:
        """The wallboard and the agent learn of a change they did not ask for (mode "": ended)."""
        if self.on_changed is not None:
            await self.on_changed(p.MonitorChanged(monitor=session.id, call=session.call, agent=session.agent,
                                                   by=session.by, mode=mode, was=session.mode))

    async def _claim_switch(self, session: MonitorSession) -> bool:
        """The session's next change of mode, for this process alone (SET NX on its number)."""
        claim = f"{p.monitor_key(session.id)}:switch:{session.switches + 1}"
        return bool(await self.redis.set(claim, "1", nx=True, ex=SWITCH_CLAIM_S))

    async def _store_mode(self, session: MonitorSession, mode: Mode) -> MonitorSession:
        """The session in its new mode, one more switch counted."""
        changed = MonitorSession(**{**asdict(session), "mode": mode.value, "mode_since": self.clock(),
                                    "switches": session.switches + 1})
        await self._write(session.id, mode=changed.mode, mode_since=str(changed.mode_since),
                          switches=str(changed.switches))
        return changed

    async def _write(self, monitor_id: str, **fields: str) -> None:
        """Fields of a live session; none once a stop or an end took it (no hash brought back)."""
        if await self.redis.exists(p.monitor_key(monitor_id)):
            await self.redis.hset(p.monitor_key(monitor_id), mapping=fields)

    async def stop(self, monitor_id, by: str) -> tuple[MonitorSession, float]:
        """Hang up the monitor's leg; the session and the seconds they listened."""
        session = await self._mine(monitor_id, by)
        if not await self._claim(session.id):
            raise AcdError("NO_SUCH_MONITOR")  # ended meanwhile (its Hangup was handled first)
        channel = await self.actions.channel_named(session.id)
        if channel:
            await self.actions.hang_up(channel)
        return session, await self._audit_end(session, "monitor_stop", "stopped from the wallboard")

    # ---------------------------------------------------------------- ends Asterisk tells us of
    async def leg_gone(self, uniqueid: str) -> None:
        """A Hangup: when it is a monitor's leg, its session ends (call ended, transferred, or the
        monitor hung up their phone)."""
        if not uniqueid.startswith(ID_PREFIX):
            return
        session = await self.session(uniqueid)
        if session is not None:
            await self._end(session, "the call or the monitor's phone ended")

    async def _when_answered(self, monitor_id: str, answered) -> None:
        ok = await answered
        session = await self.session(monitor_id)
        if session is None:
            return
        if ok:
            now = self.clock()
            if not await self.redis.exists(p.monitor_key(monitor_id)):
                return  # stopped while it rang
            await self.redis.hset(p.monitor_key(monitor_id), mapping={"answered": str(now), "mode_since": str(now)})
        else:
            await self._end(session, "the monitor's phone did not answer")

    async def _gone_quietly(self, session: MonitorSession) -> bool:
        """A session whose leg is no longer in Asterisk (a Hangup missed while no router ran) ends
        now; True when it did."""
        if not session.answered and self.clock() - session.started < RING_TIME_S + 5:
            return False  # still ringing
        if await self.actions.channel_named(session.id):
            return False
        await self._end(session, "its leg was gone")
        return True

    async def _end(self, session: MonitorSession, why: str) -> None:
        if await self._claim(session.id):
            await self._audit_end(session, "monitor_end", why)
            await self._tell(session, "")

    async def _audit_end(self, session: MonitorSession, action: str, why: str) -> float:
        now = self.clock()
        listened = now - session.answered if session.answered else 0.0
        await self.audit(session.by, action, session.call,
                         f"mode {session.mode}; listened {_seconds(session.answered, now)}; "
                         f"agent {session.agent}; {why}")
        return listened
