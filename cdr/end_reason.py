"""How a call ended, in words a manager reads, from what the dialplan's hangup handler reports.

Pure: the CallEnded UserEvent fields in, a short reason out (tested as a table).
The dialplan sets CC_STAGE as the call moves (entered, ivr, agi_fail, waiting, connecting) and
CC_END=agent only when the agent's side ended a connected call; an empty CC_END means the
caller's side went away first.
"""
from __future__ import annotations

IVR_FAILURES = {"ivr_unreachable": "IVR unreachable", "ivr_error": "IVR error"}


def end_reason(stage: str, end: str, dial_status: str, fail_reason: str = "") -> str:
    stage, end, dial_status = stage.strip(), end.strip(), dial_status.strip().upper()
    if end == "agent":
        reason = "agent hung up"
    elif end == "ivr":
        reason = "ended by ivr"
    elif end == "callback":
        reason = "caller asked for a call back"
    elif stage == "connecting" and dial_status == "ANSWER":
        reason = "caller hung up"
    elif stage == "connecting":
        reason = "caller abandoned while agent phone rang"
    elif stage == "held":
        reason = "caller hung up on hold"
    elif stage == "waiting":
        reason = "caller abandoned while waiting"
    elif stage in ("entered", "ivr"):
        reason = "caller hung up in ivr"
    elif stage == "agi_fail":
        reason = "caller hung up before queueing"
    else:
        reason = f"ended in stage {stage or 'unknown'}"
    if fail_reason in IVR_FAILURES:
        reason += f" ({IVR_FAILURES[fail_reason]})"
    return reason


#: a call left open when its channel no longer exists (Asterisk restarted, or we missed the end)
LOST_REASON = "lost: channel gone without an end event"
