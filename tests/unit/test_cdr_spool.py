"""Call events while the database is unavailable: kept in order, written when it is back, none
lost and none doubled (cdr/spool.py, issue 15). The database is a dict behind a switch that
raises what SQLAlchemy raises for a locked or unreachable database; the spool is a real file."""
from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy.exc import OperationalError

from cdr.spool import RecordWriter, Spool


class Ledger:
    """The calls table, by uniqueid, with write-once fields like callcenter.calls.upsert_call."""

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self.down = False
        self.writes: list[str] = []

    def write(self, event: dict) -> None:
        if self.down:
            raise OperationalError("UPDATE calls", {}, Exception("database is locked"))
        if event.get("bad"):
            raise ValueError("a value the database refuses")
        row = self.rows.setdefault(event["CallId"], {})
        for key, value in event.items():
            row.setdefault(key, value)
        self.writes.append(f"{event['CallId']}:{event['UserEvent']}")


async def settle(writer: RecordWriter, timeout: float = 5.0) -> None:
    await asyncio.wait_for(writer.drained(), timeout)


@pytest.fixture
async def world(tmp_path):
    ledger = Ledger()
    writer = RecordWriter(ledger.write, Spool(tmp_path / "run" / "cdr-spool.jsonl"), retry_s=0.01)
    task = asyncio.create_task(writer.run())
    yield ledger, writer
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def event(uid: str, name: str, **more) -> dict:
    return {"Event": "UserEvent", "UserEvent": name, "CallId": uid, **more}


async def test_events_during_an_outage_are_written_in_order_when_the_database_is_back(world):
    ledger, writer = world
    writer.submit(event("c1", "CallEntered"))
    await settle(writer)
    ledger.down = True
    for e in (event("c1", "CallEnded", Stage="waiting"), event("c2", "CallEntered"), event("c2", "CallQueued")):
        writer.submit(e)

    async def spooled():
        while writer.spool.pending() < 3:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(spooled(), 5)
    assert ledger.writes == ["c1:CallEntered"]
    kept = [json.loads(line) for line in writer.spool.path.read_text().splitlines()]
    assert [e["UserEvent"] for e in kept] == ["CallEnded", "CallEntered", "CallQueued"]
    assert oct(writer.spool.path.stat().st_mode & 0o777) == "0o600"  # call data: owner only
    writer.submit(event("c2", "CallEnded"))  # after the outage began: behind the spool, not before it
    ledger.down = False
    await settle(writer)
    assert ledger.writes == ["c1:CallEntered", "c1:CallEnded", "c2:CallEntered", "c2:CallQueued", "c2:CallEnded"]
    assert not writer.spool.path.exists()


async def test_a_spool_left_by_a_killed_listener_is_written_by_the_next_once(tmp_path):
    spool = Spool(tmp_path / "cdr-spool.jsonl")
    spool.append([event("c9", "CallEntered"), event("c9", "CallEnded")])
    ledger = Ledger()
    writer = RecordWriter(ledger.write, spool, retry_s=0.01)
    task = asyncio.create_task(writer.run())
    try:
        await settle(writer)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert ledger.writes == ["c9:CallEntered", "c9:CallEnded"]
    assert spool.pending() == 0


async def test_an_event_the_database_refuses_is_dropped_not_kept_for_ever(world):
    ledger, writer = world
    ledger.down = True
    writer.submit(event("c3", "CallEntered", bad=True))
    writer.submit(event("c3", "CallEnded"))

    async def both_spooled():
        while writer.spool.pending() < 2:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(both_spooled(), 5)
    ledger.down = False
    await settle(writer)
    assert ledger.writes == ["c3:CallEnded"]  # the bad one logged and dropped, the next one written
