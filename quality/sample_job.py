"""The week's quality sample drawn on a schedule (issue 13 follow-up), run supervised by the
desktop's push process beside the recordings' jobs; `callcenter quality sample` and the work
list's "Draw" button still draw by hand.

Once a week, on the first pass at or after quality.toml's ``[sampling] draw_weekday`` and
``draw_hour`` on the center's clock, the job draws ``draw_week`` ("previous": the last whole week,
the default; "current": the week so far; "off": never) with quality.worklist.draw, which shares
the picks out among the active inspectors, fewest open entries first (quality.sampling.share_out).
Fewest-open rather than round-robin: round-robin gives everyone the same number whatever they
still have open, so an inspector back from leave with a long list would fall further behind;
fewest-open evens the open work, and with even lists it is round-robin (ties go by name).

One pass is a plain function of (sessions, zone, rules, now, schedule): tests pass the time in
and never sleep. Idempotent: a week already drawn is remembered in the schedule (in memory), and
drawing it again (a restart, a second push process, the button) lists 0 calls, since a call
already listed stays where it is and the database keeps each call on one list only. With no
active inspector nothing is drawn: logged once, and tried again on the next pass.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from callcenter import audit, db
from callcenter.business_hours import BusinessHours, hours_file
from callcenter.config import Settings
from quality import config, worklist
from quality.config import Sampling

log = logging.getLogger("quality.sample_job")

EVERY_S = 60.0
ACTOR = "scheduler"  # the audit log's actor for the scheduled draw (the CLI's is "cli")


@dataclass
class Schedule:
    drawn: str | None = None  # the last week this process drew
    warned: str | None = None  # the last week "no inspector" was logged for (once, not every minute)


@dataclass(frozen=True)
class Drawn:
    week: str
    listed: int  # new entries (0: the week was already drawn)
    per_inspector: dict[str, int]


def due_week(now: datetime, zone: ZoneInfo, rules: Sampling) -> str | None:
    """The week to draw at ``now``, or None before this week's draw time (or when off)."""
    if rules.draw_week == "off":
        return None
    local = now.astimezone(zone)
    monday: date = local.date() - timedelta(days=local.weekday())
    at = datetime.combine(monday + timedelta(days=rules.draw_weekday - 1), time(rules.draw_hour), tzinfo=zone)
    if local < at:
        return None
    return worklist.week_of(monday - timedelta(days=7) if rules.draw_week == "previous" else monday)


def draw_pass(sessions, zone: ZoneInfo, rules: Sampling, now: datetime, schedule: Schedule) -> Drawn | None:
    """Draw the due week once; None when nothing was due, already drawn here, or nobody to list for."""
    week = due_week(now, zone, rules)
    if week is None or week == schedule.drawn:
        return None
    with sessions() as s:
        if not worklist.inspectors(s):
            if schedule.warned != week:
                log.warning("quality sample for %s not drawn: no active inspector (tried again each pass)", week)
                schedule.warned = week
            return None
        try:
            items = worklist.draw(s, week, zone, rules, now)
            s.commit()
        except IntegrityError:  # another process listed one of these calls first: the next pass draws again
            s.rollback()
            log.info("quality sample for %s: drawn elsewhere at the same time, tried again next pass", week)
            return None
        per_inspector: dict[str, int] = {}
        for item in items:
            per_inspector[item.inspector] = per_inspector.get(item.inspector, 0) + 1
    audit.write(sessions, ACTOR, "quality_sample", week, f"{len(items)} call(s) listed")
    schedule.drawn = week
    log.info("quality sample for %s: %d call(s) listed %s", week, len(items), dict(sorted(per_inspector.items())))
    return Drawn(week, len(items), dict(sorted(per_inspector.items())))


async def run(settings: Settings, schedule: Schedule | None = None, every_s: float = EVERY_S) -> None:
    """For ever (supervised: an exception, a bad quality.toml say, restarts it after a back-off).
    quality.toml and the business hours are read on each pass, so edits apply without a restart."""
    schedule = schedule or Schedule()
    sessions = db.session_factory(settings.database_url)
    while True:
        def once() -> Drawn | None:
            zone = BusinessHours.load(hours_file(settings.home)).zone
            return draw_pass(sessions, zone, config.load(settings.home).sampling, datetime.now(ZoneInfo("UTC")),
                             schedule)
        await asyncio.to_thread(once)
        await asyncio.sleep(every_s)
