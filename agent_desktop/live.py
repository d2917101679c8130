"""Reading the router's live state (acd/store.py's keys) from the desktop, synchronously."""
from __future__ import annotations


def agent(redis, ext: str) -> dict[str, str]:
    data = redis.hgetall(f"acd:agent:{ext}")
    data.setdefault("state", "logged_out")
    return data


def agents(redis) -> dict[str, dict[str, str]]:
    return {ext: agent(redis, ext) for ext in sorted(redis.smembers("acd:agents"))}


def call(redis, uniqueid: str) -> dict[str, str]:
    return redis.hgetall(f"acd:call:{uniqueid}")


def calls(redis) -> dict[str, dict[str, str]]:
    return {uid: call(redis, uid) for uid in redis.smembers("acd:calls")}
