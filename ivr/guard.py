"""Limits on guessing the menu's secrets (the service password, a recharge card's PIN).

Every try is a row in ivr_attempts, written *before* the secret is checked ("pending") and
finished after it. A pending row counts as a failure, so calls trying in parallel see each
other's tries in flight, and the limits hold however many calls race (an insert cannot be lost
the way a read-modify-write counter can). Counts are read in the database, from every process.

The numbers are the operator's (:class:`Limits`); the reasons are codes (handoff reasons and
audit actions), worded for people at the edge.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from callcenter.models import IvrAttempt

PASSWORD, RECHARGE = "password", "recharge"
PENDING, OK, WRONG, USED, REFUSED = "pending", "ok", "wrong", "used", "refused"
FAILED = (PENDING, WRONG)


@dataclass(frozen=True)
class Limits:
    # the service password: the customer's lock (atomic counter on customers), and a throttle per
    # calling number that stops a caller trying other customers' passwords before any lock
    password_failures: int = 3  # wrong tries in a row lock the customer's password ...
    password_lock: timedelta = timedelta(minutes=30)  # ... for this long
    number_password_failures: int = 2  # a number's wrong tries on customers not its own: then throttled
    number_window: timedelta = timedelta(hours=1)
    # recharge cards: wrong PINs per card, per account, per calling number in a day lock that one
    card_failures: int = 3
    account_card_failures: int = 5
    number_card_failures: int = 5
    recharges_per_call: int = 3  # tries of any outcome
    recharges_per_day: int = 10  # tries of any outcome, per account and per calling number
    day: timedelta = timedelta(hours=24)


def start(s: Session, at: datetime, kind: str, call_uniqueid: str, caller_number: str, *,
          customer_id: int | None = None, account_id: int | None = None, card_id: int | None = None) -> int:
    """Record a try before its secret is checked; the caller commits. Returns its id."""
    row = IvrAttempt(at=at, kind=kind, outcome=PENDING, call_uniqueid=call_uniqueid[:64],
                     caller_number=caller_number[:20], customer_id=customer_id, account_id=account_id,
                     card_id=card_id)
    s.add(row)
    s.flush()
    return row.id


def finish(s: Session, attempt_id: int, outcome: str) -> None:
    s.execute(update(IvrAttempt).where(IvrAttempt.id == attempt_id).values(outcome=outcome))


def count(s: Session, kind: str, since: datetime, *, failed_only: bool = False, other_than: int | None = None,
          **where) -> int:
    """Tries of `kind` since `since` matching `where` (column=value); only failures (wrong or in
    flight) when failed_only; not counting the try `other_than`."""
    q = select(func.count()).select_from(IvrAttempt).where(IvrAttempt.kind == kind, IvrAttempt.at >= since)
    for column, value in where.items():
        q = q.where(getattr(IvrAttempt, column) == value)
    if failed_only:
        q = q.where(IvrAttempt.outcome.in_(FAILED))
    if other_than is not None:
        q = q.where(IvrAttempt.id != other_than)
    return s.scalar(q) or 0
