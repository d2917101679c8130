"""Real calls into the real Asterisk: the hotline entry, the FastAGI IVR, the agi_fail branch,
the call ledger."""
from __future__ import annotations

import os
import signal

from callcenter.runtime.supervisor import read_status
from ivr.prompts import verify_wav
from tests.integration.conftest import log_size, read_log, wait_until
from tests.integration.helpers import ended_row, make_customer

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


async def test_with_the_fastagi_server_down_the_caller_lands_in_agi_fail(stack, ami, sessions, floor):
    dead_port = 9  # discard: nothing listens there on this machine
    await ami.send_action({"Action": "Setvar", "Variable": "CC_AGI_URL", "Value": f"agi://127.0.0.1:{dead_port}"})
    try:
        uniqueid = await floor.call(ACCESS, "13800000102", hold_s=6)
        events = ami.events
        await events.wait_for(Event="Newexten", Uniqueid=uniqueid, Context="agi_fail")
        failed = await events.wait_for(Event="UserEvent", UserEvent="IvrFailed", CallId=uniqueid)
        assert failed["Reason"] == "ivr_unreachable" and failed["AgiStatus"] == "FAILURE"
        queued = await events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uniqueid)
        assert queued["Skill"] == "general"  # a general agent, not dead air
        await events.wait_for(Event="Newexten", Uniqueid=uniqueid, Context="cc-wait", Application="WaitExten")
    finally:
        await ami.send_action({"Action": "Setvar", "Variable": "CC_AGI_URL", "Value": stack.agi_url})
    row = await wait_until(ended_row(sessions, uniqueid), timeout=30, what="call row closed")
    assert row.end_reason == "abandoned_waiting" and row.end_detail == "ivr_unreachable"


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
    from callcenter.runtime.ports import is_listening
    await wait_until(lambda: is_listening(stack.agi_port), what="FastAGI port open again")
    uniqueid = await floor.call(ACCESS, "13800000104", dtmf=UNKNOWN_TO_AGENT, hold_s=20)
    await ami.events.wait_for(Event="VarSet", Uniqueid=uniqueid, Variable="CC_IVR_RESULT", Value="ok")
