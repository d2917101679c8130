"""Discrete-event simulation of one skill group, routed by the real decision core.

Calls arrive as a Poisson process, handle times are exponential, and (with a patience) each
caller gives up after an exponential time unless answered first. Every routing choice is made
by acd.core.Dispatcher, the same code that routes live calls.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import asdict, dataclass

from acd.core import Dispatcher

SKILL = "general"


@dataclass(frozen=True)
class Result:
    calls: int
    p_wait: float
    asa_s: float
    service_level: float
    abandon_rate: float
    occupancy: float


def simulate(agents: int, calls_per_hour: float, aht_s: float, threshold_s: float, calls: int,
             seed: int = 1, patience_s: float | None = None) -> Result:
    rng = random.Random(seed)
    lam, mu = calls_per_hour / 3600.0, 1.0 / aht_s
    dispatcher = Dispatcher()
    for a in range(agents):
        dispatcher.set_agent(f"a{a}", {SKILL: 1})
        dispatcher.agent_idle(f"a{a}", 0.0)
    events: list = []  # (time, kind, id)
    arrived_at: dict[str, float] = {}
    waited = answered = answered_in_t = abandoned = 0
    wait_sum = busy_time = 0.0
    now, arrivals, n = 0.0, 0, 0
    heapq.heappush(events, (rng.expovariate(lam), 0, "arrival"))
    warmup = calls // 20  # let the queue fill before counting
    counted = lambda call_id: int(call_id[1:]) >= warmup  # noqa: E731
    first_counted_at = None

    def route(t: float) -> None:
        nonlocal answered, answered_in_t, wait_sum, busy_time
        while (decision := dispatcher.next_decision(t, explain=False)) is not None:
            dispatcher.commit(decision)
            dispatcher.remove_call(decision.call_id)
            wait = t - arrived_at.pop(decision.call_id)
            handle = rng.expovariate(mu)
            if counted(decision.call_id):
                answered += 1
                wait_sum += wait
                answered_in_t += wait <= threshold_s
                busy_time += handle
            heapq.heappush(events, (t + handle, 2, decision.agent_id))

    while events:
        now, kind, ident = heapq.heappop(events)
        if kind == 0:  # arrival
            if arrivals < calls:
                call_id = f"c{arrivals}"
                arrivals += 1
                if arrivals - 1 == warmup:
                    first_counted_at = now
                arrived_at[call_id] = now
                if not dispatcher.idle_agents(SKILL) and counted(call_id):
                    waited += 1  # every agent busy: this caller waits
                dispatcher.add_call(call_id, SKILL, now)
                if patience_s:
                    heapq.heappush(events, (now + rng.expovariate(1.0 / patience_s), 1, call_id))
                heapq.heappush(events, (now + rng.expovariate(lam), 0, "arrival"))
                route(now)
        elif kind == 1:  # a waiting caller gives up
            if ident in arrived_at:
                del arrived_at[ident]
                dispatcher.remove_call(ident)
                abandoned += counted(ident)
        else:  # an agent finished a call
            dispatcher.agent_idle(ident, now)
            route(now)
    offered = calls - warmup
    span = now - (first_counted_at or 0.0)
    return Result(calls=offered, p_wait=waited / offered, asa_s=wait_sum / max(answered, 1),
                  service_level=answered_in_t / offered, abandon_rate=abandoned / offered,
                  occupancy=min(1.0, busy_time / (agents * span)) if span > 0 else 0.0)


def as_dict(result: Result) -> dict:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(result).items()}
