"""Opening a work order: one way for the voice menu and the agent desktop alike.

The order's life (types, lifecycle, deadlines, groups, timeline) is callcenter.orders; this
module keeps the names the menu and the desktop have always imported.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from callcenter.models import WorkOrder
from callcenter.orders import lifecycle, store
from callcenter.orders.types import CODES, PRIORITIES

CATEGORIES = CODES  # the order types (callcenter.orders.types)
OPEN_STATUSES = lifecycle.OPEN
__all__ = ["CATEGORIES", "OPEN_STATUSES", "PRIORITIES", "open_order", "open_work_order"]


def open_order(s: Session, now: datetime, *, category: str, description: str, customer_id: int | None = None,
               caller_number: str | None = None, call_uniqueid: str | None = None, priority: str | None = None,
               created_by: str | None = None, fields: dict | None = None, password_verified: bool = False,
               home: Path | None = None) -> tuple[WorkOrder, bool]:
    """(order, repeat): the new order, added to the session, numbered, on its group's queue with its
    deadlines (on the calendar and policy of ``home``; the built-in ones without); or the open
    order this report repeats (repeat True). The caller commits. OrderError on a refusal."""
    rules = store.Rules.load(home) if home is not None else store.Rules.default()
    return store.create(s, now, rules, code=category, description=description[:store.DESCRIPTION_LIMIT],
                        fields=fields, customer_id=customer_id, caller_number=caller_number,
                        call_uniqueid=call_uniqueid, priority=priority, created_by=created_by,
                        password_verified=password_verified)


def open_work_order(s: Session, now: datetime, **kwargs) -> WorkOrder:
    """The order open_order gives, new or repeated."""
    return open_order(s, now, **kwargs)[0]
