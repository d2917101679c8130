"""The one work-order state machine (pure), in the manner of acd.agent_state.

    new -assign-> assigned -start-> in_progress -resolve-> resolved -confirm|close-> closed
    new|reopened -start-> in_progress          (the first responder takes it at once)
    in_progress -wait_customer-> waiting_customer -customer_replied-> in_progress
    assigned|in_progress|reopened -assign-> assigned   (handed to another group or person)
    resolved -not_fixed-> reopened; resolved|closed -reopen-> reopened
    resolved -no_answer-> resolved                 (a return visit nobody answered: noted)
    any open state -cancel-> cancelled

``close`` is the timeout's (the system closes a resolved order the customer never confirmed);
``confirm``, ``not_fixed`` and ``no_answer`` are a return visit's outcomes. Every applied action
is stored on the order's timeline with who, when and a comment (store.py).
"""
from __future__ import annotations

from callcenter.orders.errors import OrderError

NEW, ASSIGNED, IN_PROGRESS, WAITING = "new", "assigned", "in_progress", "waiting_customer"
RESOLVED, CLOSED, REOPENED, CANCELLED = "resolved", "closed", "reopened", "cancelled"
STATUSES = (NEW, ASSIGNED, IN_PROGRESS, WAITING, RESOLVED, CLOSED, REOPENED, CANCELLED)
#: still to be worked: their deadlines run, the wallboard counts them
OPEN = (NEW, ASSIGNED, IN_PROGRESS, WAITING, REOPENED)
FINAL = (CLOSED, CANCELLED)

# action -> {from status: to status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "assign": {NEW: ASSIGNED, ASSIGNED: ASSIGNED, IN_PROGRESS: ASSIGNED, REOPENED: ASSIGNED},
    "start": {NEW: IN_PROGRESS, ASSIGNED: IN_PROGRESS, REOPENED: IN_PROGRESS},
    "wait_customer": {IN_PROGRESS: WAITING},
    "customer_replied": {WAITING: IN_PROGRESS},
    "resolve": {IN_PROGRESS: RESOLVED},
    "confirm": {RESOLVED: CLOSED},
    "close": {RESOLVED: CLOSED},
    "not_fixed": {RESOLVED: REOPENED},
    "reopen": {RESOLVED: REOPENED, CLOSED: REOPENED},
    "no_answer": {RESOLVED: RESOLVED},
    "cancel": {s: CANCELLED for s in OPEN},
}
ACTIONS = tuple(TRANSITIONS)
#: only the system does these (a timer); a person's request for them is refused
SYSTEM_ACTIONS = ("close",)
#: actions that answer the customer for the first time: they meet the reply deadline
REPLIES = ("start", "wait_customer", "resolve")
#: actions that need a comment (the reason is the point of them)
NEED_COMMENT = ("cancel", "not_fixed", "reopen", "resolve", "wait_customer")


class InvalidTransition(OrderError):
    def __init__(self, status: str, action: str):
        super().__init__("INVALID_ORDER_TRANSITION", 409, current=status, action=action)


def next_status(current: str, action: str) -> str:
    """The status after ``action``; InvalidTransition (409) when it does not apply, UNKNOWN_ACTION
    when there is no such action."""
    if action not in TRANSITIONS:
        raise OrderError("UNKNOWN_ACTION", choices=", ".join(ACTIONS))
    target = TRANSITIONS[action].get(current)
    if target is None:
        raise InvalidTransition(current, action)
    return target


def allowed_actions(current: str, system: bool = False) -> list[str]:
    """The actions a person (or the system) may apply to an order in ``current``, in table order."""
    return [a for a, moves in TRANSITIONS.items() if current in moves and (system or a not in SYSTEM_ACTIONS)]


def owner_after(owner: str | None, actor: str, action: str) -> str | None:
    """First responder: whoever first takes the order (``start``) owns it, unless a person already
    does (the agent who opened it on the call); only a hand-over (store.hand_over) changes it."""
    if owner is None and action == "start":
        return actor
    return owner
