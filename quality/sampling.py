"""Which calls go to the inspectors' work list, and why. Pure: rows in, picks out.

Rules, each a reason code kept on the entry (the page words them):
- ``random``: a share of each agent's answered calls of the week, drawn with a generator seeded
  by (seed, week, agent), so the same seed, week and calls give the same draw on any machine.
- ``complaint_order``: a complaint work order was opened on the call.
- ``low_survey``: the caller's survey answer is one of the low ones (quality.toml).
- ``repeat_call``: the same number called the center again within repeat_hours of this call
  (the agent's call may not have solved it).
- ``transfer``: the call was transferred.
- ``long_hold``: the caller was held longer than hold_over_s at once (one hold, not the sum).
- ``callback``: a caller left the queue for a call back (key 1 while waiting) and an agent called
  them back: the agent's call back is inspected.
Only calls an agent answered are inspected (there is nothing else to score).
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from quality.config import Sampling

REASONS = ("random", "complaint_order", "low_survey", "repeat_call", "transfer", "long_hold", "callback")


@dataclass(frozen=True)
class SampleCall:
    uniqueid: str
    agent: str  # the extension that answered it
    caller_number: str
    started_at: datetime
    hold_s: float = 0.0  # the longest single hold
    transferred: bool = False
    complaint_order: bool = False
    survey_answer: int | None = None
    callback: bool = False


@dataclass(frozen=True)
class Pick:
    uniqueid: str
    agent: str
    reasons: tuple[str, ...] = field(default=())


def random_share(calls: list[SampleCall], rules: Sampling, week: str) -> set[str]:
    """Per agent, ceil(share x their calls) of them, drawn from their calls in uniqueid order."""
    by_agent: dict[str, list[str]] = defaultdict(list)
    for c in calls:
        by_agent[c.agent].append(c.uniqueid)
    chosen = set()
    for agent, ids in sorted(by_agent.items()):
        ids.sort()
        k = min(len(ids), math.ceil(rules.share * len(ids)))
        chosen |= set(random.Random(f"{rules.seed}|{week}|{agent}").sample(ids, k))
    return chosen


def repeats(calls: list[SampleCall], later: list[tuple[str, datetime]], hours: int) -> set[str]:
    """Calls whose number called again within `hours` after them (`later`: every call's number and
    start, the week's and the days after)."""
    window = timedelta(hours=hours)
    starts: dict[str, list[datetime]] = defaultdict(list)
    for number, at in later:
        if number:
            starts[number].append(at)
    return {c.uniqueid for c in calls if c.caller_number
            and any(c.started_at < at <= c.started_at + window for at in starts.get(c.caller_number, ()))}


def pick(calls: list[SampleCall], later: list[tuple[str, datetime]], rules: Sampling, week: str) -> list[Pick]:
    drawn = random_share(calls, rules, week)
    repeated = repeats(calls, later, rules.repeat_hours)
    picks = []
    for c in sorted(calls, key=lambda c: (c.started_at, c.uniqueid)):
        reasons = [r for r, hit in (
            ("random", c.uniqueid in drawn),
            ("complaint_order", c.complaint_order),
            ("low_survey", c.survey_answer in rules.low_survey),
            ("repeat_call", c.uniqueid in repeated),
            ("transfer", c.transferred),
            ("long_hold", c.hold_s > rules.hold_over_s),
            ("callback", c.callback)) if hit]
        if reasons:
            picks.append(Pick(c.uniqueid, c.agent, tuple(reasons)))
    return picks


def share_out(picks: list[Pick], inspectors: list[str], load: dict[str, int]) -> dict[str, str]:
    """Each pick to one inspector: the one with the fewest open entries first (ties: by name), so
    lists stay even. `load`: each inspector's open entries now."""
    if not inspectors:
        return {}
    load = {i: load.get(i, 0) for i in inspectors}
    out = {}
    for p in picks:
        who = min(sorted(load), key=lambda i: load[i])
        out[p.uniqueid] = who
        load[who] += 1
    return out
