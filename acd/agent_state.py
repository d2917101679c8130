"""The one authoritative agent state machine (pure).

    logged_out -login-> not_ready(reason "login")
    not_ready -ready-> ready -reserve-> reserved -ring-> ringing -answer-> on_call -hangup-> wrapup
    wrapup -ready (end of wrap-up, or the agent/supervisor ends it early)-> ready
    ringing -no_answer-> not_ready(reason "no_answer")  (or back to ready under the miss limit)
    ringing -no_answer-> not_ready(reason "phone_unregistered")  (the phone was not registered)
    ready -phone_lost-> not_ready(reason "phone_unregistered")
    reserved|ringing -release-> ready   (the caller went away before answering)
    any logged-in state -not_ready(reason)-> not_ready; -logout-> logged_out
    reserved|ringing|on_call -logout when free-> (the same state, marked): its next ready or not
        ready is logged_out instead, reason "logout_after_call" (acd/store.py; issue 15: an agent
        deactivated on a call is logged out when it ends and never offered another)

An agent in several queues has this one state. Every change is recorded with its time by the
router (AgentStateLog), so the time in each state adds up to the logged-in time exactly.
"""
from __future__ import annotations

LOGGED_OUT, READY, NOT_READY = "logged_out", "ready", "not_ready"
RESERVED, RINGING, ON_CALL, WRAPUP = "reserved", "ringing", "on_call", "wrapup"
STATES = (LOGGED_OUT, READY, NOT_READY, RESERVED, RINGING, ON_CALL, WRAPUP)
NOT_READY_REASONS = ("login", "break", "meal", "training", "back_office", "no_answer", "supervisor",
                     "phone_unregistered")
#: why a seat was logged out by itself: a logout asked while it was busy, done when it was free
LOGOUT_AFTER_CALL = "logout_after_call"
#: the system's own reasons, which no person gives
SYSTEM_REASONS = ("login", "no_answer", "phone_unregistered")

# event -> {from state: to state}
TRANSITIONS: dict[str, dict[str, str]] = {
    "login": {LOGGED_OUT: NOT_READY},
    "ready": {NOT_READY: READY, WRAPUP: READY, READY: READY},
    "not_ready": {READY: NOT_READY, NOT_READY: NOT_READY, WRAPUP: NOT_READY},
    "reserve": {READY: RESERVED},
    "ring": {RESERVED: RINGING},
    "answer": {RINGING: ON_CALL, RESERVED: ON_CALL},
    "no_answer": {RINGING: NOT_READY, RESERVED: NOT_READY},
    "release": {RESERVED: READY, RINGING: READY},
    "hangup": {ON_CALL: WRAPUP},
    "logout": {s: LOGGED_OUT for s in (READY, NOT_READY, WRAPUP)},
    # the phone the agent's calls ring on is not registered (callcenter/sip/phones.py)
    "phone_lost": {READY: NOT_READY},
}


class InvalidTransition(ValueError):
    code = "INVALID_AGENT_TRANSITION"


def next_state(current: str, event: str, reason: str | None = None) -> tuple[str, str | None]:
    """(new state, reason) or InvalidTransition. Not-ready always carries a known reason."""
    target = TRANSITIONS.get(event, {}).get(current)
    if target is None:
        raise InvalidTransition(f"an agent who is {current} cannot {event}")
    if target == NOT_READY:
        reason = reason or ("login" if event == "login" else "no_answer" if event == "no_answer" else None)
        if reason not in NOT_READY_REASONS:
            raise InvalidTransition(f"not ready needs a reason among {NOT_READY_REASONS}, got {reason!r}")
        return target, reason
    return target, None
