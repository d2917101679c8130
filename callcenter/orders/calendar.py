"""The business calendar that deadlines run on (pure once loaded).

Time counts only while the back office works: the hotline's hours from business_hours.toml
(``open``, ``close``; "24:00" is midnight), on its working weekdays, never on a holiday. The
hotline itself answers every day; the back office's week is the ``[back_office]`` table of the
same file (all optional):

    [back_office]
    workdays = [1, 2, 3, 4, 5]          # ISO weekdays: Monday 1 .. Sunday 7
    extra_workdays = ["2026-10-10"]     # a weekend worked in exchange for a holiday
    open = "09:00"                      # its own hours, if not the hotline's
    close = "18:00"

A business day is one opening period, so "15d" is fifteen openings, "24h" twenty-four open hours.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from callcenter.business_hours import BusinessHours

MAX_DAYS = 3660  # a walk longer than ten years means the calendar has no working time at all


class CalendarError(ValueError):
    """business_hours.toml describes no working time, or a value in it is malformed."""


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    open: time
    close: time | None  # None: midnight at the end of the day
    holidays: frozenset[str]
    workdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    extra_workdays: frozenset[str] = frozenset()

    def __post_init__(self):
        if self.close is not None and self.close <= self.open:
            raise CalendarError(f"business hours close ({self.close}) must be after open ({self.open})")
        if not self.workdays and not self.extra_workdays:
            raise CalendarError("the back office has no working day")

    @classmethod
    def load(cls, path: Path) -> "BusinessCalendar":
        hours = BusinessHours.load(path)
        office = tomllib.loads(path.read_text()).get("back_office", {})
        try:
            workdays = frozenset(int(d) for d in office.get("workdays", [1, 2, 3, 4, 5]))
            opens = time.fromisoformat(office["open"]) if "open" in office else hours.open
            close = office.get("close")
            closes = hours.close if close is None else None if close == "24:00" else time.fromisoformat(close)
        except (TypeError, ValueError) as exc:
            raise CalendarError(f"{path} [back_office]: {exc}") from None
        if not workdays <= set(range(1, 8)):
            raise CalendarError(f"{path} [back_office] workdays: ISO weekdays 1 (Monday) to 7 (Sunday)")
        return cls(hours.zone, opens, closes, hours.holidays, workdays,
                   frozenset(str(d) for d in office.get("extra_workdays", [])))

    # ---- days ----
    def is_workday(self, day: date) -> bool:
        if day.isoformat() in self.holidays:
            return False
        return day.isoweekday() in self.workdays or day.isoformat() in self.extra_workdays

    def opening(self, day: date) -> tuple[datetime, datetime]:
        """The day's open period, as aware UTC datetimes."""
        start = datetime.combine(day, self.open, self.zone)
        end = datetime.combine(day + timedelta(days=1), time(0), self.zone) if self.close is None \
            else datetime.combine(day, self.close, self.zone)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    @property
    def day_length(self) -> timedelta:
        """One business day: the length of an opening (time zone shifts aside)."""
        end = timedelta(hours=24) if self.close is None else timedelta(hours=self.close.hour, minutes=self.close.minute)
        return end - timedelta(hours=self.open.hour, minutes=self.open.minute)

    def _periods(self, start: datetime):
        """Open periods (UTC) from the one ``start`` falls in or the next, clipped to ``start``."""
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            if self.is_workday(day):
                begin, end = self.opening(day)
                if end > start:
                    yield max(begin, start), end
            day += timedelta(days=1)
        raise CalendarError(f"no working time within {MAX_DAYS} days of {start.isoformat()}")

    # ---- arithmetic ----
    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of business time after ``start`` (UTC). Zero from a closed
        moment is the next opening: a deadline never falls while the office is shut."""
        start = _aware(start)
        left = max(amount, timedelta(0))
        for begin, end in self._periods(start):
            if left <= end - begin:
                return begin + left
            left -= end - begin
        raise CalendarError("no working time")  # _periods raises first

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (zero if ``end`` is not later)."""
        start, end = _aware(start), _aware(end)
        total = timedelta(0)
        if end <= start:
            return total
        for begin, finish in self._periods(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time here is UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def calendar_file(home: Path) -> Path:
    return home / "business_hours.toml"
