"""psql-style tables for the report tests: rows in, written as people read them.

Times are the center's wall clock (Asia/Shanghai) on DAY, "+1 00:02:55" the day after; a blank
cell is None. Columns are whatever the table's header names.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from cdr.agent_time import StateRow
from cdr.call_facts import CallbackRow, CallRow, HoldRow, TransferRow

ZONE = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 23)


def at(text: str | None) -> datetime | None:
    """'08:00:10' or '+1 00:02:55' on the center's clock, as UTC."""
    if not text:
        return None
    days = 0
    if text.startswith("+"):
        offset, text = text.split(" ", 1)
        days = int(offset)
    local = datetime.combine(DAY + timedelta(days=days), time.fromisoformat(text), tzinfo=ZONE)
    return local.astimezone(timezone.utc)


def table(text: str) -> list[dict[str, str | None]]:
    lines = [line for line in text.strip().splitlines() if line.strip() and not set(line.strip()) <= set("-+|")]
    header = [h.strip() for h in lines[0].split("|")]
    return [{name: (cell.strip() or None) for name, cell in zip(header, line.split("|"))} for line in lines[1:]]


TIMES = {"started", "queued", "answered", "ended", "at"}


def _cells(row: dict) -> dict:
    return {k: at(v) if k in TIMES else v for k, v in row.items()}


def calls(text: str) -> list[CallRow]:
    out = []
    for r in map(_cells, table(text)):
        out.append(CallRow(r["uid"], r["started"], r.get("queued"), r.get("answered"), r.get("ended"),
                           r.get("reason"), r.get("skill"), r.get("access"), r.get("agent"), r.get("number")))
    return out


def states(text: str) -> list[StateRow]:
    return [StateRow(r["ext"], r["state"], r["at"], r.get("reason"), r.get("call"), seq)
            for seq, r in enumerate(map(_cells, table(text)))]


def holds(text: str) -> list[HoldRow]:
    return [HoldRow(r["call"], r["ext"], r["action"], r["at"]) for r in map(_cells, table(text))]


def transfers(text: str) -> list[TransferRow]:
    return [TransferRow(r["call"], r["from"], r["at"], r.get("to_skill"), r.get("to_agent"))
            for r in map(_cells, table(text))]


def callbacks(text: str) -> list[CallbackRow]:
    return [CallbackRow(r["call"], r["status"], r.get("reason") or "queue") for r in table(text)]
