"""Opening a work order: one way for the voice menu and the agent desktop alike.

The number is the month and the row id ("2611000042"), short enough to be spoken digit by digit.
(The back-office lifecycle of an order comes later.)
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from callcenter.models import WorkOrder

CATEGORIES = ("fault_phone", "fault_broadband", "billing", "complaint", "consult", "other")
PRIORITIES = ("low", "normal", "high", "urgent")
OPEN_STATUSES = ("open", "in_progress")


def open_work_order(s: Session, now: datetime, *, category: str, description: str,
                    customer_id: int | None = None, caller_number: str | None = None,
                    call_uniqueid: str | None = None, priority: str = "normal",
                    created_by: str | None = None) -> WorkOrder:
    """Add the order to the session, numbered; the caller commits."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
    order = WorkOrder(number="", customer_id=customer_id, caller_number=caller_number, category=category,
                      status="open", call_uniqueid=call_uniqueid, description=description[:500],
                      priority=priority, created_by=created_by, created_at=now, updated_at=now)
    s.add(order)
    s.flush()
    order.number = f"{now:%y%m}{order.id:06d}"
    return order
