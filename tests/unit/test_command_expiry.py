"""A desktop command nobody waits for any more is dropped, not applied late (scale-out, issue 15):
a router that popped it and then froze or stalled must not carry it out when it wakes, after the
desktop told its user ROUTER_UNAVAILABLE (and another router could have served the retry)."""
from __future__ import annotations

import asyncio
import json

from acd import commands
from acd.protocol import COMMANDS, reply_key
from agent_desktop.acd_client import RouterClient


class ListRedis:
    """The three list verbs serve() and RouterClient use, in memory."""

    def __init__(self):
        self.lists: dict[str, list[str]] = {}
        self.pushed = asyncio.Condition()  # notified on every push: blpop and the test wait on it

    async def blpop(self, key, timeout=0):
        async with self.pushed:
            try:
                await asyncio.wait_for(self.pushed.wait_for(lambda: self.lists.get(key)), timeout or None)
            except asyncio.TimeoutError:
                return None
            return key, self.lists[key].pop(0)

    async def rpush(self, key, value):
        async with self.pushed:
            self.lists.setdefault(key, []).append(value)
            self.pushed.notify_all()

    async def expire(self, key, seconds):
        pass


def test_only_a_command_past_its_clients_wait_is_expired():
    assert commands.expired({"expires_at": 99.5}, now=100.0)
    assert not commands.expired({"expires_at": 100.5}, now=100.0)
    assert not commands.expired({}, now=100.0)  # an older client: served as before
    assert not commands.expired({"expires_at": True}, now=100.0) and not commands.expired({"expires_at": "1"}, 100.0)


async def test_the_router_answers_a_fresh_command_and_drops_an_expired_one():
    redis = ListRedis()
    for command_id, expires in (("late", 99.0), ("fresh", 101.0)):
        await redis.rpush(COMMANDS, json.dumps({"id": command_id, "op": "nothing", "expires_at": expires}))
    router = asyncio.ensure_future(commands.serve(redis, manager=None, clock=lambda: 100.0))
    try:
        async with redis.pushed:  # until the fresh command's reply is pushed
            await asyncio.wait_for(redis.pushed.wait_for(lambda: redis.lists.get(reply_key("fresh"))), 5)
    finally:
        router.cancel()
    assert json.loads(redis.lists[reply_key("fresh")][0])["code"] == "UNKNOWN_COMMAND"
    assert reply_key("late") not in redis.lists


def test_the_desktop_says_until_when_it_waits():
    sent: list[str] = []

    class Sync:
        def rpush(self, key, value):
            sent.append(value)

        def blpop(self, key, timeout):
            return key, json.dumps({"ok": True})

    RouterClient(Sync(), timeout_s=5.0).send("state", ext="1001", to="ready")
    command = json.loads(sent[0])
    assert command["op"] == "state" and isinstance(command["expires_at"], float)
    assert not commands.expired(command, command["expires_at"] - 4.0) and commands.expired(command, command["expires_at"] + 0.1)
