"""The demo's stream of simulated callers (python -m callcenter.demo_calls).

Callers arrive at random (exponential gaps, mean CC_DEMO_GAP_S seconds, default 12), from demo
customers' numbers and now and then an unknown number, dial the hotline and stay on the line a
while. Demo agents' phones (1001-1004) are simulated phones that answer after a few seconds,
but for an agent a person took on a real phone (the desktop's softphone, a SIP phone).
"""
from __future__ import annotations

import asyncio
import logging
import os
import random

import redis.asyncio as aioredis

from acd.manager import AgentManager
from acd.protocol import AcdError
from acd.store import Store
from callcenter import ami
from callcenter.config import Settings
from callcenter.simulate import place_call, set_sim_phone
from callcenter.sip.phones import phone_key
from callcenter.runtime.files import owner_only

log = logging.getLogger("demo")

ACCESS_NUMBER = "10000"
DEMO_CALLERS = ["13800000001", "13800000002", "13800000003", "13800000004", "13800000005", "13900009999"]
DEMO_AGENTS = ["1001", "1002", "1003", "1004"]

# What demo callers key in (after the greeting): a bill query with the demo password, a fault
# report, their latest work order, business enquiry, an agent straight away, or nothing at all.
# 10000 is a seeded access number, so the recording notice (Mandarin then English, 8.0 s, keys
# not heard) comes first: the greeting's wait starts after it.
NOTICE = "w" * 17
GREETED = NOTICE + "w" * 10
DEMO_SCRIPTS = [
    GREETED + "1wwww123456" + "w" * 30 + "0w" * 12,
    GREETED + "3wwww2" + "w" * 20 + "0w" * 10,
    GREETED + "4wwww#" + "w" * 16 + "0w" * 10,
    GREETED + "5",
    GREETED + "0",
    "",
]


async def run(settings: Settings, mean_gap_s: float, rng: random.Random) -> None:
    manager = await ami.connect(settings)
    redis = aioredis.from_url(settings.effective_redis_url)
    agents = AgentManager.for_states(Store(redis))
    for ext in DEMO_AGENTS:
        if await redis.hget(phone_key(ext), "device"):  # a person took this agent, on a real phone
            continue
        await set_sim_phone(manager, ext, answer_after=rng.uniform(2, 5), talk_s=rng.uniform(8, 20))
        try:
            await agents.set_state(ext, "ready")
        except AcdError as exc:  # already on a call (the demo restarted): the router readies them after it
            log.info("demo agent %s: %s", ext, exc.message)
    while True:
        caller = rng.choice(DEMO_CALLERS)
        try:
            uniqueid = await place_call(manager, ACCESS_NUMBER, caller, dtmf=rng.choice(DEMO_SCRIPTS),
                                        hold_s=round(rng.uniform(15, 45)))
            log.info("demo call %s from %s", uniqueid, caller)
        except Exception as exc:  # Asterisk restarting: keep the stream going
            log.warning("demo call from %s not placed: %s", caller, exc)
        await asyncio.sleep(rng.expovariate(1 / mean_gap_s))


def main() -> None:
    owner_only()  # before any file is created: logs, secrets, the database (issue 15)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    gap = float(os.environ.get("CC_DEMO_GAP_S", "12"))
    asyncio.run(run(Settings.from_env(), gap, random.Random()))


if __name__ == "__main__":
    main()
