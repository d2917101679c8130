"""Interim router: longest-idle agent first, one queue, so the demo's calls reach agents.

This is the foundation's stand-in for the skill-based ACD (issue 4 replaces it with the pure
decision core, skills, levels, VIP and transfer priority, overflow and callbacks). It already
keeps the parts that must not change:
- callers wait inside Asterisk (cc-wait); the router only moves them with AMI Redirect;
- live state is in Redis, and taking an agent for a call is one Lua script, so two routers never
  give one agent two calls;
- a call that was not answered goes back to the head of the queue (its first queue time is kept).

Redis keys (prefix ``acd:``): ``ready`` zset agent -> ready-since; ``waiting`` zset uniqueid ->
first queued time; ``call:<uniqueid>`` hash (channel, agent); ``agent:<ext>`` hash (call).
"""
from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis

from callcenter import dialplan

log = logging.getLogger("acd.interim")

# Take the longest-idle ready agent and the longest-waiting call together, or nothing.
RESERVE = """
local agent = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
local call = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if not agent or not call then return nil end
redis.call('ZREM', KEYS[1], agent)
redis.call('ZREM', KEYS[2], call)
redis.call('HSET', 'acd:call:' .. call, 'agent', agent)
redis.call('HSET', 'acd:agent:' .. agent, 'call', call)
return {agent, call}
"""


async def make_ready(redis: aioredis.Redis, extension: str, now: float | None = None) -> None:
    """Put an agent in the ready set (the demo's agents; the desktop does it in issue 5)."""
    await redis.delete(f"acd:agent:{extension}")
    await redis.zadd("acd:ready", {extension: now if now is not None else time.time()}, nx=True)


class InterimRouter:
    def __init__(self, redis: aioredis.Redis, manager, clock=time.time):
        self.redis = redis
        self.manager = manager
        self.clock = clock
        self.reserve = redis.register_script(RESERVE)

    async def agent_ready(self, extension: str) -> None:
        await make_ready(self.redis, extension, self.clock())
        await self.route()

    async def call_queued(self, uniqueid: str, channel: str) -> None:
        await self.redis.hset(f"acd:call:{uniqueid}", mapping={"channel": channel, "agent": ""})
        await self.redis.zadd("acd:waiting", {uniqueid: self.clock()}, nx=True)  # nx: a return keeps its place
        await self.route()

    async def route(self) -> None:
        while True:
            pair = await self.reserve(keys=["acd:ready", "acd:waiting"])
            if not pair:
                return
            agent, uniqueid = (v.decode() if isinstance(v, bytes) else v for v in pair)
            channel = await self.redis.hget(f"acd:call:{uniqueid}", "channel")
            channel = channel.decode() if isinstance(channel, bytes) else channel
            try:
                await self.connect(channel, agent)
                log.info("call %s -> agent %s (longest idle)", uniqueid, agent)
            except Exception as exc:
                log.warning("could not connect %s to %s (%s); agent back to ready", uniqueid, agent, exc)
                await self.agent_ready(agent)

    async def connect(self, channel: str, agent: str) -> None:
        await self.manager.send_action({"Action": "Setvar", "Channel": channel,
                                        "Variable": dialplan.AGENT_EXT, "Value": agent})
        reply = await self.manager.send_action({"Action": "Redirect", "Channel": channel,
                                                "Context": dialplan.CONNECT, "Exten": "s", "Priority": "1"})
        if reply.get("Response") != "Success":
            raise RuntimeError(reply.get("Message"))

    async def no_answer(self, uniqueid: str, agent: str) -> None:
        # The agent stays out of ready (issue 4: Not ready, reason "no answer"); the caller's
        # CallQueued that follows puts the call back at its old place.
        await self.redis.delete(f"acd:agent:{agent}")

    async def call_ended(self, uniqueid: str) -> None:
        agent = await self.redis.hget(f"acd:call:{uniqueid}", "agent")
        await self.redis.zrem("acd:waiting", uniqueid)
        await self.redis.delete(f"acd:call:{uniqueid}")
        if agent:
            await self.agent_ready(agent.decode() if isinstance(agent, bytes) else agent)


async def run(settings) -> None:
    from callcenter import ami

    redis = aioredis.from_url(settings.effective_redis_url)
    manager = await ami.connect(settings)
    router = InterimRouter(redis, manager)
    handlers = {
        dialplan.EV_CALL_QUEUED: lambda e: router.call_queued(e["CallId"], e["Channel"]),
        dialplan.EV_AGENT_NO_ANSWER: lambda e: router.no_answer(e["CallId"], e.get("Agent", "")),
        dialplan.EV_CALL_ENDED: lambda e: router.call_ended(e["CallId"]),
    }

    def on_user_event(_manager, event):
        handler = handlers.get(event.get("UserEvent"))
        return handler(event) if handler else None

    manager.register_event("UserEvent", on_user_event)
    log.info("interim router running")
    while True:  # agents made ready by the desktop/demo are picked up here too
        await router.route()
        await asyncio.sleep(1)
