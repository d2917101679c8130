"""Business hours and holidays of the hotline, from ``<home>/business_hours.toml``.

Read at every use, so operators edit the file while the center runs. The voice menu asks it
whether to offer agents or a call back; the router asks it before dialling call backs.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_HOURS = """# Business hours of the hotline, read at every call (edit while running).
timezone = "Asia/Shanghai"
open = "00:00"
close = "24:00"
holidays = []   # e.g. ["2026-10-01", "2026-10-02"]: closed all day

# The back office's week, for work-order deadlines (callcenter/orders/calendar.py); all optional
# [back_office]
# workdays = [1, 2, 3, 4, 5]        # ISO weekdays, Monday 1 .. Sunday 7
# extra_workdays = ["2026-10-10"]   # a weekend day worked instead of a holiday
# open = "09:00"                    # its own hours, if not the hotline's
# close = "18:00"
"""


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    open: time
    close: time | None  # None: midnight at the end of the day
    holidays: frozenset[str]

    @classmethod
    def load(cls, path: Path) -> "BusinessHours":
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(DEFAULT_HOURS)
        data = tomllib.loads(path.read_text())
        close = data.get("close", "24:00")
        return cls(ZoneInfo(data.get("timezone", "Asia/Shanghai")), time.fromisoformat(data.get("open", "00:00")),
                   None if close == "24:00" else time.fromisoformat(close), frozenset(data.get("holidays", [])))

    def start_of_day(self, now: datetime) -> datetime:
        """Midnight of the center's own day (its time zone, not UTC) that ``now`` falls in:
        where "today" begins for wallboards and agents' figures."""
        local = now.astimezone(self.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        if local.date().isoformat() in self.holidays:
            return False
        return self.open <= local.time() and (self.close is None or local.time() < self.close)


def hours_file(home: Path) -> Path:
    return home / "business_hours.toml"


def start_of_today(home: Path, now: float) -> datetime:
    """Where the center's today began (UTC), for a POSIX time ``now``."""
    return BusinessHours.load(hours_file(home)).start_of_day(datetime.fromtimestamp(now, tz=timezone.utc))
