"""A real call whose caller ID number and name are longer than their columns (issue 15): the
call's record is written, cut to the columns, on the tier's database (PostgreSQL, which refuses
a VARCHAR(n) overflow where SQLite keeps it; CC_TEST_DATABASE=sqlite opts out). The caller ID
travels as a carrier would send it: Asterisk hands it whole to the IVR (AGI headers) and to the
CDR listener (the dialplan's CallEntered), and each writes the call's row."""
from __future__ import annotations

import os

from callcenter.models import Call
from callcenter.simulate import originate_caller_action
from tests.integration.conftest import log_size, read_log, wait_until
from tests.integration.helpers import ended_row, fresh_number, journey

ACCESS = "10000"


async def test_an_over_long_caller_id_is_stored_cut_to_its_columns(stack, ami, sessions, floor):
    if os.environ.get("CC_TEST_DATABASE") != "sqlite":
        assert stack.database_url.startswith("postgresql"), stack.database_url  # the point of this test
    number = fresh_number("1390000") + "8" * 34  # 45 digits: past Call.caller_number's 32
    name = "张三丰" * 15 + " Zhang San Feng" * 5  # 120 characters: past Call.caller_name's 80
    limits = Call.__table__.c.caller_number.type.length, Call.__table__.c.caller_name.type.length
    assert len(number) > limits[0] and len(name) > limits[1]
    logs = {service: log_size(stack, service) for service in ("cdr", "ivr")}

    # the simulator's own CallerID is checked (20 digits at most): this caller ID is set as a
    # carrier's would be, the number in the Originate and the name through sim-hostile-name
    action = originate_caller_action(ACCESS, "13800000000", hold_s=10, any_name=name)
    action["CallerID"] = f"<{number}>"
    action["OtherChannelId"] = action["ChannelId"] + "-2"
    reply = await ami.send_action(action)
    first = reply[0] if isinstance(reply, list) else reply
    assert first.get("Response") == "Success", first
    uid = floor.own_call(action["OtherChannelId"])

    entered = await ami.events.wait_for(Event="UserEvent", UserEvent="CallEntered", CallId=uid, timeout=30)
    assert entered["CallerIDNum"] == number and entered["CallerIDName"] == name  # Asterisk carried it whole
    row = await wait_until(ended_row(sessions, uid), timeout=60, what="the call's record, ended")
    assert row.caller_name == name[:limits[1]]
    # the IVR (caller digits, 20 at most) and the CDR listener (the column's 32) both write it
    assert row.caller_number in (number[:20], number[:limits[0]]), row.caller_number
    assert await wait_until(lambda: journey(sessions, uid), what="the menu's journey saved")
    for service, since in logs.items():
        text = read_log(stack, service, since=since)
        assert "Traceback" not in text and "too long" not in text, text[-2000:]
