"""System availability from the supervisor's health log (callcenter.runtime.health_log): the
time every service was up, over the time the log covers, within a period. Pure.

The center is up at a moment when a supervisor is running (its last line is at most
``ALIVE_EVERY_S + GRACE_S`` old, and it has not written "stop") and every service it started
is up. Time before the first "start" in the log is not observed (a new installation is not
"down" for the years before it existed); time after a "stop", or after a supervisor fell silent,
is observed and down: callers could not reach the hotline then.
"""
from __future__ import annotations

from dataclasses import dataclass

from callcenter.runtime.health_log import ALIVE_EVERY_S

GRACE_S = 30.0
SILENT_AFTER_S = ALIVE_EVERY_S + GRACE_S


@dataclass(frozen=True)
class Availability:
    up_s: float
    observed_s: float

    @property
    def ratio(self) -> float | None:
        """None when nothing of the period was observed: not available, never 100 % or 0 %."""
        return self.up_s / self.observed_s if self.observed_s > 0 else None


def _overlap(a: float, b: float, start: float, end: float) -> float:
    return max(0.0, min(b, end) - max(a, start))


def availability(entries: list[dict], start: float, end: float, now: float) -> Availability:
    """entries: the health log's lines (any order); [start, end) in POSIX seconds, cut at now."""
    end = min(end, now)
    entries = sorted(entries, key=lambda e: e["at"])
    first = next((e["at"] for e in entries if e["event"] == "start"), None)
    if first is None or end <= start:
        return Availability(0.0, 0.0)
    up_s = 0.0
    running = False  # a supervisor is running
    states: dict[str, bool] = {}
    heard = first  # the supervisor's last line
    for i, entry in enumerate(entries):
        event, at = entry["event"], entry["at"]
        if event == "start":
            running, states, heard = True, {name: False for name in entry.get("services", [])}, at
        elif not running:
            continue  # a stray line after a stop
        elif event == "stop":
            running = False
        elif event == "health" and entry.get("service") in states:
            states[entry["service"]], heard = bool(entry.get("up")), at
        elif event in ("alive", "health"):
            heard = at
        if running and states and all(states.values()):
            following = entries[i + 1]["at"] if i + 1 < len(entries) else end
            up_s += _overlap(at, min(following, heard + SILENT_AFTER_S), start, end)
    observed = _overlap(first, end, start, end)
    return Availability(up_s, observed)
