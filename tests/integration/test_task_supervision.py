"""A Redis restart while the listeners run: agent changes published after it are still applied.

Each test starts its own redis-server (the binary `callcenter up` uses) on a free port, runs one
listener under callcenter.runtime.tasks.supervise, kills Redis, starts it again on the same port
and publishes a change: the supervised restart subscribed again, and a bad message before it was
skipped, not fatal. No full stack needed.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time

import pytest
import redis
import redis.asyncio as aioredis

from acd.protocol import AGENT_CHANGES
from acd.router import listen_for_changes
from agent_desktop.push import follow_agent_changes
from callcenter.runtime.tasks import Health, supervise

from tests.integration.conftest import free_port

CHANGES = AGENT_CHANGES


def wait_until(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what}: not met in {timeout:.0f} s")


async def eventually(predicate, timeout: float = 15.0, what: str = "condition"):
    return await asyncio.to_thread(wait_until, predicate, timeout, what)


class PrivateRedis:
    """A throw-away redis-server on one port, that can be killed and started again there."""

    def __init__(self, workdir):
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/setup.sh installs it)"
        self.argv = [binary, "--bind", "127.0.0.1", "--port", str(free_port()), "--save", "", "--appendonly", "no",
                     "--dir", str(workdir)]
        self.port = int(self.argv[4])
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=1, decode_responses=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers() -> bool:
            try:
                return self.client().ping()
            except redis.ConnectionError:
                return False
        wait_until(answers, what=f"redis-server on port {self.port} answers")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def subscribers(self) -> int:
        return self.client().pubsub_numsub(CHANGES)[0][1]


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()


class FakeRouter:
    """What listen_for_changes needs of the router; records the changes it is given."""

    def __init__(self):
        self.applied: list[str] = []
        self.resyncs = 0

    def on_agent_change(self, change) -> None:
        self.applied.append(change.ext)

    async def route(self) -> None:
        pass

    async def resync_agents(self) -> None:
        self.resyncs += 1  # after each subscribe: what was published in the gap is read from the store

    def reconfigure(self, queues, agents) -> None:
        pass


def change(ext: str) -> str:
    return json.dumps({"ext": ext, "state": "ready", "reason": "", "call": "", "since": time.time()})


def push_listener(server: PrivateRedis):
    applied: list[str] = []

    async def on_change(ext: str) -> None:
        applied.append(ext)
    return applied, lambda: follow_agent_changes(server.url, on_change)


def router_listener(server: PrivateRedis):
    router, client = FakeRouter(), aioredis.from_url(server.url)  # one client for ever, as acd/service.py has
    return router.applied, lambda: listen_for_changes(client, router, reload=lambda: ({}, {}))


@pytest.mark.parametrize("listener", [push_listener, router_listener], ids=["push", "router"])
async def test_agent_changes_after_a_redis_restart_are_applied(private_redis, listener, tmp_path):
    applied, factory = listener(private_redis)
    health = Health(tmp_path / "health.json")
    task = asyncio.create_task(supervise("agent-changes", factory, health=health, min_backoff=0.05,
                                         max_backoff=0.5))
    try:
        await eventually(lambda: private_redis.subscribers() == 1, what="subscribed")
        private_redis.client().publish(CHANGES, change("1901"))
        await eventually(lambda: applied == ["1901"], what="change before the restart applied")

        private_redis.kill()
        await eventually(lambda: health.down_tasks() == ["agent-changes"], what="listener shown down")
        private_redis.start()  # same port, nothing kept: the old subscription is gone with it
        await eventually(lambda: private_redis.subscribers() == 1, what="subscribed again")
        assert health.down_tasks() == [] and health.tasks["agent-changes"].restarts >= 1

        restarts = health.tasks["agent-changes"].restarts
        for bad in ("not json", json.dumps({"state": "ready"}), json.dumps(["1902"])):
            private_redis.client().publish(CHANGES, bad)
        private_redis.client().publish(CHANGES, change("1902"))
        await eventually(lambda: applied == ["1901", "1902"], what="change after the restart applied")
        assert health.tasks["agent-changes"].restarts == restarts  # the bad ones were skipped, not fatal
        assert private_redis.subscribers() == 1  # no subscription left behind by the failed run
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
