"""Why an agent may look a customer up (issue 15, "Agents can read every customer").

A search or a profile is allowed only for a call the agent is handling or handled (the call id
is sent with it), or for a reason from a fixed list; a search without a call also needs a short
note saying whom it is for. Every look-up is audited, and look-ups are counted per agent per
clock hour so that they cannot be used to walk the customer base (by query, or by profile id).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from agent_desktop.errors import ApiError
from agent_desktop.screen_pop import agent_handled
from callcenter import audit
from callcenter.models import Call

#: a look-up without a call: calling a customer back, working their order, following up a complaint
REASONS = ("callback", "work_order", "complaint_followup")
NOTE_LIMIT = 120  # a line saying whom the look-up is for ("asked for a call back about bill 2611")
# searches, and profiles other than the call's own customer's: an unknown caller takes a search and
# a profile or two, so 60 is a busy hour of them; far fewer than a walk of the base
LOOKUPS_PER_HOUR = 60
HOUR_S = 3600
clock = time.time  # which hour a search counts in; a test pins it so that no hour ends mid-test


@dataclass(frozen=True)
class Grant:
    """What allowed one look-up: the agent's call, or a reason (with its note)."""
    call_id: str = ""
    call_customer: int | None = None  # the customer the call was identified as (caller ID or keyed number)
    verified: bool = False  # the caller gave that customer's service password on the call
    reason: str = ""
    note: str = ""

    def describe(self) -> str:
        """The audit row's detail: which call, or which reason and note (the note as typed, bounded)."""
        if self.call_id:
            return f"call {self.call_id}"
        return f"reason {self.reason}" + (f"; note {self.note}" if self.note else "")

    def verified_for(self, customer_id: int) -> bool:
        """Whether the caller on this call proved to be this customer (the menu's service password).
        A reason is not a caller, so a look-up for a reason is not limited by it."""
        if self.call_id:
            return self.verified and self.call_customer == customer_id
        return True


def note_field(value) -> str:
    """A short free text: printable characters only (a line feed would split the audit line)."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > NOTE_LIMIT or any(not c.isprintable() for c in value):
        raise ApiError("BAD_LOOKUP_NOTE", limit=NOTE_LIMIT)
    return value.strip()


def grant(s, redis, ext: str, args, call_id_check, note_required: bool) -> Grant:
    """The look-up's permission from the request's `call`, or `reason` and `note`; refusals:
    LOOKUP_REASON_REQUIRED (neither), BAD_LOOKUP_REASON, BAD_LOOKUP_NOTE, NOT_YOUR_CALL."""
    call_arg, reason, note = args.get("call"), args.get("reason"), note_field(args.get("note"))
    if call_arg:
        uniqueid = call_id_check(call_arg)
        if not agent_handled(s, redis, ext, uniqueid):
            raise ApiError("NOT_YOUR_CALL", 403)
        call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
        if call is None:
            return Grant(call_id=uniqueid)
        return Grant(call_id=uniqueid, call_customer=call.customer_id, verified=bool(call.password_verified))
    if not reason:
        raise ApiError("LOOKUP_REASON_REQUIRED", 403, choices=", ".join(REASONS))
    if reason not in REASONS:
        raise ApiError("BAD_LOOKUP_REASON", choices=", ".join(REASONS))
    if note_required and not note:
        raise ApiError("LOOKUP_NOTE_REQUIRED", limit=NOTE_LIMIT)
    return Grant(reason=reason, note=note)


def count_lookup(redis, username: str, now: float | None = None) -> None:
    """One more look-up this clock hour for this agent; refused past LOOKUPS_PER_HOUR (429).
    A fixed window in Redis, shared by every web worker; the key expires with its hour."""
    hour = int((clock() if now is None else now) // HOUR_S)
    key = f"desk:lookups:{username}:{hour}"
    used = int(redis.incr(key))
    if used == 1:
        redis.expire(key, HOUR_S)
    if used > LOOKUPS_PER_HOUR:
        raise ApiError("RATE_LIMITED", 429, limit=LOOKUPS_PER_HOUR)


def record(sessions, username: str, action: str, target: str, g: Grant) -> None:
    audit.write(sessions, username, action, target, g.describe())
