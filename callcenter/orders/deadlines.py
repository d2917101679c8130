"""Reply and resolve deadlines (pure): per order type and priority, on the business calendar.

The defaults are each type's own (types.py) scaled by priority; ``<home>/work_orders.toml``,
read at every use so a change applies to the next order, overrides them:

    warn_fraction = 0.2        # "near" once only this share of the allowed time is left
    close_after = "3d"         # a resolved order nobody confirms closes after this
    [priority_factor]          # the default times scaled: urgent a quarter, high half ...
    urgent = 0.25
    [deadlines.complaint]      # one type, every priority (scaled by the factor)
    reply = "24h"
    resolve = "15d"
    [deadlines.complaint.urgent]   # one type at one priority, exactly
    reply = "2h"

Durations are business time: "90m", "4h", "15d" (a day is one opening of the office).
An order's deadlines are fixed when it is opened (or reopened, or re-prioritised) and stored
on it, so a flag is a comparison with the clock and the wallboard's count is one query.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from callcenter.orders.calendar import BusinessCalendar, _aware
from callcenter.orders.types import CODES, PRIORITIES, TYPES

DURATION = re.compile(r"([0-9]{1,5})([mhd])")
FACTORS = {"urgent": 0.25, "high": 0.5, "normal": 1.0, "low": 1.5}
OK, NEAR, OVERDUE = "ok", "near", "overdue"
FLAGS = (OK, NEAR, OVERDUE)


class PolicyError(ValueError):
    """work_orders.toml is malformed; the message names the key."""


@dataclass(frozen=True)
class Span:
    """An amount of business time: minutes, hours, or business days (openings)."""
    amount: int
    unit: str  # m h d

    @classmethod
    def parse(cls, text, where: str) -> "Span":
        found = DURATION.fullmatch(text) if isinstance(text, str) else None
        if found is None:
            raise PolicyError(f"{where}: {text!r} is not a duration such as 90m, 4h or 15d")
        return cls(int(found.group(1)), found.group(2))

    def length(self, calendar: BusinessCalendar, factor: float = 1.0) -> timedelta:
        unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": calendar.day_length}[self.unit]
        return timedelta(seconds=round((unit * self.amount).total_seconds() * factor))


@dataclass(frozen=True)
class Deadlines:
    reply_due: datetime
    reply_warn: datetime
    resolve_due: datetime
    resolve_warn: datetime


@dataclass(frozen=True)
class Policy:
    warn_fraction: float = 0.2
    close_after: Span = Span(3, "d")
    factors: dict[str, float] = field(default_factory=lambda: dict(FACTORS))
    # (type, priority or None) -> {"reply": Span, "resolve": Span}
    overrides: dict[tuple[str, str | None], dict[str, Span]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: dict, where: str = "work_orders.toml") -> "Policy":
        warn = data.get("warn_fraction", 0.2)
        if not isinstance(warn, (int, float)) or isinstance(warn, bool) or not 0 <= warn < 1:
            raise PolicyError(f"{where} warn_fraction: a number from 0 up to (not including) 1")
        factors = dict(FACTORS)
        for name, value in data.get("priority_factor", {}).items():
            if name not in PRIORITIES or not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise PolicyError(f"{where} priority_factor.{name}: a priority ({', '.join(PRIORITIES)}) "
                                  "with a positive number")
            factors[name] = float(value)
        overrides: dict[tuple[str, str | None], dict[str, Span]] = {}
        for code, spec in data.get("deadlines", {}).items():
            if code not in TYPES or not isinstance(spec, dict):
                raise PolicyError(f"{where} deadlines.{code}: not an order type ({', '.join(CODES)})")
            overrides[(code, None)] = _spans(spec, f"{where} deadlines.{code}", nested=True)
            for priority, sub in spec.items():
                if isinstance(sub, dict):
                    if priority not in PRIORITIES:
                        raise PolicyError(f"{where} deadlines.{code}.{priority}: not a priority")
                    overrides[(code, priority)] = _spans(sub, f"{where} deadlines.{code}.{priority}")
        return cls(float(warn), Span.parse(data.get("close_after", "3d"), f"{where} close_after"), factors, overrides)

    @classmethod
    def load(cls, path: Path) -> "Policy":
        if not path.exists():
            return cls()
        try:
            return cls.from_mapping(tomllib.loads(path.read_text()), str(path))
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path}: {exc}") from None

    def allowed(self, code: str, priority: str, which: str, calendar: BusinessCalendar) -> timedelta:
        """How much business time an order of this type and priority has to reply / resolve."""
        exact = self.overrides.get((code, priority), {}).get(which)
        if exact is not None:
            return exact.length(calendar)
        base = self.overrides.get((code, None), {}).get(which) or Span.parse(getattr(TYPES[code], which), code)
        return base.length(calendar, self.factors[priority])

    def deadlines(self, code: str, priority: str, start: datetime, calendar: BusinessCalendar) -> Deadlines:
        reply, resolve = (self.allowed(code, priority, w, calendar) for w in ("reply", "resolve"))
        keep = 1 - self.warn_fraction
        return Deadlines(calendar.add(start, reply), calendar.add(start, reply * keep),
                         calendar.add(start, resolve), calendar.add(start, resolve * keep))

    def close_due(self, resolved_at: datetime, calendar: BusinessCalendar) -> datetime:
        return calendar.add(resolved_at, self.close_after.length(calendar))


def _spans(spec: dict, where: str, nested: bool = False) -> dict[str, Span]:
    spans = {}
    for key, value in spec.items():
        if key in ("reply", "resolve"):
            spans[key] = Span.parse(value, f"{where}.{key}")
        elif not (nested and isinstance(value, dict)):
            raise PolicyError(f"{where}: unknown key {key!r} (reply, resolve, or a priority's table)")
    return spans


def flag(now: datetime, due: datetime | None, warn: datetime | None, done: bool) -> str | None:
    """ok / near / overdue for one deadline; None once met (``done``) or if the order has none."""
    if done or due is None:
        return None
    now = _aware(now)
    if now >= _aware(due):
        return OVERDUE
    if warn is not None and now >= _aware(warn):
        return NEAR
    return OK


def worst(*flags: str | None) -> str | None:
    present = [f for f in flags if f is not None]
    return max(present, key=FLAGS.index) if present else None


def resumed(calendar: BusinessCalendar, paused_at: datetime, now: datetime, due: datetime | None) -> datetime | None:
    """A deadline after the clock stood still from ``paused_at`` (waiting for the customer) until
    ``now``: the business time that was left at the pause is left again from now."""
    if due is None or _aware(due) <= _aware(paused_at):
        return due
    return calendar.add(now, calendar.between(paused_at, due))


def policy_file(home: Path) -> Path:
    return home / "work_orders.toml"


def order_flags(now: datetime, *, reply_due, reply_warn, resolve_due, resolve_warn, replied: bool, paused: bool,
                open_: bool) -> dict[str, str | None]:
    """An order's flags: reply (until the first reply), resolve (standing still while it waits for
    the customer), and the worse of the two. Closed, resolved and cancelled orders have none."""
    reply = flag(now, reply_due, reply_warn, replied or not open_)
    resolve = flag(now, resolve_due, resolve_warn, paused or not open_)
    return {"reply": reply, "resolve": resolve, "worst": worst(reply, resolve)}


def escalation_level(flags: dict[str, str | None]) -> int:
    """0 nothing to tell, 1 near a deadline, 2 past one: the lead hears of each level once."""
    return {None: 0, OK: 0, NEAR: 1, OVERDUE: 2}[flags["worst"]]
