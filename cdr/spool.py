"""Call events kept while the database is unavailable, written when it is back (issue 15).

The CDR listener hears each call event once: an event whose write failed because the database
could not be reached (locked past its busy timeout, a PostgreSQL that went away) was lost, and so
was the call's record. Now every event goes through one writer, in order: written at once when the
database takes it, else appended to a spool file (one JSON object a line, flushed and fsync'd,
so a restart of the listener keeps it) and, from then on, every later event too, so the order
holds. Once a second the spool is written back, oldest first, and emptied when all of it is in.
Writes are idempotent (callcenter.calls.upsert_call: create if missing, write-once fields), so an
event written twice (the listener killed between a write and the spool's rewrite) changes nothing:
no record is lost, none doubled.

An event the database refuses for what it is (a bad value, not an outage) is logged and dropped,
as before: kept, it would block every record behind it for ever.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Callable

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

log = logging.getLogger("cdr.spool")

#: what a database that is down, locked or unreachable raises; anything else is the event's fault
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, ConnectionError)
RETRY_S = 1.0


class Spool:
    """Events not yet written, in a file, in order."""

    def __init__(self, path: Path):
        self.path = path

    def pending(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as f:
            return sum(1 for line in f if line.strip())

    def append(self, events: list[dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # call data: owner only
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            for event in events:
                f.write(json.dumps(event, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def replay(self, write: Callable[[dict], None]) -> bool:
        """Write the kept events in order; True when all are in (the spool is then empty). At the
        first outage the events not yet written are kept, and False."""
        if not self.path.exists():
            return True
        lines = [line for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for done, line in enumerate(lines):
            try:
                write(json.loads(line))
            except UNAVAILABLE:
                self._keep(lines[done:])
                return False
            except Exception:  # noqa: BLE001 - this event's own fault: dropped, the rest go on
                log.exception("spooled call event refused by the database; dropped: %s", line[:300])
        self.path.unlink(missing_ok=True)
        return True

    def _keep(self, lines: list[str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)


class RecordWriter:
    """The CDR listener's one writer: events in (submit, from the AMI callback), written in order
    in a worker thread, spooled while the database is unavailable. Run `run` supervised."""

    def __init__(self, write: Callable[[dict], None], spool: Spool, retry_s: float = RETRY_S):
        self.write = write
        self.spool = spool
        self.retry_s = retry_s
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self.spooled = 0  # events kept so far (for the log)
        self.writing = False  # an event taken from the queue is being written

    def submit(self, event: dict) -> None:
        self.queue.put_nowait(event)

    def _spool_queued(self, first: dict | None = None) -> None:
        events = ([first] if first is not None else []) + [self.queue.get_nowait() for _ in range(self.queue.qsize())]
        if events:
            self.spool.append(events)
            self.spooled += len(events)

    async def run(self) -> None:
        while True:
            if self.spool.pending():
                self._spool_queued()  # behind what is already kept: the order holds
                if await asyncio.to_thread(self.spool.replay, self.write):
                    log.warning("database back: the spooled call events are written")
                    continue
                await asyncio.sleep(self.retry_s)
                continue
            event = await self.queue.get()
            self.writing = True
            try:
                await asyncio.to_thread(self.write, event)
            except UNAVAILABLE as exc:
                log.warning("database unavailable (%s); call events are spooled in %s until it is back",
                            str(exc).splitlines()[0][:200], self.spool.path)
                self._spool_queued(event)
            except Exception:  # noqa: BLE001 - one bad event must not stop the ledger
                log.exception("could not record %s", event)
            finally:
                self.writing = False

    async def drained(self) -> None:
        """Until nothing waits to be written (the queue and the spool empty)."""
        while self.writing or self.spool.pending() or not self.queue.empty():
            await asyncio.sleep(0.2)
