"""The router ends a wrap-up at its own time (a timer per agent), not at the next one-second tick,
and follows a supervisor's extension."""
from __future__ import annotations

import asyncio
import time

from acd.router import Queue, Router
from tests.unit.test_router_commands import FakeManager, FakeStore


def wrapping_up(until: float) -> tuple[Router, FakeStore]:
    store = FakeStore(agents={"1001": {"state": "wrapup", "wrapup_until": repr(until)}})
    router = Router(store, FakeManager(), {"billing": Queue("billing")}, {"1001": {"billing": 3}})
    router.on_agent_change({"ext": "1001", "state": "wrapup", "since": repr(time.time())})
    return router, store


async def test_wrap_up_ends_when_its_time_is_up_without_a_tick():
    router, store = wrapping_up(time.time() + 0.05)
    assert store.agents["1001"]["state"] == "wrapup"
    await asyncio.wait_for(router._wrapup_timers["1001"], 5)
    assert store.agents["1001"]["state"] == "ready"
    assert "1001" not in router.in_wrapup


async def test_an_extended_wrap_up_waits_for_the_new_end():
    router, store = wrapping_up(time.time() + 0.05)
    store.agents["1001"]["wrapup_until"] = repr(time.time() + 0.3)  # a supervisor extends it
    await asyncio.sleep(0.15)
    assert store.agents["1001"]["state"] == "wrapup"
    await asyncio.wait_for(router._wrapup_timers["1001"], 5)
    assert store.agents["1001"]["state"] == "ready"


async def test_a_wrap_up_ended_early_by_the_agent_is_left_alone():
    router, store = wrapping_up(time.time() + 0.1)
    store.agents["1001"]["state"] = "not_ready"  # the agent chose not ready during wrap-up
    await asyncio.wait_for(router._wrapup_timers["1001"], 5)
    assert store.agents["1001"]["state"] == "not_ready"
