"""Call-back requests that wait in the database until the center can dial them.

Three kinds wait here: a caller who rang out of hours and left a number (reason ``out_of_hours``),
a resolved work order's return visit, asking the customer whether it is fixed (``return_visit``,
with its order: callcenter.orders.store.return_visit),
and a call back whose customer did not answer (status ``no_answer``), tried again after
RETRY_AFTER_S, at most MAX_ATTEMPTS times in all. A waiting caller's own call back (reason
``queue``, status ``pending``) is not taken here: it is already in the live queue, in its place.

Only while the center is open (business_hours.toml) does the router take a due request: it
claims it with one UPDATE guarded by the status it read, so two routers never both queue it, and
queues it live as a call back with the time it was taken as its place. It therefore never
overtakes a live caller who was already waiting; the agent's phone rings first, then the
customer's (the same path as every call back).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update

from acd.core import GENERAL
from callcenter.callback_rules import CallbackRules
from callcenter.digits import is_digits
from callcenter.models import Call, CallbackRequest

log = logging.getLogger("acd.callbacks")

MAX_ATTEMPTS = 3
DIALLED_LATER = ("out_of_hours", "return_visit")  # pending requests this module dials
RETRY_AFTER_S = 600
NUMBER = re.compile(r"[0-9]{3,20}")  # what the dialplan dials (\d also takes '٣'); anything else is never queued


@dataclass(frozen=True)
class Due:
    request_id: int
    status: str  # as read: the claim only succeeds if it is still this
    uniqueid: str
    number: str
    skill: str


def due_requests(sessions, now: datetime) -> list[Due]:
    """Requests that may be dialled now, oldest first."""
    with sessions() as s:
        rows = s.execute(
            select(CallbackRequest, Call.skill)
            .outerjoin(Call, Call.uniqueid == CallbackRequest.call_uniqueid)
            .where(or_(and_(CallbackRequest.status == "pending", CallbackRequest.reason.in_(DIALLED_LATER)),
                       and_(CallbackRequest.status == "no_answer", CallbackRequest.attempts < MAX_ATTEMPTS,
                            or_(CallbackRequest.next_try_at.is_(None), CallbackRequest.next_try_at <= now))))
            .order_by(CallbackRequest.created_at, CallbackRequest.id)).all()
        return [Due(r.id, r.status, live_id(r), r.number, skill or GENERAL) for r, skill in rows]


def claim(sessions, due: Due, rules: CallbackRules | None = None) -> bool:
    """Mark the request queued if nobody else did first; a number that is not digits, or that the
    call-back rules (the dial plan as it is now) refuse, fails it for good."""
    rules = rules or CallbackRules()
    status = "queued" if NUMBER.fullmatch(due.number) and rules.dialable(due.number) is None else "failed"
    with sessions() as s:
        taken = s.execute(update(CallbackRequest)
                          .where(CallbackRequest.id == due.request_id, CallbackRequest.status == due.status)
                          .values(status=status)).rowcount
        s.commit()
    if taken and status == "failed":
        log.warning("call-back request %d: %s is not a number the rules let us call; marked failed",
                    due.request_id, due.number)
    return bool(taken) and status == "queued"


DIALLING = ("pending", "queued")  # a request being tried: a waiting caller's own, or one claimed


def record_outcome(sessions, uniqueid: str, answered: bool, now: datetime | None = None) -> str:
    """After a call back was dialled: done, or tried again later, or failed after the last try;
    "" when there is no such request or this try's outcome is recorded already. Every router
    hears the CallbackEnded, so the outcome is one UPDATE guarded by the status and attempts read
    (as claim): counted twice, a request would give up after fewer tries than MAX_ATTEMPTS."""
    now = now or datetime.now(timezone.utc)
    with sessions() as s:
        request = s.scalar(select(CallbackRequest).where(CallbackRequest.call_uniqueid == uniqueid))
        if request is None:
            request = s.get(CallbackRequest, _request_id(uniqueid))
        if request is None or request.status not in DIALLING:
            return ""
        values: dict = {"attempts": request.attempts + 1}
        if answered:
            values["status"] = "done"
        elif values["attempts"] < MAX_ATTEMPTS:
            values.update(status="no_answer", next_try_at=now + timedelta(seconds=RETRY_AFTER_S))
        else:
            values["status"] = "failed"
        taken = s.execute(update(CallbackRequest)
                          .where(CallbackRequest.id == request.id, CallbackRequest.status == request.status,
                                 CallbackRequest.attempts == request.attempts)
                          .values(**values)).rowcount
        s.commit()
        return values["status"] if taken else ""


def requeue_lost(sessions, live_uniqueids: set[str]) -> int:
    """At the router's start: requests marked queued that the live queue no longer holds (Redis
    was lost with them) are due again, without counting an attempt. Each is one UPDATE guarded by
    the status read (as claim): a call back another router closes meanwhile (done, or tried again
    later) keeps its outcome instead of being made due again. acd/service.py runs this under the
    floor's call-back lock, so no claim or close is half done while it looks."""
    with sessions() as s:
        lost = [r.id for r in s.scalars(select(CallbackRequest).where(CallbackRequest.status == "queued"))
                if live_id(r) not in live_uniqueids]
        made_due = sum(s.execute(update(CallbackRequest)
                                 .where(CallbackRequest.id == request_id, CallbackRequest.status == "queued")
                                 .values(status="no_answer", next_try_at=None)).rowcount
                       for request_id in lost)
        s.commit()
    return made_due


LIVE_PREFIX = "callback-request-"  # a request with no call of its own is known by its id in the live queue


def live_id(request: CallbackRequest) -> str:
    """The request's key in the live queue: its call's uniqueid, or LIVE_PREFIX + its id."""
    return request.call_uniqueid or f"{LIVE_PREFIX}{request.id}"


def _request_id(uniqueid: str) -> int:
    number = uniqueid[len(LIVE_PREFIX):]
    return int(number) if uniqueid.startswith(LIVE_PREFIX) and is_digits(number, 1, 18) else 0
