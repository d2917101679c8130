"""Caller numbers and names trimmed to their columns before they are stored (issue 15).

A caller (or a carrier) chooses how long the caller ID number and name are; SQLite keeps any
length, PostgreSQL refuses a string longer than its VARCHAR(n) and the whole write fails, losing
the call's record. The AMI path (the dialplan's CallEntered, read by the CDR listener) is tested
here on SQLite with values longer than every column; the IVR's own path is in
test_ivr_runner.py, and a real call with an over-long caller ID on PostgreSQL in
tests/integration/test_caller_id_lengths.py."""
from __future__ import annotations

from sqlalchemy import select

from callcenter import db
from callcenter.calls import fit
from callcenter.models import Call
from cdr.listener import CdrListener

UID = "1700000000.42"
NUMBER = "8613800000001" * 4  # 52 digits: past Call.caller_number's 32
NAME = "张三丰" * 20 + "Zhang San Feng " * 10  # 210 characters: past Call.caller_name's 80


def call_entered(**extra) -> dict:
    return {"Event": "UserEvent", "UserEvent": "CallEntered", "Channel": f"Local/10000@hotline-{UID}",
            "Context": "hotline", "Uniqueid": UID, "CallId": UID, "Linkedid": UID, "AccessNumber": "1" * 40,
            "CallerIDNum": NUMBER, "CallerIDName": NAME, "Timestamp": "1700000000.5", **extra}


def test_the_helper_cuts_to_the_columns_length_and_leaves_the_rest():
    assert fit(Call.__table__.c.caller_number, NUMBER) == NUMBER[:32]
    assert fit(Call.__table__.c.caller_name, NAME) == NAME[:80]
    assert fit(Call.__table__.c.caller_name, "short") == "short" and fit(Call.__table__.c.caller_name, None) is None
    assert fit(Call.__table__.c.customer_id, 7) == 7  # not a string column: unchanged


def test_an_over_long_caller_id_from_ami_is_stored_cut_to_its_columns(migrated_db):
    sessions = db.session_factory(migrated_db)
    CdrListener(sessions).apply(call_entered())
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.uniqueid == UID))
    assert call is not None  # the call's record is written
    lengths = {c.name: c.type.length for c in Call.__table__.c if getattr(c.type, "length", None)}
    assert call.caller_number == NUMBER[:lengths["caller_number"]]
    assert call.caller_name == NAME[:lengths["caller_name"]]
    assert call.access_number == ("1" * 40)[:lengths["access_number"]]
    for name, length in lengths.items():  # every string of the row fits its column
        value = getattr(call, name)
        assert value is None or len(value) <= length, name
