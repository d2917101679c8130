"""How a call ended, as a stable code, from what the dialplan's hangup handler reports.

Pure: the CallEnded UserEvent fields in, a code out (tested as a table). Codes are what the
database stores and what every count (wallboard, reports) compares; people read them in words
through agent_desktop.i18n. The dialplan sets CC_STAGE as the call moves (entered, ivr,
agi_fail, waiting, connecting, held) and CC_END=agent only when the agent's side ended a
connected call; an empty CC_END means the caller's side went away first. Why the IVR failed,
when it did, is a separate detail (``end_detail``), not part of the reason.
"""
from __future__ import annotations

from enum import StrEnum


class EndReason(StrEnum):
    AGENT_HANGUP = "agent_hangup"
    CALLER_HANGUP = "caller_hangup"  # after talking to an agent
    IVR_ENDED = "ivr_ended"  # the menu finished the call (self-service done, closed hours)
    CALLBACK_REQUESTED = "callback_requested"
    ABANDONED_RINGING = "abandoned_ringing"  # the caller left while an agent's phone rang
    ABANDONED_WAITING = "abandoned_waiting"  # the caller left while queued
    HUNG_UP_ON_HOLD = "hung_up_on_hold"
    HUNG_UP_IN_IVR = "hung_up_in_ivr"
    HUNG_UP_BEFORE_QUEUE = "hung_up_before_queue"  # after the IVR failed, before the queue took it
    CALLBACK_NOT_ANSWERED = "callback_not_answered"  # a call back's try: the customer busy, not answering, unreachable
    LOST = "lost"  # channel gone without an end event (Asterisk restarted, or the event was missed)
    UNKNOWN = "unknown"  # a stage this table does not know


class EndDetail(StrEnum):
    IVR_UNREACHABLE = "ivr_unreachable"
    IVR_ERROR = "ivr_error"


#: every way a caller gave up after being offered to the queue: the wallboard's "abandoned"
ABANDONED = frozenset({EndReason.ABANDONED_WAITING, EndReason.ABANDONED_RINGING})

#: kept for cdr.listener's close_lost
LOST_REASON = EndReason.LOST


def is_abandoned(reason: str | None) -> bool:
    return reason in ABANDONED


def end_reason(stage: str, end: str, dial_status: str, fail_reason: str = "") -> EndReason:
    """fail_reason is accepted for the callers' convenience; it goes to end_detail, not here."""
    stage, end, dial_status = stage.strip(), end.strip(), dial_status.strip().upper()
    if end == "agent":
        return EndReason.AGENT_HANGUP
    if end == "ivr":
        return EndReason.IVR_ENDED
    if end == "callback":
        return EndReason.CALLBACK_REQUESTED
    if stage == "connecting" and dial_status == "ANSWER":
        return EndReason.CALLER_HANGUP
    if stage == "connecting":
        return EndReason.ABANDONED_RINGING
    if stage == "held":
        return EndReason.HUNG_UP_ON_HOLD
    if stage == "waiting":
        return EndReason.ABANDONED_WAITING
    if stage in ("entered", "ivr"):
        return EndReason.HUNG_UP_IN_IVR
    if stage == "agi_fail":
        return EndReason.HUNG_UP_BEFORE_QUEUE
    return EndReason.UNKNOWN


def end_detail(fail_reason: str) -> EndDetail | None:
    """The IVR failure the dialplan reported (CC_FAIL_REASON), if it is one we know."""
    try:
        return EndDetail(fail_reason.strip())
    except ValueError:
        return None
