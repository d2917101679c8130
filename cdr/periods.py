"""Report intervals in the center's time zone: 15 or 30 minutes, an hour, a day, or the whole
chosen period. Pure: aware datetimes and a ZoneInfo in, UTC edges out.

Edges are found on the center's wall clock and turned back into UTC, so "a day" is the
center's day (midnight in Asia/Shanghai is 16:00 UTC the day before), and a call at 23:59 local
time belongs to that local day. Where the zone has daylight saving, a day is 23 or 25 hours
long and its hours are what its wall clock shows (the repeated hour is one 2-hour interval).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

#: interval code -> minutes (None: a day / the whole period)
SIZES: dict[str, int | None] = {"15min": 15, "30min": 30, "hour": 60, "day": None, "period": None}


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, and the zone its intervals are cut in."""
    start: datetime
    end: datetime
    zone: ZoneInfo

    @classmethod
    def local_days(cls, first: date, last: date, zone: ZoneInfo) -> Period:
        """From the center's midnight starting ``first`` to the one ending ``last`` (inclusive)."""
        if last < first:
            raise ValueError("the period ends before it starts")
        return cls(local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone), zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def utc(value: datetime) -> datetime:
    """Naive datetimes from SQLite are UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def floor(at: datetime, zone: ZoneInfo, size: str) -> datetime:
    """The UTC start of the interval of this size holding ``at`` (for "period": not defined)."""
    local = utc(at).astimezone(zone)
    minutes = SIZES[size]
    if size == "day":
        return local_midnight(local.date(), zone)
    if minutes is None:
        raise ValueError("a period's single interval has no floor")
    wall = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    return wall.astimezone(timezone.utc)  # same zone and fold: the repeated hour stays apart


def edges(period: Period, size: str) -> list[datetime]:
    """Interval starts from the period's start, then the period's end: n intervals, n+1 edges.
    The first interval starts at the period's start even if that is not on an interval edge."""
    if size not in SIZES:
        raise ValueError(f"interval is one of {', '.join(SIZES)}, not {size!r}")
    if size == "period":
        return [period.start, period.end]
    out = [period.start]
    at = period.start
    while True:
        if size == "day":
            nxt = local_midnight(at.astimezone(period.zone).date() + timedelta(days=1), period.zone)
        else:  # next wall-clock edge after `at`, found by stepping a minute past this interval's floor
            step = floor(at, period.zone, size) + timedelta(minutes=SIZES[size])
            nxt = floor(step, period.zone, size)
            while nxt <= at:  # a wall clock turned back (daylight saving ended)
                step += timedelta(minutes=SIZES[size])
                nxt = floor(step, period.zone, size)
        if nxt >= period.end:
            out.append(period.end)
            return out
        out.append(nxt)
        at = nxt


def index(bounds: list[datetime], at: datetime) -> int | None:
    """Which interval of ``bounds`` (from edges) holds ``at``; None outside the period."""
    at = utc(at)
    if not bounds or at < bounds[0] or at >= bounds[-1]:
        return None
    lo, hi = 0, len(bounds) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if bounds[mid] <= at:
            lo = mid
        else:
            hi = mid
    return lo


def label(at: datetime, zone: ZoneInfo, size: str) -> str:
    """An interval's name on the center's clock: "2026-11-23" for a day, else "2026-11-23 08:30"."""
    local = utc(at).astimezone(zone)
    return f"{local:%Y-%m-%d}" if size == "day" else f"{local:%Y-%m-%d %H:%M}"
