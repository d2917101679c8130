"""The recordings' scheduled work, run by the CDR listener's process (supervised, issue 11):

- every REGISTER_EVERY_S, the ended calls' recordings are registered once their files are closed
  (size, duration, SHA-256), or flagged when an answered call has no playable file;
- every CHECK_EVERY_S, every kept file is checked against its checksum and the recordings past
  their retention date (and not held) are removed, each removal in the audit log.

One pass is a plain function of (settings, now), also run by `callcenter recordings ...`; several
processes running it at once is harmless: a call's row is unique (a second insert fails and is
rolled back), a purge of a file already gone closes the row all the same.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError

from callcenter import db
from callcenter.config import Settings
from recordings import retention, store

log = logging.getLogger("recordings.job")

REGISTER_EVERY_S = 5.0
CHECK_EVERY_S = 3600.0


def register_pass(settings: Settings, now: datetime) -> int:
    rules = retention.load(settings.home)
    with db.session_factory(settings.database_url)() as s:
        try:
            written = store.register_pending(s, settings.recordings_dir, now, rules)
            s.commit()
        except IntegrityError:  # another process registered one of them first: the next pass sees it
            s.rollback()
            return 0
    return written


def verify_pass(settings: Settings, now: datetime) -> store.VerifyResult:
    with db.session_factory(settings.database_url)() as s:
        result = store.verify(s, settings.recordings_dir, now)
        s.commit()
    return result


def purge_pass(settings: Settings, now: datetime) -> list[str]:
    rules = retention.load(settings.home)
    with db.session_factory(settings.database_url)() as s:
        removed = store.purge(s, settings.recordings_dir, now, rules)
        s.commit()
    return removed


@dataclass
class Schedule:
    last_check: float = float("-inf")


async def run(settings: Settings, schedule: Schedule | None = None) -> None:
    """For ever (the caller supervises it: an exception restarts it after a back-off)."""
    schedule = schedule or Schedule()
    while True:
        now = datetime.now(timezone.utc)
        written = await asyncio.to_thread(register_pass, settings, now)
        if written:
            log.info("registered %d recording(s)", written)
        if time.monotonic() - schedule.last_check >= CHECK_EVERY_S:
            result = await asyncio.to_thread(verify_pass, settings, now)
            removed = await asyncio.to_thread(purge_pass, settings, now)
            schedule.last_check = time.monotonic()
            if result.flagged or removed:
                log.warning("recordings: %d flagged, %d purged", len(result.flagged), len(removed))
        await asyncio.sleep(REGISTER_EVERY_S)
