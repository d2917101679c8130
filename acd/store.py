"""Live routing state in Redis, shared by every router process (and the desktop).

The keys and their fields are described in acd/protocol.py. Every agent state change is a
compare-and-set in Lua (applied only if the agent is still in the state it was read in), and
taking an agent for a call is one Lua script that checks both sides, so two routers running at
once never give one agent two calls nor one call two agents. Each applied change is appended,
inside the same script, to the stream ``acd:state-log`` (drained into the database's
agent_state_log by the routers, duplicates ignored) and published on ``acd:agent-changes`` for
the routers' live views and the desktop. Scripts get every key through ``KEYS[]``.
"""
from __future__ import annotations

import redis.asyncio as aioredis

from acd import protocol as p
from acd.agent_state import LOGGED_OUT, LOGOUT_AFTER_CALL, next_state

# KEYS: agent hash, agents set, state-log stream, changes channel (published from the script: one
# round trip per change, and no change is ever logged but not announced). ARGV[9]: the call the
# agent was read with: compared too, so an event about an agent's last call, heard late (every
# router hears every event), never moves the agent off the call they were given since. A seat
# with a pending logout (see _LOGOUT_WHEN_FREE) that would become ready or not ready becomes
# logged out instead, in this same script, so no router can offer it a call in between: ARGV[10]
# is that change as published. Answers 1 applied, 2 applied as the pending logout, 0 not applied.
_CAS = """
local current = redis.call('HGET', KEYS[1], 'state') or 'logged_out'
if current ~= ARGV[1] then return 0 end
if (redis.call('HGET', KEYS[1], 'call') or '') ~= ARGV[9] then return 0 end
local state, reason, call, change, applied = ARGV[2], ARGV[3], ARGV[5], ARGV[8], 1
if (state == 'ready' or state == 'not_ready') and redis.call('HGET', KEYS[1], 'logout_pending') == '1' then
  state, reason, call, change, applied = 'logged_out', ARGV[11], '', ARGV[10], 2
end
if state == 'logged_out' then redis.call('HDEL', KEYS[1], 'logout_pending') end
redis.call('HSET', KEYS[1], 'state', state, 'reason', reason, 'since', ARGV[4], 'call', call,
           'misses', ARGV[6])
redis.call('SADD', KEYS[2], ARGV[7])
redis.call('XADD', KEYS[3], '*', 'ext', ARGV[7], 'state', state, 'reason', reason, 'call', call,
           'since', ARGV[4])
redis.call('PUBLISH', KEYS[4], change)
return applied
"""

# KEYS: agent hash. A seat that is reserved, ringing or talking is marked to log out when that call
# is over (its wrap-up included): _CAS turns its next ready or not ready into logged out. Answers
# the state it was marked in, or '' when it is not busy (the caller logs it out at once instead).
_LOGOUT_WHEN_FREE = """
local current = redis.call('HGET', KEYS[1], 'state') or 'logged_out'
if current ~= 'reserved' and current ~= 'ringing' and current ~= 'on_call' then return '' end
redis.call('HSET', KEYS[1], 'logout_pending', '1')
return current
"""

# KEYS: agent hash, call hash, state-log stream, changes channel. ARGV[6]: the reserving router
# (the agent's 'owner' field: another router releases the reservation if that one dies before
# its redirect; acd/leases.py)
_RESERVE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'ready' then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local taken = redis.call('HGET', KEYS[2], 'agent')
if taken and taken ~= '' then return -1 end
redis.call('HSET', KEYS[1], 'state', 'reserved', 'reason', '', 'since', ARGV[3], 'call', ARGV[1], 'owner', ARGV[6])
redis.call('HSET', KEYS[2], 'agent', ARGV[2])
redis.call('XADD', KEYS[3], '*', 'ext', ARGV[2], 'state', 'reserved', 'reason', '', 'call', ARGV[1],
           'since', ARGV[3])
redis.call('PUBLISH', KEYS[4], ARGV[4])
if ARGV[5] == '1' then return {1, redis.call('HGETALL', KEYS[2])} end
return 1
"""

# KEYS: call hash, calls set. ARGV: uniqueid, queued_at, queued_by, then field, value pairs. A call
# that comes back (unanswered, or transferred to a skill) keeps the queued time it has. Every router
# hears each CallQueued: when this very event (queued_by, Asterisk's stamp) was applied already, by
# another router that may have reserved an agent for the call since, nothing is written. Answers
# {1 applied | 0 already applied, the call as stored}.
_ENQUEUE = """
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'queued_by') == ARGV[3] then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('HSETNX', KEYS[1], 'queued_at', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return {1, redis.call('HGETALL', KEYS[1])}
"""

# KEYS: call hash. ARGV: field, value pairs. Only a call still live: a write after the call ended
# (a Redirect refused because the caller just hung up, a hold answered after the hang-up) would
# otherwise leave a stray hash that nothing ever deletes.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: call hash. ARGV: field, the value it must have, the value to set. 1 if this call set it:
# of two routers acting on one event (a held caller's agent leg gone), exactly one goes on.
_SWAP = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

# The two above in one round trip, for a caller who arrives when an agent is free for them (the
# routing path's common case): KEYS: call hash, calls set, agent hash, state-log stream, changes
# channel. ARGV: uniqueid, queued_at, agent, now, the change, queued_by, the reserving router (as
# _RESERVE's ARGV[6]), then the call's field, value pairs. The call is enqueued whatever the
# agent's state (unless this event was applied already: -1, as _ENQUEUE); the queued time in
# effect comes back with the answer.
_ENQUEUE_RESERVE = """
if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'queued_by') == ARGV[6] then
  return {-1, redis.call('HGET', KEYS[1], 'queued_at'), redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('HSETNX', KEYS[1], 'queued_at', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
local kept = redis.call('HGET', KEYS[1], 'queued_at')
if redis.call('HGET', KEYS[3], 'state') ~= 'ready' then return {0, kept} end
redis.call('HSET', KEYS[3], 'state', 'reserved', 'reason', '', 'since', ARGV[4], 'call', ARGV[1], 'owner', ARGV[7])
redis.call('HSET', KEYS[1], 'agent', ARGV[3])
redis.call('XADD', KEYS[4], '*', 'ext', ARGV[3], 'state', 'reserved', 'reason', '', 'call', ARGV[1],
           'since', ARGV[4])
redis.call('PUBLISH', KEYS[5], ARGV[5])
return {1, kept, redis.call('HGETALL', KEYS[1])}
"""

# What a reservation answers (see Store.reserve)
RESERVED, AGENT_NOT_READY, CALL_GONE = 1, 0, -1


def _call_from_flat(uniqueid: str, flat: list) -> p.LiveCall:
    """A call from a script's HGETALL answer (a flat field, value list)."""
    return p.LiveCall.from_hash(uniqueid, dict(zip(flat[::2], flat[1::2])))


class Store:
    owner = ""  # this router's name in the reservations it makes (acd/leases.py); "" outside a router

    def __init__(self, redis: aioredis.Redis):
        self.redis = redis
        self._cas = redis.register_script(_CAS)
        self._logout_when_free = redis.register_script(_LOGOUT_WHEN_FREE)
        self._reserve = redis.register_script(_RESERVE)
        self._enqueue = redis.register_script(_ENQUEUE)
        self._enqueue_reserve = redis.register_script(_ENQUEUE_RESERVE)
        self._update = redis.register_script(_UPDATE)
        self._swap = redis.register_script(_SWAP)

    # ---- agents ----
    async def agent(self, ext: str) -> p.AgentSnapshot:
        return p.AgentSnapshot.from_hash(ext, await self.redis.hgetall(p.agent_key(ext)))

    async def agents(self) -> dict[str, p.AgentSnapshot]:
        exts = sorted(p.decode_hash({e: "" for e in await self.redis.smembers(p.AGENTS)}))
        return {ext: await self.agent(ext) for ext in exts}

    async def transition(self, ext: str, event: str, now: float, reason: str | None = None,
                         call: str = "", misses: int | None = None, expect_call: str | None = None) -> str | None:
        """Apply an agent event; the new state, or None if it does not apply (now). expect_call:
        only while the agent is on that call (reserved, ringing, talking, wrapping up): an event
        about one call, which two routers both handle, must not release or ring the agent for the
        next call they were reserved for in between (a double booking)."""
        current = await self.agent(ext)
        if expect_call is not None and current.call != expect_call:
            return None
        try:
            state, why = next_state(current.state, event, reason)
        except ValueError:
            return None
        keep_misses = current.misses if misses is None else misses
        change = p.AgentChange(ext, state, why or "", call, now)
        instead = p.AgentChange(ext, LOGGED_OUT, LOGOUT_AFTER_CALL, "", now)  # a pending logout's
        applied = await self._cas(keys=[p.agent_key(ext), p.AGENTS, p.STATE_LOG, p.AGENT_CHANGES],
                                  args=[current.state, state, why or "", repr(now), call, str(keep_misses), ext,
                                        change.to_json(), current.call, instead.to_json(), LOGOUT_AFTER_CALL])
        return {0: None, 1: state, 2: LOGGED_OUT}[int(applied)]

    async def logout_when_free(self, ext: str) -> str:
        """Mark a busy seat (reserved, ringing, on a call) to be logged out when its call is over:
        the state it was marked in, or "" when it is not busy (log it out now instead)."""
        return p.as_text(await self._logout_when_free(keys=[p.agent_key(ext)]))

    async def set_wrapup_until(self, ext: str, until: float) -> None:
        await self.redis.hset(p.agent_key(ext), "wrapup_until", repr(until))

    async def reserve(self, ext: str, uniqueid: str, now: float) -> int:
        """RESERVED; AGENT_NOT_READY: the agent is no longer ready; CALL_GONE: gone or taken."""
        return int(await self._reserve(keys=self._reserve_keys(ext, uniqueid),
                                       args=self._reserve_args(ext, uniqueid, now, "0")))

    async def reserve_call(self, ext: str, uniqueid: str, now: float) -> tuple[int, p.LiveCall | None]:
        """As reserve, and the call as it is once reserved (one round trip for both)."""
        result = await self._reserve(keys=self._reserve_keys(ext, uniqueid),
                                     args=self._reserve_args(ext, uniqueid, now, "1"))
        if not isinstance(result, list):
            return int(result), None
        flat = result[1]
        return RESERVED, p.LiveCall.from_hash(uniqueid, dict(zip(flat[::2], flat[1::2])))

    @staticmethod
    def _reserve_keys(ext: str, uniqueid: str) -> list[str]:
        return [p.agent_key(ext), p.call_key(uniqueid), p.STATE_LOG, p.AGENT_CHANGES]

    def _reserve_args(self, ext: str, uniqueid: str, now: float, want_call: str) -> list[str]:
        return [uniqueid, ext, repr(now), p.AgentChange(ext, "reserved", "", uniqueid, now).to_json(), want_call,
                self.owner]

    async def state_log(self, after: str = "-", count: int = 500) -> list[tuple[str, dict[str, str]]]:
        """Agent state changes recorded after stream id `after` (exclusive)."""
        start = "-" if after == "-" else f"({after}"
        entries = await self.redis.xrange(p.STATE_LOG, min=start, count=count)
        return [(p.as_text(i), p.decode_hash(fields)) for i, fields in entries]

    # ---- calls ----
    async def put_call(self, call: p.LiveCall) -> None:
        """Write a whole live call (a new one, or one rebuilt from Asterisk)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(p.call_key(call.uniqueid), mapping=call.to_hash())
            pipe.sadd(p.CALLS, call.uniqueid)
            await pipe.execute()

    async def enqueue(self, call: p.LiveCall) -> p.LiveCall:
        """A caller (again) waiting for an agent: written as given, except that a call already
        live keeps its first queued time, and that an event applied already (call.queued_by) by
        another router changes nothing. The call as stored."""
        values = call.but(agent="").to_hash()
        queued_at = values.pop("queued_at")
        pairs = [item for pair in values.items() for item in pair]
        result = await self._enqueue(keys=[p.call_key(call.uniqueid), p.CALLS],
                                     args=[call.uniqueid, queued_at, call.queued_by, *pairs])
        return _call_from_flat(call.uniqueid, result[1])

    async def enqueue_and_reserve(self, call: p.LiveCall, ext: str, now: float) -> tuple[int, p.LiveCall]:
        """enqueue(call), then reserve(ext, call) in the same round trip: (RESERVED, the call as
        reserved) or (AGENT_NOT_READY, the call as enqueued); (CALL_GONE, the call as stored) when
        this CallQueued was applied already by another router, and nothing is written."""
        values = call.but(agent="").to_hash()
        queued_at = values.pop("queued_at")
        pairs = [item for pair in values.items() for item in pair]
        keys = [p.call_key(call.uniqueid), p.CALLS, p.agent_key(ext), p.STATE_LOG, p.AGENT_CHANGES]
        change = p.AgentChange(ext, "reserved", "", call.uniqueid, now).to_json()
        result = await self._enqueue_reserve(keys=keys, args=[call.uniqueid, queued_at, ext, repr(now), change,
                                                              call.queued_by, self.owner, *pairs])
        if int(result[0]) == CALL_GONE:  # this event was applied already, by another router
            return CALL_GONE, _call_from_flat(call.uniqueid, result[2])
        kept = float(p.as_text(result[1]))
        if int(result[0]) != RESERVED:
            return AGENT_NOT_READY, call.but(agent="", queued_at=kept)
        return RESERVED, _call_from_flat(call.uniqueid, result[2])

    async def update_call(self, uniqueid: str, **fields) -> None:
        """Change some fields of a live call (LiveCall field names; see protocol.call_fields); a
        call no longer live stays gone."""
        pairs = [item for pair in p.call_fields(**fields).items() for item in pair]
        await self._update(keys=[p.call_key(uniqueid)], args=pairs)

    async def take_off_hold(self, uniqueid: str) -> bool:
        """held -> not held, True only for the one caller who changed it (a live, held call)."""
        return bool(await self._swap(keys=[p.call_key(uniqueid)], args=["held", "1", ""]))

    async def call(self, uniqueid: str) -> p.LiveCall | None:
        return p.LiveCall.from_hash(uniqueid, await self.redis.hgetall(p.call_key(uniqueid)))

    async def calls(self) -> dict[str, p.LiveCall]:
        found = {}
        for uid in p.decode_hash({u: "" for u in await self.redis.smembers(p.CALLS)}):
            call = await self.call(uid)
            if call is not None:
                found[uid] = call
        return found

    async def drop_call(self, uniqueid: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(p.call_key(uniqueid))
            pipe.srem(p.CALLS, uniqueid)
            await pipe.execute()

    # ---- signals ----
    async def announce_reload(self) -> None:
        await self.redis.publish(p.RELOAD, "1")
