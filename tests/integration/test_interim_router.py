"""A waiting caller reaches a ready (simulated) agent phone through the interim router, and the
ledger records the answer and who ended the call."""
import asyncio

import redis.asyncio as aioredis

from acd.interim_router import make_ready
from callcenter.simulate import place_call, set_sim_phone
from tests.integration.test_hotline_call import ACCESS, UNKNOWN_TO_AGENT, ended_row
from tests.integration.conftest import wait_until


async def test_waiting_caller_is_connected_to_the_longest_idle_agent(stack, ami, sessions):
    redis = aioredis.from_url(stack.effective_redis_url)
    # callers of earlier tests may still be waiting; the first ready agent would get them
    for _ in range(150):
        if await redis.zcard("acd:waiting") == 0:
            break
        await asyncio.sleep(0.2)
    assert await redis.zcard("acd:waiting") == 0
    await set_sim_phone(ami, "1001", answer_after=1, talk_s=3)
    await set_sim_phone(ami, "1002", answer_after=1, talk_s=3)
    await make_ready(redis, "1002", now=1000.0)  # idle since long ago: chosen first
    await make_ready(redis, "1001", now=2000.0)
    try:
        uniqueid = await place_call(ami, ACCESS, "13800000201", dtmf=UNKNOWN_TO_AGENT, hold_s=40)
        events = ami.events
        ringing = await events.wait_for(Event="UserEvent", UserEvent="AgentRinging", CallId=uniqueid, timeout=30)
        assert ringing["Agent"] == "1002"
        await events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uniqueid)
        ended = await events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uniqueid)
        assert ended["End"] == "agent" and ended["DialStatus"] == "ANSWER"
        row = await wait_until(ended_row(sessions, uniqueid), what="call row closed")
        assert row.end_reason == "agent hung up" and row.answered_at is not None
        assert row.answered_at < row.ended_at
        # the agent is ready again after the call, behind the one who idled longer
        assert [m.decode() for m in await redis.zrange("acd:ready", 0, -1)] == ["1001", "1002"]
    finally:
        await redis.delete("acd:ready")
        await redis.aclose()
