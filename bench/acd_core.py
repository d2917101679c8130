"""Time per routing decision of the pure core, on a large floor and a small one.

Steady state: N agents spread over 20 skills (each agent holds 3 skills, levels 1-5), 10,000
calls waiting. Each step: one decision (with its reason text), the call leaves, the agent is
freed again and a new call arrives, so the floor keeps its size. Prints a JSON object with
agents, skills, waiting, decisions_per_s, p99_us and growth_50_to_2000 (mean time per decision at
2000 agents over the mean at 50).

    python bench/acd_core.py [--decisions 20000]
"""
from __future__ import annotations

import argparse
import json
import random
import time

from acd.core import Dispatcher

SKILLS = [f"skill{i:02d}" for i in range(20)]


def build(agents: int, waiting: int, rng: random.Random) -> Dispatcher:
    d = Dispatcher()
    for a in range(agents):
        d.set_agent(f"a{a}", {s: rng.randint(1, 5) for s in rng.sample(SKILLS, 3)})
        d.agent_idle(f"a{a}", rng.uniform(0, 100))
    for c in range(waiting):
        d.add_call(f"w{c}", rng.choice(SKILLS), rng.uniform(0, 100), vip=rng.random() < 0.05)
    return d


def measure(agents: int, waiting: int, decisions: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    d = build(agents, waiting, rng)
    # agents are all busy but one at a time: each step frees one agent, so each decision searches a
    # full queue set for the call that agent's skills can serve
    for a in range(agents):
        d.agent_busy(f"a{a}")
    times = []
    now = 200.0
    for i in range(decisions):
        agent = f"a{rng.randrange(agents)}"
        d.agent_idle(agent, now)
        d.add_call(f"n{i}", rng.choice(SKILLS), now)
        start = time.perf_counter()
        decision = d.next_decision(now)
        if decision is not None:
            d.commit(decision)
            d.remove_call(decision.call_id)
        times.append(time.perf_counter() - start)
        now += 0.01
    return times


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=20000)
    parser.add_argument("--waiting", type=int, default=10000)
    args = parser.parse_args()
    small = measure(50, args.waiting, args.decisions)
    large = measure(2000, args.waiting, args.decisions)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    print(json.dumps({
        "agents": 2000, "skills": len(SKILLS), "waiting": args.waiting,
        "decisions_per_s": round(1 / mean(large)),
        "p50_us": round(p(large, 0.5) * 1e6, 1),
        "p99_us": round(p(large, 0.99) * 1e6, 1),
        "p99_us_50_agents": round(p(small, 0.99) * 1e6, 1),
        "growth_50_to_2000": round(mean(large) / mean(small), 2),
    }))


if __name__ == "__main__":
    main()
