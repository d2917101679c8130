"""Staffing forecast: agents needed per interval of the day for a service-level target, by
Erlang C, or Erlang A when callers' patience is given (acd.erlang). Pure.

The load of an interval comes from history: the mean number of calls offered in that interval
of the day over the days looked back (a day with no calls counts as zero calls, not as missing),
and the mean handle time of the calls handled in it (the whole history's when the interval has
none). Agents are the fewest who meet the target; occupancy and the expected service level and
ASA are those of that many agents. "Agents" are agents on the phones: add shrinkage (breaks,
training) on top to get people on the roster.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from acd.erlang import figures
from cdr.call_facts import CallFact
from cdr.periods import SIZES, Period, utc

MAX_AGENTS = 2000


@dataclass(frozen=True)
class Target:
    service_level: float = 0.8  # share of calls ...
    threshold_s: float = 20.0  # ... answered within this
    patience_s: float | None = None  # mean patience: Erlang A; None: Erlang C (nobody gives up)


@dataclass(frozen=True)
class Slot:
    label: str  # the interval's start on the center's clock, "08:30"
    calls: float  # expected calls offered in the interval
    aht_s: float


@dataclass(frozen=True)
class Need:
    label: str
    calls: float
    aht_s: float
    agents: int
    service_level: float | None
    asa_s: float | None
    occupancy: float | None
    abandon_rate: float | None

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def agents_needed(calls_per_hour: float, aht_s: float, target: Target) -> tuple[int, object | None]:
    """The fewest agents meeting the target, and their figures (None for no calls)."""
    if calls_per_hour <= 0:
        return 0, None
    if aht_s <= 0:
        raise ValueError("handle time must be positive")
    load = calls_per_hour * aht_s / 3600.0
    # a start no answer lies below: without abandonment the load must be below the agents; with it,
    # agents answer at most c*mu calls a second, so a share s answered needs c >= s * load
    agents = max(1, math.floor(load) + 1) if target.patience_s is None else max(1, math.floor(target.service_level * load))
    while agents <= MAX_AGENTS:
        found = figures(agents, calls_per_hour, aht_s, target.threshold_s, target.patience_s)
        if found.service_level >= target.service_level:
            return agents, found
        agents += 1
    raise ValueError(f"more than {MAX_AGENTS} agents would be needed")


def forecast(slots: list[Slot], minutes: int, target: Target) -> list[Need]:
    out = []
    for slot in slots:
        agents, found = agents_needed(slot.calls * 60.0 / minutes, slot.aht_s, target)
        out.append(Need(slot.label, slot.calls, slot.aht_s, agents,
                        found.service_level if found else None, found.asa_s if found else None,
                        found.occupancy if found else None,
                        found.abandon_rate if found and target.patience_s else None))  # Erlang C: nobody gives up
    return out


def slots_from_history(facts: list[CallFact], history: Period, size: str, default_aht_s: float = 180.0) -> list[Slot]:
    """Every interval of the day (15min, 30min or hour), with its mean calls per day over the
    history's days and its mean handle time."""
    minutes = SIZES[size]
    if not minutes:
        raise ValueError("a forecast is per 15min, 30min or hour")
    days = max(1, round((utc(history.end) - utc(history.start)) / timedelta(days=1)))
    counts: dict[str, int] = defaultdict(int)
    handle: dict[str, list[timedelta]] = defaultdict(list)
    for fact in facts:
        if not fact.offered or not (utc(history.start) <= utc(fact.at) < utc(history.end)):
            continue
        local = utc(fact.at).astimezone(history.zone)
        label = f"{local.hour:02d}:{local.minute - local.minute % minutes:02d}"
        counts[label] += 1
        if fact.agents:
            handle[label].append(fact.handle())
    every = [h for hs in handle.values() for h in hs]
    overall = (sum(every, timedelta(0)) / len(every)).total_seconds() if every else default_aht_s
    out = []
    for start in range(0, 24 * 60, minutes):
        label = f"{start // 60:02d}:{start % 60:02d}"
        mine = handle.get(label)
        aht = (sum(mine, timedelta(0)) / len(mine)).total_seconds() if mine else overall
        out.append(Slot(label, counts.get(label, 0) / days, aht or default_aht_s))
    return out
