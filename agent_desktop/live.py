"""Reading the router's live state from the desktop, synchronously (redis-py, str responses).

The keys and the shapes are acd/protocol.py's; nothing here spells a key.
"""
from __future__ import annotations

from acd import protocol as p


def agent(redis, ext: str) -> p.AgentSnapshot:
    return p.AgentSnapshot.from_hash(ext, redis.hgetall(p.agent_key(ext)))


def agents(redis) -> dict[str, p.AgentSnapshot]:
    return {ext: agent(redis, ext) for ext in sorted(p.as_text(e) for e in redis.smembers(p.AGENTS))}


def call(redis, uniqueid: str) -> p.LiveCall | None:
    return p.LiveCall.from_hash(uniqueid, redis.hgetall(p.call_key(uniqueid)))


def calls(redis) -> dict[str, p.LiveCall]:
    found = {}
    for uid in (p.as_text(u) for u in redis.smembers(p.CALLS)):
        live_call = call(redis, uid)
        if live_call is not None:
            found[uid] = live_call
    return found


def current_call(redis, ext: str) -> str:
    """The call the agent is reserved for, ringing or talking on ("" if none)."""
    return p.as_text(redis.hget(p.agent_key(ext), "call"))


def talking_on(redis, ext: str, uniqueid: str) -> bool:
    """The agent is talking on this call now (the router's own_call asks the same of its state)."""
    seat = agent(redis, ext)
    return bool(uniqueid) and seat.state == "on_call" and seat.call == uniqueid
