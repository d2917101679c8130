"""The router ends a wrap-up at its own time (a timer per agent), not at the next one-second tick,
and follows a supervisor's extension."""
from __future__ import annotations

import asyncio
import time

from acd.protocol import AgentChange, AgentSnapshot
from acd.router import Router
from tests.unit.fakes import FakeStore, make_router


def wrapping_up(until: float) -> tuple[Router, FakeStore]:
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "wrapup", wrapup_until=until)})
    router = make_router(store, skills={"1001": {"billing": 3}})
    router.on_agent_change(AgentChange("1001", "wrapup", "", "", time.time()))
    return router, store


async def test_wrap_up_ends_when_its_time_is_up_without_a_tick():
    router, store = wrapping_up(time.time() + 0.05)
    assert store.live_agents["1001"].state == "wrapup"
    await asyncio.wait_for(router._wrapup_timers["1001"], 5)
    assert store.live_agents["1001"].state == "ready"
    assert "1001" not in router.in_wrapup


async def test_an_extended_wrap_up_waits_for_the_new_end():
    first_end = time.time() + 0.05
    router, store = wrapping_up(first_end)
    extended = time.time() + 2.0
    await store.set_wrapup_until("1001", extended)  # a supervisor extends it
    while time.time() < first_end + 0.1:  # past the first end; the new one is still ~1.8 s away
        await asyncio.sleep(0.01)
    assert store.live_agents["1001"].state == "wrapup"
    await asyncio.wait_for(router._wrapup_timers["1001"], 5)
    assert store.live_agents["1001"].state == "ready" and store.live_agents["1001"].since >= extended


async def test_a_wrap_up_ended_early_by_the_agent_is_left_alone():
    router, store = wrapping_up(time.time() + 0.1)
    await store.transition("1001", "not_ready", time.time(), reason="break")  # the agent chose not ready
    await asyncio.wait_for(router._wrapup_timers["1001"], 5)
    assert store.live_agents["1001"].state == "not_ready"
