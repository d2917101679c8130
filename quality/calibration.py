"""Calibration: several inspectors score the same call blind; how far apart they are, per item and
in total. Pure. An item's spread is the largest answer less the smallest, as a share of its range
(0: all agree, 1: one said yes and another no); the total's spread is in points. The reference
answer of an item is the answer most inspectors gave (ties: the lower, the stricter reading)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import mean, pstdev

from quality.scorecards import Scorecard


@dataclass(frozen=True)
class Spread:
    item: str  # an item code, or "total"
    low: float
    high: float
    spread: float  # high - low, over the item's range (items) or in points (total)
    stdev: float


def spreads(card: Scorecard, answers: list[dict[str, int]], totals: list[float]) -> list[Spread]:
    """One row per item, in the card's order, then the total; empty with fewer than two scores."""
    if len(answers) < 2:
        return []
    rows = []
    for item in card.items:
        values = [a[item.code] for a in answers]
        rows.append(Spread(item.code, min(values), max(values), round((max(values) - min(values)) / item.scale_max, 4),
                           round(pstdev(values) / item.scale_max, 4)))
    rows.append(Spread("total", min(totals), max(totals), round(max(totals) - min(totals), 1), round(pstdev(totals), 2)))
    return rows


def reference(card: Scorecard, answers: list[dict[str, int]]) -> dict[str, int]:
    """The answers the calibration settles on: each item's most common answer (ties: the lower)."""
    out = {}
    for item in card.items:
        counts = Counter(a[item.code] for a in answers)
        best = max(counts.values())
        out[item.code] = min(v for v, n in counts.items() if n == best)
    return out


def mean_total(totals: list[float]) -> float | None:
    return round(mean(totals), 1) if totals else None
