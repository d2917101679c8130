"""Call backs fail over between carriers on the real Asterisk (issue 10): two carriers marked
for call backs, in the order declared; the first refuses the call (SIP 503, its end played by
PJSIP's own user agent on the trunk's address and port), the second answers; the call back leaves
through the second, showing the second's number, and the call's journey says which carrier
refused and which carried it. Addresses as in sip_world.py; the second carrier on 127.0.0.6."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from callcenter.models import Call, CallbackRequest, utcnow
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.helpers import fresh_number, journey
from tests.integration.sip_world import CARRIER, CARRIER_HOST, cli
from tests.integration.sip_world import carrier, sip  # noqa: F401 - the fixtures
from tests.sip.driver import UserAgent

BACKUP, BACKUP_HOST = "tstbackup", "127.0.0.6"
TONE_HZ = 440


@pytest.mark.timeout(200)
async def test_a_call_back_refused_by_the_first_carrier_leaves_through_the_second(
        stack, stack_env, ami, sip, sessions, floor):
    first_number = sip.number()  # the test carrier's (declared first: the module's fixture)
    out = cli(stack_env, "trunk", "add", CARRIER, "--host", CARRIER_HOST, "--port", "5060", "--outbound")
    assert "applied to the running Asterisk" in out, out
    out = cli(stack_env, "trunk", "add", BACKUP, "--host", BACKUP_HOST, "--port", "5060", "--outbound")
    assert "applied to the running Asterisk" in out, out
    backup_number = f"3{uuid.uuid4().int % 10_000:04d}"
    out = cli(stack_env, "number", "add", backup_number, "--trunk", BACKUP)
    assert "applied to the running Asterisk" in out, out
    try:
        refusing = await UserAgent.start("carrier-refusing", "phone", sip.tmp / "refusing.wav", bind=CARRIER_HOST,
                                         port=5060, tone=TONE_HZ, refuse=503)
        sip.agents.append(refusing)
        answering = await UserAgent.start("carrier-answering", "phone", sip.tmp / "answering.wav", bind=BACKUP_HOST,
                                          port=5060, tone=TONE_HZ, answer_after=0.5, hangup_after=2)
        sip.agents.append(answering)
        skill = floor.skill()
        agent = floor.agent({skill: 3})
        await set_sim_phone(ami, agent, answer_after=0.5, talk_s=20)
        customer = fresh_number("1380062")
        uid = floor.own_call(f"callback-failover-{uuid.uuid4().hex[:12]}")
        with sessions() as s:  # a request left out of hours, due now
            s.add(Call(uniqueid=uid, caller_number=customer, started_at=utcnow() - timedelta(hours=1), stage="ivr",
                       skill=skill, ended_at=utcnow() - timedelta(hours=1), end_reason="ivr_ended"))
            s.add(CallbackRequest(number=customer, call_uniqueid=uid, reason="out_of_hours", language="zh"))
            s.commit()
        await floor.ready(agent)
        await floor.reload()  # the router looks for due call backs at once after a reload

        refused = await refusing.wait_for("incoming", timeout=40)
        assert first_number in refused["remote"], refused  # the first carrier's number shown to it
        await refusing.wait_for("refused", code=503, timeout=10)
        incoming = await answering.wait_for("incoming", timeout=40)
        assert backup_number in incoming["remote"], incoming  # the second carrier's own number shown
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid, timeout=40)
        assert ended["DialStatus"] == "ANSWER"
        steps = await wait_until(lambda: (t := [(i, o) for n, i, o in journey(sessions, uid) if n == "outbound_trunk"])
                                 and len(t) == 2 and t, timeout=20, what="both tries on the journey")
        # Asterisk 22 reports a carrier's 503 as CHANUNAVAIL (measured here), not CONGESTION
        assert steps == [(f"trunk-{CARRIER}", "chanunavail"), (f"trunk-{BACKUP}", "answer")]
        assert answering.seen("incoming") and len(refusing.seen("incoming")) == 1  # each carrier asked once
    finally:
        cli(stack_env, "number", "remove", backup_number)
        cli(stack_env, "trunk", "remove", BACKUP)
        cli(stack_env, "trunk", "add", CARRIER, "--host", CARRIER_HOST, "--port", "5060")  # not outbound again


SILENT, SILENT_HOST = "tstsilent", "127.0.0.7"


@pytest.mark.timeout(200)
async def test_a_call_back_to_a_carrier_that_never_answers_moves_on_to_the_next(
        stack, stack_env, ami, sip, sessions, floor):
    """The first carrier's address takes the INVITE and says nothing (a UDP socket that only
    reads): SIP gives up on it after timer B (pjsip.conf: 16 s) and the next carrier carries the
    call back, inside the call back's own 30 s."""
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((SILENT_HOST, 5060))
    silent.setblocking(False)
    added, seen = [], []
    try:
        for name, host in ((SILENT, SILENT_HOST), (BACKUP, BACKUP_HOST)):  # declared in this order
            out = cli(stack_env, "trunk", "add", name, "--host", host, "--port", "5060", "--outbound")
            assert "applied to the running Asterisk" in out, out
            added.append(name)
        answering = await UserAgent.start("carrier-answering", "phone", sip.tmp / "answering.wav", bind=BACKUP_HOST,
                                          port=5060, tone=TONE_HZ, answer_after=0.5, hangup_after=2)
        sip.agents.append(answering)
        skill = floor.skill()
        agent = floor.agent({skill: 3})
        await set_sim_phone(ami, agent, answer_after=0.5, talk_s=40)
        customer = fresh_number("1380063")
        uid = floor.own_call(f"callback-silent-{uuid.uuid4().hex[:12]}")
        with sessions() as s:
            s.add(Call(uniqueid=uid, caller_number=customer, started_at=utcnow() - timedelta(hours=1), stage="ivr",
                       skill=skill, ended_at=utcnow() - timedelta(hours=1), end_reason="ivr_ended"))
            s.add(CallbackRequest(number=customer, call_uniqueid=uid, reason="out_of_hours", language="zh"))
            s.commit()
        await floor.ready(agent)
        await floor.reload()

        await answering.wait_for("incoming", timeout=60)
        invites = await wait_until(lambda: _datagrams(silent, seen), timeout=5, what="the silent carrier was asked")
        assert any(d.startswith(b"INVITE sip:" + customer.encode()) for d in invites), invites[:1]
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid, timeout=40)
        assert ended["DialStatus"] == "ANSWER"
        steps = await wait_until(lambda: (t := [(i, o) for n, i, o in journey(sessions, uid) if n == "outbound_trunk"])
                                 and len(t) == 2 and t, timeout=20, what="both tries on the journey")
        # timer B's expiry reads CHANUNAVAIL (measured: about 16 s after the INVITE)
        assert steps == [(f"trunk-{SILENT}", "chanunavail"), (f"trunk-{BACKUP}", "answer")]
    finally:
        silent.close()
        for name in added:
            cli(stack_env, "trunk", "remove", name)


def _datagrams(sock, seen: list[bytes]) -> list[bytes]:
    """Every datagram the silent carrier got so far (kept in `seen` across calls)."""
    while True:
        try:
            seen.append(sock.recv(65535))
        except BlockingIOError:
            return list(seen)
