"""A call back's tries through carriers on its journey (cdr/outbound.py): only the dialplan's
own OutboundTrunk events from cc-outbound-report count; the carrier and status are checked; each
try is a step after the call's last one. Rows in, rows out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from callcenter import db
from callcenter.models import JourneyStep
from agent_desktop.i18n import STRINGS
from cdr.listener import CdrListener
from cdr.outbound import trunk_try

CALL = "1700000000.42"


def event(**fields) -> dict:
    base = {"Event": "UserEvent", "UserEvent": "OutboundTrunk", "Channel": "Local/138@cc-outbound-0001;2",
            "Context": "cc-outbound-report", "CallId": CALL, "Trunk": "trunk-first", "DialStatus": "CONGESTION",
            "Timestamp": "1700000100.5"}
    return {**base, **fields}


@pytest.mark.parametrize("fields", [
    {"Context": "cc-trunk-evil"},  # not sent from the report context
    {"Channel": ""},  # an AMI client's own UserEvent: no channel
    {"Trunk": "trunk-a,b"}, {"Trunk": "PJSIP/x"}, {"Trunk": ""},
    {"CallId": ""}, {"CallId": "x" * 65},
    {"UserEvent": "CallbackEnded"},
    {"Trunk": ["trunk-a", "trunk-b"]},  # a header given twice
])
def test_what_is_not_a_try_of_ours_is_ignored(fields):
    assert trunk_try(event(**fields)) is None


def test_each_try_lands_on_the_calls_journey_after_its_last_step(migrated_db):
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        s.add(JourneyStep(call_uniqueid=CALL, seq=0, at=db_now(), node="greeting", input=None, outcome="ok"))
        s.commit()
    listener = CdrListener(sessions)
    listener.apply(event())
    listener.apply(event(Trunk="trunk-second", DialStatus="ANSWER", Timestamp="1700000130"))
    listener.apply(event(DialStatus="SOMETHING\r\nEvil: 1"))
    with sessions() as s:
        steps = [(r.seq, r.node, r.input, r.outcome) for r in
                 s.scalars(select(JourneyStep).where(JourneyStep.call_uniqueid == CALL).order_by(JourneyStep.seq))]
    assert all(f"outcome.{o}" in STRINGS for *_, o in steps) and "node.outbound_trunk" in STRINGS  # worded
    assert steps == [(0, "greeting", None, "ok"), (1, "outbound_trunk", "trunk-first", "congestion"),
                     (2, "outbound_trunk", "trunk-second", "answer"), (3, "outbound_trunk", "trunk-first", "other")]


def db_now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)
