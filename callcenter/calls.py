"""The call ledger: one row per call, written idempotently from several processes.

The IVR and the CDR listener both touch a call's row (the IVR knows the customer, the CDR
listener knows when it started and ended). Each write is "create if missing, then set these
fields", so events may arrive in any order or twice and the row ends the same.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callcenter.models import Call

# fields that, once set, a later event may not overwrite (the first report wins)
WRITE_ONCE = {"started_at", "answered_at", "ended_at", "end_reason", "end_detail", "queued_at"}


def utc_from_epoch(value: str | float | None) -> datetime:
    if value in (None, ""):
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(float(value), tz=timezone.utc)


def fit(column, value):
    """A string cut to its column's length: SQLite keeps any length, PostgreSQL refuses the write,
    and a caller chooses how long their number and name are."""
    length = getattr(column.type, "length", None)
    return value[:length] if isinstance(value, str) and length else value


def upsert_call(session: Session, uniqueid: str, **fields) -> Call:
    """Create the call row if missing, then apply fields (write-once fields keep their first value;
    strings are cut to their column's length)."""
    call = session.scalar(select(Call).where(Call.uniqueid == uniqueid))
    if call is None:
        try:
            with session.begin_nested():
                call = Call(uniqueid=uniqueid, started_at=fields.get("started_at") or datetime.now(timezone.utc))
                session.add(call)
        except IntegrityError:  # another process created it first
            call = session.scalar(select(Call).where(Call.uniqueid == uniqueid))
    for name, value in fields.items():
        if value is None:
            continue
        if name in WRITE_ONCE and getattr(call, name) is not None:
            continue
        if name == "stage" and call.ended_at is not None and "ended_at" not in fields:
            continue  # the stage of a live call: an event that arrives after the end (late, replayed) is history
        setattr(call, name, fit(Call.__table__.c[name], value))
    return call


def open_calls(session: Session) -> list[Call]:
    return list(session.scalars(select(Call).where(Call.ended_at.is_(None))))


def summary(session: Session, limit: int = 8) -> dict:
    total = session.scalar(select(func.count()).select_from(Call)) or 0
    in_progress = session.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) or 0
    rows = session.scalars(select(Call).order_by(Call.started_at.desc()).limit(limit))
    recent = [
        {"uniqueid": c.uniqueid, "started_at": f"{c.started_at:%Y-%m-%d %H:%M:%S}", "caller_number": c.caller_number,
         "access_number": c.access_number, "stage": c.stage, "end_reason": c.end_reason,
         "end_detail": c.end_detail}
        for c in rows
    ]
    return {"total": total, "in_progress": in_progress, "recent": recent}
