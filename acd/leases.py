"""Router leases: a router that dies (or freezes) between a reservation and its redirect.

A router reserves an agent for a call in Redis, then moves the caller to the agent's phone (a
Redirect, or an Originate for a call back). If it dies in between, the agent stays reserved and
the caller waits on in cc-wait; before this module only that router's own restart (its rebuild)
let them go. Now every router holds a lease: a Redis key with a time to live that it renews every
second (``acd:router-alive:<owner>``), and every reservation names its owner (the agent hash's
``owner`` field, written by the reservation's own Lua in acd/store.py). Each router's tick asks
for reservations whose owner's lease is gone and releases them, the agent back to ready and the
call back to waiting, in one compare-and-set that re-checks the state, the call, the owner and
the lease inside Redis: a live router's reservation is never released.

A frozen router (SIGSTOP, a long pause) is not dead: it may wake and go on to send its redirect
for a reservation released meanwhile, moving a caller another router already connected. So a
router confirms its reservation right before the redirect (``confirm``): still this owner's, the
agent still reserved for that call, and the confirmation renews the lease, so no sweep can take
the reservation for a whole lease after it. The only window left is a router that freezes for
longer than a lease between the confirmation and writing the redirect to the AMI socket (no await
lies between them: a few microseconds of Python).
"""
from __future__ import annotations

import os
import secrets

from acd import protocol as p

LEASE_S = 5  # a router silent this long is taken for dead; renewed every RENEW_EVERY_S
RENEW_EVERY_S = 1

# KEYS: the agent hash, this owner's lease. ARGV: call, owner, lease seconds. 1 and the lease
# renewed when the agent is still reserved for that call by this owner.
_CONFIRM = """
if redis.call('HGET', KEYS[1], 'state') ~= 'reserved' then return 0 end
if redis.call('HGET', KEYS[1], 'call') ~= ARGV[1] then return 0 end
if (redis.call('HGET', KEYS[1], 'owner') or '') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3]))
return 1
"""

# KEYS: the agent hash, the owner's lease, the call hash, state-log stream, changes channel.
# ARGV: call, owner, now, agent change (published), ext, the change if the seat had a logout
# pending. The agent is released (reserved -> ready, as the state machine's "release"; logged out
# instead when a logout waits for the seat to be free, as acd/store.py's _CAS does) and the call
# waits again, only while the owner's lease is gone and the agent is still reserved for that call
# by that owner.
_RELEASE_ORPHAN = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'reserved' then return 0 end
if redis.call('HGET', KEYS[1], 'call') ~= ARGV[1] then return 0 end
if (redis.call('HGET', KEYS[1], 'owner') or '') ~= ARGV[2] then return 0 end
local state, reason, change = 'ready', '', ARGV[4]
if redis.call('HGET', KEYS[1], 'logout_pending') == '1' then
  state, reason, change = 'logged_out', 'logout_after_call', ARGV[6]
  redis.call('HDEL', KEYS[1], 'logout_pending')
end
redis.call('HSET', KEYS[1], 'state', state, 'reason', reason, 'since', ARGV[3], 'call', '')
if redis.call('HGET', KEYS[3], 'agent') == ARGV[5] then redis.call('HSET', KEYS[3], 'agent', '') end
redis.call('XADD', KEYS[4], '*', 'ext', ARGV[5], 'state', state, 'reason', reason, 'call', '', 'since', ARGV[3])
redis.call('PUBLISH', KEYS[5], change)
return 1
"""


def alive_key(owner: str) -> str:
    return f"acd:router-alive:{owner}"


def new_owner() -> str:
    """This router process's name in reservations: its pid (for people reading Redis) and a random
    part (a restarted router, or one on another host with the same pid, is another owner)."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


class Leases:
    def __init__(self, redis, owner: str, lease_s: int = LEASE_S):
        self.redis, self.owner, self.lease_s = redis, owner, lease_s
        self._confirm = redis.register_script(_CONFIRM)
        self._release = redis.register_script(_RELEASE_ORPHAN)

    async def renew(self) -> None:
        await self.redis.set(alive_key(self.owner), "1", ex=self.lease_s)

    async def confirm(self, ext: str, uid: str) -> bool:
        """Right before the redirect: is the agent still reserved for this call by us? Renews our lease."""
        return bool(await self._confirm(keys=[p.agent_key(ext), alive_key(self.owner)],
                                        args=[uid, self.owner, str(self.lease_s)]))

    async def orphans(self) -> list[tuple[str, str, str]]:
        """(agent, call, owner) of every reservation whose owner (another router) holds no lease."""
        exts = sorted(p.decode_hash({e: "" for e in await self.redis.smembers(p.AGENTS)}))
        if not exts:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for ext in exts:
                pipe.hmget(p.agent_key(ext), "state", "call", "owner")
            rows = await pipe.execute()
        reserved = []
        for ext, row in zip(exts, rows):
            state, call, owner = (p.as_text(v) if v is not None else "" for v in row)
            if state == "reserved" and call and owner and owner != self.owner:
                reserved.append((ext, call, owner))
        if not reserved:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for _, _, owner in reserved:
                pipe.exists(alive_key(owner))
            alive = await pipe.execute()
        return [found for found, live in zip(reserved, alive) if not live]

    async def release_orphan(self, ext: str, uid: str, owner: str, now: float) -> bool:
        """The agent back to ready and the call back to waiting, if still that dead owner's."""
        change = p.AgentChange(ext, "ready", "", "", now).to_json()
        instead = p.AgentChange(ext, "logged_out", "logout_after_call", "", now).to_json()
        keys = [p.agent_key(ext), alive_key(owner), p.call_key(uid), p.STATE_LOG, p.AGENT_CHANGES]
        return bool(await self._release(keys=keys, args=[uid, owner, repr(now), change, ext, instead]))
