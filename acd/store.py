"""Live routing state in Redis, shared by every router process (and the desktop).

Keys: ``acd:agent:<ext>`` hash (state, reason, since, call, misses); ``acd:agents`` set;
``acd:call:<uniqueid>`` hash (channel, skill, priority, transferred, queued_at, agent);
``acd:calls`` set. Every agent state change is a compare-and-set in Lua (applied only if the
agent is still in the state it was read in), and taking an agent for a call is one Lua script
that checks both sides, so two routers running at once never give one agent two calls nor one
call two agents. Each applied change is appended, inside the same script, to the stream
``acd:state-log`` (drained into the database's agent_state_log by the routers, duplicates
ignored), and published on ``acd:agent-changes`` for the routers' live views.
"""
from __future__ import annotations

import json
import redis.asyncio as aioredis

from acd.agent_state import LOGGED_OUT, next_state

CHANGES = "acd:agent-changes"

_CAS = """
local current = redis.call('HGET', KEYS[1], 'state') or 'logged_out'
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'reason', ARGV[3], 'since', ARGV[4], 'call', ARGV[5],
           'misses', ARGV[6])
redis.call('SADD', 'acd:agents', ARGV[7])
redis.call('XADD', 'acd:state-log', '*', 'ext', ARGV[7], 'state', ARGV[2], 'reason', ARGV[3], 'call', ARGV[5],
           'since', ARGV[4])
return 1
"""

_RESERVE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'ready' then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local taken = redis.call('HGET', KEYS[2], 'agent')
if taken and taken ~= '' then return -1 end
redis.call('HSET', KEYS[1], 'state', 'reserved', 'reason', '', 'since', ARGV[3], 'call', ARGV[1])
redis.call('HSET', KEYS[2], 'agent', ARGV[2])
redis.call('XADD', 'acd:state-log', '*', 'ext', ARGV[2], 'state', 'reserved', 'reason', '', 'call', ARGV[1],
           'since', ARGV[3])
return 1
"""

def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


class Store:
    def __init__(self, redis: aioredis.Redis):
        self.redis = redis
        self._cas = redis.register_script(_CAS)
        self._reserve = redis.register_script(_RESERVE)

    # ---- agents ----
    async def agent(self, ext: str) -> dict[str, str]:
        raw = await self.redis.hgetall(f"acd:agent:{ext}")
        data = {_text(k): _text(v) for k, v in raw.items()}
        data.setdefault("state", LOGGED_OUT)
        return data

    async def agents(self) -> dict[str, dict[str, str]]:
        return {ext: await self.agent(ext) for ext in sorted(_text(e) for e in await self.redis.smembers("acd:agents"))}

    async def transition(self, ext: str, event: str, now: float, reason: str | None = None,
                         call: str = "", misses: int | None = None) -> str | None:
        """Apply an agent event; the new state, or None if it does not apply (now)."""
        current = await self.agent(ext)
        try:
            state, why = next_state(current["state"], event, reason)
        except ValueError:
            return None
        keep_misses = current.get("misses", "0") if misses is None else str(misses)
        applied = await self._cas(keys=[f"acd:agent:{ext}"],
                                  args=[current["state"], state, why or "", repr(now), call, keep_misses, ext])
        if not applied:
            return None
        await self._changed(ext, state, why, call, now)
        return state

    async def set_wrapup_until(self, ext: str, until: float) -> None:
        await self.redis.hset(f"acd:agent:{ext}", "wrapup_until", repr(until))

    async def extend_wrapup(self, ext: str, seconds: float) -> float | None:
        """A supervisor gives an agent more wrap-up time; the new end, or None if not wrapping up."""
        agent = await self.agent(ext)
        if agent["state"] != "wrapup":
            return None
        until = float(agent.get("wrapup_until") or 0) + seconds
        await self.set_wrapup_until(ext, until)
        return until

    async def reserve(self, ext: str, uniqueid: str, now: float) -> int:
        """1: reserved; 0: the agent is no longer ready; -1: the call is gone or taken."""
        result = int(await self._reserve(keys=[f"acd:agent:{ext}", f"acd:call:{uniqueid}"],
                                         args=[uniqueid, ext, repr(now)]))
        if result == 1:
            await self._changed(ext, "reserved", None, uniqueid, now)
        return result

    async def _changed(self, ext: str, state: str, reason: str | None, call: str, now: float) -> None:
        await self.redis.publish(CHANGES, json.dumps({"ext": ext, "state": state, "reason": reason,
                                                      "call": call, "since": now}))

    async def state_log(self, after: str = "-", count: int = 500) -> list[tuple[str, dict[str, str]]]:
        """Agent state changes recorded after stream id `after` (exclusive)."""
        start = "-" if after == "-" else f"({after}"
        entries = await self.redis.xrange("acd:state-log", min=start, count=count)
        return [(_text(i), {_text(k): _text(v) for k, v in fields.items()}) for i, fields in entries]

    # ---- calls ----
    async def put_call(self, uniqueid: str, **fields) -> None:
        await self.redis.hset(f"acd:call:{uniqueid}", mapping={k: str(v) for k, v in fields.items()})
        await self.redis.sadd("acd:calls", uniqueid)

    async def call(self, uniqueid: str) -> dict[str, str]:
        raw = await self.redis.hgetall(f"acd:call:{uniqueid}")
        return {_text(k): _text(v) for k, v in raw.items()}

    async def calls(self) -> dict[str, dict[str, str]]:
        return {uid: await self.call(uid) for uid in (_text(u) for u in await self.redis.smembers("acd:calls"))}

    async def drop_call(self, uniqueid: str) -> None:
        await self.redis.delete(f"acd:call:{uniqueid}")
        await self.redis.srem("acd:calls", uniqueid)


async def make_ready(store: Store, ext: str, now: float) -> str | None:
    """Log an agent in (if needed) and make them ready: what the desktop's Ready button does."""
    await store.transition(ext, "login", now)
    return await store.transition(ext, "ready", now)
