"""100 concurrent reservers against one Redis: our Lua reservation vs optimistic WATCH/MULTI.

Each round puts 200 ready agents and 400 waiting calls in a fresh Redis; 100 asyncio reservers
(each with its own connection) keep trying to take a random ready agent for a random unserved
call until no agent is left. Afterwards every agent and call is checked: an agent holding two
calls, or a call held by two agents, is a double assignment. Starts its own redis-server on a
free loopback port. Prints a JSON object: double_assignments, lua_per_s, watch_per_s, p99_ms
(per Lua reservation attempt), watch_p99_ms.

    python bench/reservation.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import socket
import subprocess
import tempfile
import time

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from acd import protocol as p
from acd.store import RESERVED, Store

AGENTS, CALLS, RESERVERS = 200, 400, 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def fill(r: aioredis.Redis) -> None:
    await r.flushdb()
    pipe = r.pipeline()
    for a in range(AGENTS):
        pipe.hset(p.agent_key(str(a)), mapping={"state": "ready", "call": ""})
    for c in range(CALLS):
        pipe.hset(p.call_key(str(c)), mapping={"agent": ""})
    await pipe.execute()


async def reserve_lua(store: Store, agent: int, call: int) -> bool:
    return await store.reserve(str(agent), str(call), 0.0) == RESERVED


async def reserve_watch(r, agent: int, call: int) -> bool:
    akey, ckey = p.agent_key(str(agent)), p.call_key(str(call))
    async with r.pipeline(transaction=True) as pipe:
        try:
            await pipe.watch(akey, ckey)
            if (await pipe.hget(akey, "state")) != b"ready" or (await pipe.hget(ckey, "agent")) not in (b"", None):
                await pipe.unwatch()
                return False
            pipe.multi()
            pipe.hset(akey, mapping={"state": "reserved", "call": str(call)})
            pipe.hset(ckey, "agent", str(agent))
            await pipe.execute()
            return True
        except WatchError:
            return False


async def round_(url: str, use_lua: bool, seed: int) -> tuple[int, int, list[float], float]:
    admin = aioredis.from_url(url)
    await fill(admin)
    clients = [aioredis.from_url(url) for _ in range(RESERVERS)]
    stores = [Store(c) for c in clients]
    rng = random.Random(seed)
    latencies: list[float] = []
    taken = 0
    free_agents, free_calls = set(range(AGENTS)), set(range(CALLS))

    async def reserver(i: int) -> None:
        nonlocal taken
        while free_agents:
            agent = rng.choice(tuple(free_agents))
            call = rng.choice(tuple(free_calls))
            start = time.perf_counter()
            ok = await (reserve_lua(stores[i], agent, call) if use_lua
                        else reserve_watch(clients[i], agent, call))
            latencies.append(time.perf_counter() - start)
            if ok:
                taken += 1
                free_agents.discard(agent)
                free_calls.discard(call)
            await asyncio.sleep(0)

    start = time.perf_counter()
    await asyncio.gather(*(reserver(i) for i in range(RESERVERS)))
    elapsed = time.perf_counter() - start
    # audit: each call held by at most one agent, each agent holding at most one call, both sides agree
    double = 0
    holders: dict[bytes, int] = {}
    for a in range(AGENTS):
        data = await admin.hgetall(p.agent_key(str(a)))
        if data[b"state"] == b"reserved":
            holders[data[b"call"]] = holders.get(data[b"call"], 0) + 1
    double += sum(n - 1 for n in holders.values() if n > 1)
    for c in range(CALLS):
        agent = await admin.hget(p.call_key(str(c)), "agent")
        if agent and (await admin.hget(p.agent_key(str(int(agent))), "call")) != str(c).encode():
            double += 1
    for c in clients + [admin]:
        await c.aclose()
    return double, len(latencies), latencies, elapsed


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.99 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    data_dir = tempfile.mkdtemp()
    server = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", data_dir],
                              stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        url = f"redis://127.0.0.1:{port}/0"
        totals = {True: [0, 0, [], 0.0], False: [0, 0, [], 0.0]}
        for r in range(args.rounds):
            for use_lua in (True, False):  # side by side, alternating
                double, attempts, lat, elapsed = asyncio.run(round_(url, use_lua, seed=r))
                t = totals[use_lua]
                t[0] += double
                t[1] += attempts
                t[2] += lat
                t[3] += elapsed
        lua, watch = totals[True], totals[False]
        print(json.dumps({
            "reservers": RESERVERS, "agents": AGENTS, "calls": CALLS, "rounds": args.rounds,
            "double_assignments": lua[0], "watch_double_assignments": watch[0],
            "lua_per_s": round(lua[1] / lua[3]), "watch_per_s": round(watch[1] / watch[3]),
            "p99_ms": round(p99(lua[2]) * 1000, 2), "watch_p99_ms": round(p99(watch[2]) * 1000, 2),
        }))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
