"""Call backs kept in the database (left out of hours): dialled by the router once the center is
open, the agent's phone first and then the customer's; a customer who does not pick up is tried
again at the retry time, and a request is closed when answered. A number the call-back rules
refuse (callbacks.toml) is neither taken nor dialled."""
from __future__ import annotations

import hashlib
import math
import struct
import subprocess
import uuid
import wave
from datetime import timedelta

from sqlalchemy import select

from callcenter import callback_rules
from callcenter.models import AuditEntry, Call, CallbackRequest, Recording, utcnow
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.helpers import ended_row, fresh_number, make_customer, manager, wait_for_state

ACCESS = "10000"
COMPLAINT = "w" * 10 + "6"  # a known caller: the main menu, key 6 (nobody of this test serves complaint)


def request_state(sessions, request_id):
    def fetch():
        with sessions() as s:
            r = s.get(CallbackRequest, request_id)
            return (r.status, r.attempts, r.next_try_at) if r.status not in ("pending", "queued") else None
    return fetch


async def test_out_of_hours_request_is_dialled_when_open_and_tried_again_if_unanswered(ami, sessions, store, floor):
    # The request's call asked for a skill of this test's own: only this test's agent may take it.
    skill = floor.skill()
    agent = floor.agent({skill: 3})
    await set_sim_phone(ami, agent, answer_after=1, talk_s=3)
    number = fresh_number("1380060")
    busy = {"Action": "Setvar", "Variable": f"SIMCUSTOMER_{number}"}
    await ami.send_action({**busy, "Value": "busy"})
    uid = floor.own_call(f"out-of-hours-{uuid.uuid4().hex[:12]}")
    with sessions() as s:  # the call that left the request, ended by the closed-hours menu
        s.add(Call(uniqueid=uid, caller_number=number, started_at=utcnow() - timedelta(hours=1), stage="ivr",
                   skill=skill, ended_at=utcnow() - timedelta(hours=1), end_reason="ivr_ended"))
        request = CallbackRequest(number=number, call_uniqueid=uid, reason="out_of_hours", language="zh")
        s.add(request)
        s.commit()
        request_id = request.id
    try:
        await floor.ready(agent)
        await floor.reload()  # the router looks for due call backs at once after a reload
        answered = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, timeout=40)
        assert answered["Agent"] == agent  # the agent's phone first
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid, timeout=40)
        assert ended["DialStatus"] != "ANSWER"
        status, attempts, next_try_at = await wait_until(request_state(sessions, request_id),
                                                         what="call back outcome recorded")
        assert (status, attempts) == ("no_answer", 1)
        assert next_try_at is not None
        assert await store.call(uid) is None  # nothing of it left in the live queue until the retry time

        # the retry time comes; this time the customer picks up
        await ami.send_action({**busy, "Value": ""})
        with sessions() as s:
            s.get(CallbackRequest, request_id).next_try_at = utcnow() - timedelta(seconds=1)
            s.commit()
        await wait_for_state(store, agent, "wrapup")
        await manager(store).end_wrapup(agent)  # ready now rather than at the end of the wrap-up time
        await floor.reload()
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid,
                                          DialStatus="ANSWER", timeout=40)
        status, attempts, _ = await wait_until(
            lambda: (r := request_state(sessions, request_id)()) and r[0] == "done" and r, what="call back done")
        assert (status, attempts) == ("done", 2)
    finally:
        await ami.send_action({**busy, "Value": ""})


async def test_a_waiting_caller_whose_number_the_rules_refuse_hears_so_and_keeps_waiting(stack, ami, sessions, floor):
    """Key 1 while waiting takes the caller ID. Here the operator's rules deny the number: the
    caller hears the refusal and goes back to the music (no call back, no request, an audit row)."""
    _, number = make_customer(sessions)
    rules = callback_rules.rules_file(stack.home)
    saved = rules.read_text() if rules.exists() else None
    rules.write_text(f'deny = ["{number}"]\n')  # read at every request: no restart
    await ami.send_action({"Action": "Setvar", "Variable": "CC_ANNOUNCE_S", "Value": "3"})
    try:
        uid = await floor.call(ACCESS, number, dtmf=COMPLAINT + "w" * 10 + "1" + "w" * 4 + "1", hold_s=25)
        await ami.events.wait_for(Event="AGIExecStart", Uniqueid=uid, timeout=60,
                                  Command=f'STREAM FILE "{stack.prompts_dir}/zh/callback_refused" ""')
    finally:
        await ami.send_action({"Action": "Setvar", "Variable": "CC_ANNOUNCE_S", "Value": "30"})
        if saved is None:
            rules.unlink()
        else:
            rules.write_text(saved)
    ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid, timeout=40)
    assert ended["End"] != "callback" and ended["Stage"] == "waiting"  # it waited on until it hung up
    with sessions() as s:
        assert s.scalar(select(CallbackRequest).where(CallbackRequest.call_uniqueid == uid)) is None
        refusals = s.scalars(select(AuditEntry).where(AuditEntry.action == "callback_refused",
                                                      AuditEntry.target == number)).all()
        assert [r.detail.split(":")[0] for r in refusals] == ["denied_prefix"]


# ---------------------------------------------------------------- call backs are recorded (issue 11)
AGENT_HZ = 440
RATE = 8000


def agent_tone(stack) -> None:
    """The simulated agent phone's tone file (extensions.conf sim-phone, @@SPOOL_DIR@@/sim-audio):
    what the agent says, so the recording has sound to find."""
    folder = stack.asterisk_dir / "spool" / "sim-audio"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"tone-{AGENT_HZ}.wav"
    if not path.exists():
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            second = [int(0.3 * 32767 * math.sin(2 * math.pi * AGENT_HZ * i / RATE)) for i in range(RATE)]
            out.writeframes(struct.pack(f"<{RATE}h", *second) * 60)


def max_amplitude(path) -> float:
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    return float(next(line.split(":")[1] for line in out.splitlines() if line.startswith("Maximum amplitude")))


def recording_row(sessions, uniqueid):
    def fetch():
        with sessions() as s:
            return s.scalar(select(Recording).where(Recording.call_uniqueid == uniqueid))
    return fetch


async def dialled_call_back(ami, sessions, floor, stack, customer_busy: bool):
    """A request left by an ended call of this test, dialled by the router to this test's agent;
    (the asking call's id, its CallbackEnded event)."""
    skill = floor.skill()
    agent = floor.agent({skill: 3})
    agent_tone(stack)
    await set_sim_phone(ami, agent, answer_after=1, talk_s=8, tone_hz=AGENT_HZ)
    number = fresh_number("1380061")
    await ami.send_action({"Action": "Setvar", "Variable": f"SIMCUSTOMER_{number}",
                           "Value": "busy" if customer_busy else ""})
    uid = floor.own_call(f"recorded-call-back-{uuid.uuid4().hex[:12]}")
    with sessions() as s:  # ended by the closed-hours menu, with no recording of its own here
        s.add(Call(uniqueid=uid, caller_number=number, started_at=utcnow() - timedelta(hours=1), stage="ivr",
                   skill=skill, ended_at=utcnow() - timedelta(hours=1), end_reason="ivr_ended"))
        s.add(CallbackRequest(number=number, call_uniqueid=uid, reason="out_of_hours", language="zh"))
        s.commit()
    try:
        await floor.ready(agent)
        await floor.reload()
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid, timeout=60)
    finally:
        await ami.send_action({"Action": "Setvar", "Variable": f"SIMCUSTOMER_{number}", "Value": ""})
    return uid, ended, agent, number


async def test_an_answered_call_back_is_recorded_on_its_own_row_registered_with_sound(ami, sessions, floor, stack):
    uid, ended, agent, number = await dialled_call_back(ami, sessions, floor, stack, customer_busy=False)
    assert ended["DialStatus"] == "ANSWER"
    leg = ended["Uniqueid"]  # the call back's own leg: its row and its recording
    row = await wait_until(ended_row(sessions, leg), what="the call back's row")
    assert (row.linkedid, row.agent_extension, row.caller_number) == (uid, agent, number)
    assert row.recording_path == ended["Recording"] and row.answered_at is not None
    rec = await wait_until(recording_row(sessions, leg), timeout=60, what="recording registered by the push process")
    path = stack.recordings_dir / rec.path
    assert str(path) == row.recording_path and rec.problem is None
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and rec.size_bytes == path.stat().st_size
    loudest = max_amplitude(path)
    print(f"call back recording {rec.duration_ms} ms, max amplitude {loudest}")
    assert rec.duration_ms > 0 and loudest > 0.05  # the agent's tone is in it
    with sessions() as s:  # the call that asked keeps what it had: no answer set on it, nothing flagged
        asked = s.scalar(select(Call).where(Call.uniqueid == uid))
        assert asked.answered_at is None and asked.recording_path is None
        assert s.scalar(select(Recording).where(Recording.call_uniqueid == uid)) is None


async def test_a_call_back_nobody_answers_keeps_what_the_agent_heard_and_flags_nothing(ami, sessions, floor, stack):
    """Recorded from the agent's answer: the customer's phone ringing (here busy at once) is the
    call back's business too, so the try has its file, registered with its checksum; nobody
    answered, so an empty one is not a fault: never flagged missing or unplayable."""
    uid, ended, _agent, _number = await dialled_call_back(ami, sessions, floor, stack, customer_busy=True)
    assert ended["DialStatus"] == "BUSY"
    leg = ended["Uniqueid"]
    row = await wait_until(ended_row(sessions, leg), what="the call back's row")
    assert row.answered_at is None and row.linkedid == uid
    rec = await wait_until(recording_row(sessions, leg), timeout=60, what="recording registered by the push process")
    path = stack.recordings_dir / rec.path
    assert str(path) == row.recording_path and rec.problem is None
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"unanswered call back recording {rec.duration_ms} ms")
    with sessions() as s:
        assert s.scalar(select(Recording).where(Recording.call_uniqueid == uid)) is None
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "recording_flagged",
                                                 AuditEntry.detail.startswith(f"call {leg}:"))) is None
