"""Real calls into the real Asterisk: the hotline entry, the FastAGI IVR, the agi_fail branch,
the call ledger."""
from __future__ import annotations

import os
import re
import signal
import uuid

import pytest
from sqlalchemy import select

from callcenter import ami as ami_connect
from callcenter.models import Call
from callcenter.runtime.ports import is_listening
from callcenter.runtime.supervisor import read_status
from callcenter.simulate import originate_caller_action
from ivr.prompts import verify_wav
from tests.integration.conftest import EventLog, log_size, read_log, wait_until
from tests.integration.helpers import ended_row, fresh_number, make_customer

ACCESS = "10000"
# an unknown caller: language menu (silence: Mandarin), skip the service number with #, 0 for an agent
UNKNOWN_TO_AGENT = "w" * 20 + "#wwwwww0"


async def test_call_into_hotline_is_greeted_by_fastagi_and_recorded_in_the_ledger(stack, ami, sessions, floor):
    customer_id, _ = make_customer(sessions, name="Li Si", language="en", number="13800000101")
    uniqueid = await floor.call(ACCESS, "13800000101", name="Li Si", dtmf="wwwwww0", hold_s=15)
    events = ami.events

    await events.wait_for(Event="Newchannel", Uniqueid=uniqueid)
    # our FastAGI server played the English welcome prompt, to its end
    welcome = stack.prompts_dir / "en" / "welcome.wav"
    info = verify_wav(welcome)
    assert info.rate == 8000 and info.channels == 1 and info.frames > 0
    start = await events.wait_for(Event="AGIExecStart", Uniqueid=uniqueid,
                                  Command=f'STREAM FILE "{welcome.with_suffix("")}" ""')
    end = await events.wait_for(Event="AGIExecEnd", Uniqueid=uniqueid, CommandId=start["CommandId"])
    assert end["ResultCode"] == "200" and end["Result"].startswith("Success")
    # the IVR handed off with its variables, and the caller waits for an agent
    await events.wait_for(Event="VarSet", Uniqueid=uniqueid, Variable="CC_IVR_RESULT", Value="ok")
    await events.wait_for(Event="VarSet", Uniqueid=uniqueid, Variable="__CC_CUSTOMER_ID", Value=str(customer_id))
    await events.wait_for(Event="VarSet", Uniqueid=uniqueid, Variable="__CC_LANGUAGE", Value="en")
    queued = await events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uniqueid)
    assert queued["Skill"] == "general"
    assert not events.matching(Event="Newexten", Uniqueid=uniqueid, Context="agi_fail")
    # the caller hangs up while waiting; the channel goes and the ledger says how it ended
    await events.wait_for(Event="Hangup", Uniqueid=uniqueid, timeout=30)
    row = await wait_until(ended_row(sessions, uniqueid), what="call row closed")
    assert row.caller_number == "13800000101" and row.access_number == ACCESS
    assert row.customer_id == customer_id and row.skill == "general"
    assert row.end_reason == "abandoned_waiting" and row.hangup_cause == 16
    assert row.recording_path and os.path.getsize(row.recording_path) > 44  # more than a WAV header
    assert row.recording_path.endswith(f"/{uniqueid}.wav")  # a uniqueid's letters, digits and - kept


async def test_with_the_fastagi_server_down_the_caller_lands_in_agi_fail(stack, ami, sessions, floor):
    # The IVR's address is written into the dialplan, where AMI cannot change it: to have nothing
    # listen there, hold the supervisor still and kill the IVR; then let the supervisor restart it.
    status = read_status(stack.run_dir)
    supervisor, ivr = status["supervisor_pid"], status["services"]["ivr"]["pid"]
    os.kill(supervisor, signal.SIGSTOP)
    try:
        os.kill(ivr, signal.SIGKILL)
        await wait_until(lambda: not is_listening(stack.agi_port), what="FastAGI port closed")
        uniqueid = await floor.call(ACCESS, "13800000102", hold_s=6)
        events = ami.events
        await events.wait_for(Event="Newexten", Uniqueid=uniqueid, Context="agi_fail")
        failed = await events.wait_for(Event="UserEvent", UserEvent="IvrFailed", CallId=uniqueid)
        assert failed["Reason"] == "ivr_unreachable" and failed["AgiStatus"] == "FAILURE"
        queued = await events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uniqueid)
        assert queued["Skill"] == "general"  # a general agent, not dead air
        await events.wait_for(Event="Newexten", Uniqueid=uniqueid, Context="cc-wait", Application="WaitExten")
    finally:
        os.kill(supervisor, signal.SIGCONT)
        await wait_until(lambda: is_listening(stack.agi_port), timeout=30, what="FastAGI restarted and listening")
    row = await wait_until(ended_row(sessions, uniqueid), timeout=30, what="call row closed")
    assert row.end_reason == "abandoned_waiting" and row.end_detail == "ivr_unreachable"


async def test_a_uniqueid_an_ami_client_chose_runs_no_command_through_the_recording(stack, ami, sessions, floor):
    """MixMonitor's third argument is a shell command Asterisk runs, as root, once the recording is
    closed. The recording's name was built from ${UNIQUEID}, which an AMI Originate chooses
    (OtherChannelId): "x.wav,,touch FILE" made Asterisk create FILE. Now the name is filtered to
    letters, digits and ._-, and events whose CallId stops at the comma are not taken as the call's."""
    marker = stack.home / f"made-by-asterisk-{uuid.uuid4().hex[:8]}"
    uid = floor.own_call(f"cc{uuid.uuid4().hex[:10]}.wav,,touch {marker}")
    action = originate_caller_action(ACCESS, fresh_number(), hold_s=3)
    action["OtherChannelId"] = uid
    reply = await ami.send_action(action)
    assert (reply[0] if isinstance(reply, list) else reply).get("Response") == "Success"
    await ami.events.wait_for(Event="Hangup", Uniqueid=uid, timeout=30)
    entered = await ami.events.wait_for(Event="UserEvent", UserEvent="CallEntered", Uniqueid=uid)
    assert entered["CallId"] == uid.split(",")[0]  # the comma did end the header
    recording = next(stack.recordings_dir.rglob(re.sub(r"[^0-9A-Za-z._-]", "", uid) + ".wav"))

    def closed() -> bool:  # WAV sizes are written when MixMonitor closes the file, just before its command
        return recording.stat().st_size > 44 and verify_wav(recording).frames > 0
    await wait_until(closed, what="recording closed")
    with pytest.raises(AssertionError):  # the command would have run right after the close
        await wait_until(marker.exists, timeout=3, what="a file made by the injected command")
    with sessions() as s:  # and the events that named another id moved no call record
        assert s.scalar(select(Call).where(Call.uniqueid == entered["CallId"])) is None


async def test_caller_hanging_up_mid_prompt_is_recorded_and_leaks_nothing(stack, ami, sessions, floor):
    log_from = log_size(stack, "ivr")  # what other tests' calls wrote is theirs
    uniqueid = await floor.call(ACCESS, "13800000103", wait_s=0, hold_s=1)
    await ami.events.wait_for(Event="Hangup", Uniqueid=uniqueid)
    row = await wait_until(ended_row(sessions, uniqueid), what="call row closed")
    assert row.end_reason == "hung_up_in_ivr"
    assert "Traceback" not in read_log(stack, "ivr", since=log_from)


async def test_a_killed_ivr_is_restarted_by_the_supervisor_and_serves_again(stack, ami, sessions, floor):
    before = read_status(stack.run_dir)["services"]["ivr"]
    log_from = log_size(stack, "supervisor")
    os.kill(before["pid"], signal.SIGKILL)

    def restarted():
        svc = read_status(stack.run_dir)["services"]["ivr"]
        return svc if svc["restarts"] > before["restarts"] and svc["state"] == "running" else None

    after = await wait_until(restarted, timeout=30, what="ivr restarted")
    assert after["pid"] != before["pid"]
    assert "ivr: exited with code -9" in read_log(stack, "supervisor", since=log_from)
    await wait_until(lambda: is_listening(stack.agi_port), what="FastAGI port open again")
    uniqueid = await floor.call(ACCESS, "13800000104", dtmf=UNKNOWN_TO_AGENT, hold_s=20)
    await ami.events.wait_for(Event="VarSet", Uniqueid=uniqueid, Variable="CC_IVR_RESULT", Value="ok")


async def test_the_services_ami_login_never_hears_a_callers_keys(stack, ami, floor):
    """The services' AMI user reads DTMF events for one thing, the keys a supervisor presses on
    the leg they monitor on (manager.conf's event filters, Asterisk-side); a caller's keys (a
    password, a card PIN) must never reach it. The tests' user reads DTMF unfiltered: it shows the
    keys were there to be heard."""
    services = await ami_connect.connect(stack)  # the services' own login (settings.ami_user)
    heard = EventLog()
    services.register_event("*", heard)
    try:
        uid = await floor.call(ACCESS, fresh_number(), dtmf="wwwwww0", hold_s=15)

        def keys_of_the_call(events):
            return [e for e in events if e.get("Event", "").startswith("DTMF")
                    and uid in (e.get("Uniqueid"), e.get("Linkedid"))]
        # the key's end (DTMFEnd comes after DTMFBegin, once the digit has been heard to its end)
        await wait_until(lambda: [e for e in keys_of_the_call(ami.events.events)
                                  if e["Event"] == "DTMFEnd" and e.get("Digit") == "0"],
                         what="the caller's 0 to its end, to the tests' user")
        # AMI sends each session its events in order: once a later event has reached the services'
        # login, the caller's keys would have reached it before, had they been sent to it at all
        marker = f"keys-checked-{uid}"
        await ami.send_action({"Action": "UserEvent", "UserEvent": "TestMarker", "Marker": marker})
        await heard.wait_for(Event="UserEvent", UserEvent="TestMarker", Marker=marker)
        assert keys_of_the_call(heard.events) == []
        assert not [e for e in heard.events if e.get("Event", "").startswith("DTMF")]
    finally:
        services.close()
