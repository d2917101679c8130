"""Which carrier carried a call back (issue 10): the dialplan reports every try through a carrier
(UserEvent OutboundTrunk from cc-outbound-report: the call, the carrier's endpoint, its
DIALSTATUS), and each becomes a step of the call's journey, after the menu's own steps: node
``outbound_trunk``, input the carrier's endpoint, outcome the dial status in lower case. A
carrier that refused shows as congestion/chanunavail, the one that carried the call as answer.

Only events our dialplan sent from cc-outbound-report count (acd.protocol.from_our_dialplan);
the endpoint and status are checked against the shapes they can have, never stored raw.
"""
from __future__ import annotations

import re

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acd import protocol as p
from callcenter import calls
from callcenter.dialplan import EV_OUTBOUND_TRUNK
from callcenter.models import JourneyStep

NODE = "outbound_trunk"
TRUNK = re.compile(r"trunk-[a-z][a-z0-9_]{0,23}")
#: the DIALSTATUS values (app_dial) a call through a carrier ends with; any other is "other"
#: (each has words: i18n outcome.<status in lower case>)
STATUSES = ("ANSWER", "BUSY", "NOANSWER", "CANCEL", "CONGESTION", "CHANUNAVAIL")


def trunk_try(event: dict) -> tuple[str, str, str] | None:
    """(call id, carrier endpoint, outcome) of an OutboundTrunk event of ours, else None."""
    if p.as_text(event.get("UserEvent")) != EV_OUTBOUND_TRUNK or not p.from_our_dialplan(event, EV_OUTBOUND_TRUNK):
        return None
    call, trunk = p.as_text(event.get("CallId")).strip(), p.as_text(event.get("Trunk")).strip()
    status = p.as_text(event.get("DialStatus")).strip().upper()
    if not call or len(call) > 64 or not TRUNK.fullmatch(trunk):
        return None
    return call, trunk, (status if status in STATUSES else "other").lower()


def record(session: Session, found: tuple[str, str, str], timestamp=None) -> None:
    """Append a try (trunk_try's answer) to the call's journey. Steps are numbered after the
    call's last (a unique (call, seq)): a clash with a concurrent writer numbers it again."""
    call, trunk, outcome = found
    try:
        at = calls.utc_from_epoch(timestamp)
    except (TypeError, ValueError, OverflowError):
        at = calls.utc_from_epoch(None)
    for _ in range(5):
        last = session.scalar(select(func.max(JourneyStep.seq)).where(JourneyStep.call_uniqueid == call))
        try:
            with session.begin_nested():
                session.execute(insert(JourneyStep).values(call_uniqueid=call, seq=0 if last is None else last + 1,
                                                           at=at, node=NODE, input=trunk, outcome=outcome))
            return
        except IntegrityError:
            continue
    raise RuntimeError(f"could not number the journey step of call {call!r}")
