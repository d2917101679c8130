"""Real SIP on the real Asterisk: a carrier's caller (PJSIP's own user agent, sending from the
trunk's address) reaches an agent whose desk phone is a registered SIP endpoint, and each side
hears the other's tone; an agent whose phone is not registered is made Not ready and never rung
into nothing; strangers, wrong passwords and a phone dialling out are refused.

Each side sends its own tone (the caller 440 Hz, the agent 1000 Hz) and records what it hears;
the recordings are measured (tests/sip/audio.py), not assumed.
"""
from __future__ import annotations

import asyncio
import time


from agent_desktop.acd_client import RouterClient
from tests.integration.conftest import wait_until
from tests.integration.helpers import fresh_number, journey, prompt_started, wait_for_state
from tests.integration.sip_world import CARRIER, CARRIER_HOST, PHONE_HOST, STRANGER_HOST, cli
from tests.integration.sip_world import carrier, sip  # noqa: F401 - the fixtures, shared with test_softphone
from tests.sip import audio

CALLER_HZ, AGENT_HZ = 440, 1000



def heard(ua, start_at: float, seconds: float = 2.0) -> tuple[float, float]:
    """The dominant frequency in what `ua` recorded from wall-clock time `start_at`, and its share."""
    return audio.dominant(ua.record, start_s=ua.offset(start_at), seconds=seconds)


def loudness(ua, start_at: float, seconds: float = 2.0) -> float:
    return audio.rms(ua.record, start_s=ua.offset(start_at), seconds=seconds)


async def test_a_carrier_call_goes_through_the_menu_to_a_registered_desk_phone_and_both_hear_each_other(
        stack, store, sip, floor, ami):
    ext = floor.agent({"general": 5})
    phone = await sip.desk_phone(ext, sip.phone(ext), AGENT_HZ, answer_after=1)
    await phone.wait_for("registered", code=200)
    await floor.ready(ext)
    number, caller_number = sip.number(entry="main_menu"), fresh_number()
    caller = await sip.caller("caller", sip.uri(number), CALLER_HZ, caller=caller_number)
    await caller.wait_for("state", state="CONFIRMED")
    # the caller keys 0 (an agent) in the main menu, by RFC 4733, once its prompt plays
    uid = await wait_until(lambda: sip.call_uniqueid(caller_number), what="the call's row")
    await prompt_started(ami.events, uid, "main_menu")
    await caller.send("dtmf 0")
    await phone.wait_for("incoming", timeout=30)
    answered = await phone.wait_for("state", state="CONFIRMED", timeout=15)
    floor.own_call(uid)
    await wait_for_state(store, ext, "on_call")
    # talk: both tones flow until each side has recorded the window measured below
    await caller.recorded_until(answered["at"] + 3.2)
    await phone.recorded_until(answered["at"] + 3.2)
    steps = [node for node, _input, _outcome in journey(sip.sessions, uid)]
    assert steps[:2] == ["main_menu", "to_agent"], steps  # the access number's entry, then the caller's 0

    # hold from the desktop: the caller hears music, no longer the agent; then resume
    router = RouterClient(sip.redis)
    result = await asyncio.to_thread(router.send, "hold", ext=ext, call=uid)
    assert result.ok, result
    held = time.time()
    await caller.recorded_until(held + 3.2)
    result = await asyncio.to_thread(router.send, "resume", ext=ext, call=uid)
    assert result.ok, result
    resumed = time.time()
    await caller.recorded_until(resumed + 3.2)

    await phone.send("hangup")  # the agent hangs up on their phone
    assert (await caller.wait_for("disconnected", timeout=15))["code"] == 200
    await caller.wait_for("recorded")
    await phone.wait_for("recorded")
    hz, share = heard(caller, answered["at"] + 1)
    assert hz == AGENT_HZ and share > 0.5, f"the caller heard {hz} Hz ({share:.0%}), not the agent's tone"
    hz, share = heard(phone, answered["at"] + 1)
    assert hz == CALLER_HZ and share > 0.5, f"the agent heard {hz} Hz ({share:.0%}), not the caller's tone"
    hz, share = heard(caller, held + 1)
    assert not (hz == AGENT_HZ and share > 0.2), "the caller still heard the agent while on hold"
    assert loudness(caller, held + 1) > 0.005, "the caller heard silence on hold, not music"
    hz, share = heard(caller, resumed + 1)
    assert hz == AGENT_HZ and share > 0.5, f"after resume the caller heard {hz} Hz ({share:.0%})"
    await wait_for_state(store, ext, "wrapup")


async def test_a_number_that_goes_straight_to_a_skill_skips_the_menu(stack, store, sip, floor):
    skill = floor.skill()
    ext = floor.agent({skill: 3})
    await floor.reload()
    phone = await sip.desk_phone(ext, sip.phone(ext), AGENT_HZ, answer_after=0.5, hangup_after=2)
    await phone.wait_for("registered", code=200)
    await floor.ready(ext)
    caller_number = fresh_number()
    caller = await sip.caller("direct", sip.uri(sip.number(skill=skill)), CALLER_HZ, caller=caller_number)
    await phone.wait_for("state", state="CONFIRMED", timeout=30)
    uid = await wait_until(lambda: sip.call_uniqueid(caller_number), what="the call's row")
    floor.own_call(uid)
    await caller.wait_for("disconnected", timeout=20)
    assert [node for node, *_ in journey(sip.sessions, uid)] == ["access_number"]


async def test_an_agent_whose_phone_unregisters_is_made_not_ready_with_the_reason(stack, store, sip, floor):
    ext = floor.agent({"general": 1})
    phone = await sip.desk_phone(ext, sip.phone(ext), AGENT_HZ)
    await phone.wait_for("registered", code=200)
    await floor.ready(ext)
    await phone.send("unregister")
    await wait_for_state(store, ext, "not_ready")
    assert (await store.agent(ext)).reason == "phone_unregistered"
    # ready again while the phone is still away: taken off again at once
    await floor.ready(ext)
    await wait_for_state(store, ext, "not_ready")
    assert (await store.agent(ext)).reason == "phone_unregistered"


async def test_a_call_for_an_agent_with_no_registered_phone_is_not_rung_into_nothing_but_goes_on(
        stack, ami, store, sip, floor):
    """The agent longest idle has no phone registered (and never said where calls ring, so only the
    dialplan's check stands between the call and nothing): Not ready, and the next agent answers."""
    skill = floor.skill(no_answer_limit=3)  # the miss limit would keep them ready: this is no miss
    absent, present = floor.agent({skill: 5}), floor.agent({skill: 1})
    sip.phone(absent, device=None)  # provisioned, never registered
    phone = await sip.desk_phone(present, sip.phone(present, device=None), AGENT_HZ, answer_after=0.5,
                                 hangup_after=3)
    await phone.wait_for("registered", code=200)
    await floor.reload()
    await floor.ready(absent, since=1.0)  # longest idle, best level: offered first
    await floor.ready(present)
    caller_number = fresh_number()
    caller = await sip.caller("next", sip.uri(sip.number(skill=skill)), CALLER_HZ, caller=caller_number)
    await phone.wait_for("state", state="CONFIRMED", timeout=30)
    floor.own_call(await wait_until(lambda: sip.call_uniqueid(caller_number), what="the call's row"))
    agent = await store.agent(absent)
    assert (agent.state, agent.reason) == ("not_ready", "phone_unregistered")
    await caller.wait_for("disconnected", timeout=20)


async def test_strangers_wrong_passwords_unlisted_numbers_and_a_phone_dialling_out_are_refused_but_not_a_test_call(
        stack, ami, sip, floor):
    ext = floor.agent({"general": 1})
    password = sip.phone(ext, device=None)
    number = sip.number()

    async def final(name: str, to: str, bind: str, **options) -> int:
        ua = await sip.caller(name, to, CALLER_HZ, bind=bind, hangup_after=1, **options)
        ended = await ua.wait_for("disconnected", timeout=20)
        assert not ua.seen("state", state="CONFIRMED"), f"{name} was answered"
        return ended["code"]

    assert await final("stranger", sip.uri(number), STRANGER_HOST) == 401  # no trunk has that address
    assert await final("guest", sip.uri(number), PHONE_HOST, user=ext) == 401  # a phone's name, no password
    assert await final("wrong", sip.uri(number), PHONE_HOST, user=ext, password="not-the-password") == 401
    assert await final("unlisted", sip.uri("29999"), CARRIER_HOST) == 404  # not a number the carrier delivers
    # the agent's own phone, authenticated, dialling a number outside: refused unanswered, nothing dialled
    before = len(ami.events.matching(Event="DialBegin"))
    assert await final("dial-out", sip.uri("00442071234567"), PHONE_HOST, user=ext, password=password) == 403
    assert len(ami.events.matching(Event="DialBegin")) == before
    # ... while the center's own access number reaches the hotline's menu (a test call, the demo)
    own = await sip.caller("own-number", sip.uri(number), CALLER_HZ, bind=PHONE_HOST, user=ext, password=password,
                           hangup_after=2)
    await own.wait_for("state", state="CONFIRMED", timeout=20)
    assert (await own.wait_for("disconnected", timeout=20))["code"] == 200


async def test_an_admin_adds_a_number_on_the_desktop_and_the_carrier_can_call_it_at_once(stack, sip, sessions):
    import requests

    from tests.integration.desktop_helpers import CSRF_FIELD, make_user, web_login

    make_user(sessions, "sipadmin", "admin")
    base = f"http://{stack.web_host}:{stack.web_port}"
    http, _token = web_login(base, "sipadmin", "/admin/sip/")
    page = http.get(f"{base}/admin/sip/", timeout=10).text
    number = "28888"
    reply = await asyncio.to_thread(http.post, f"{base}/admin/sip/numbers", timeout=20, allow_redirects=False, data={
        "number": number, "carrier": CARRIER, "target": "entry", "value": "main_menu",
        "csrf_token": CSRF_FIELD.search(page).group(1)})
    sip.numbers.append(number)  # removed again when the test ends
    assert reply.status_code == 302 and "outcome=applied" in reply.headers["Location"], reply.text[:300]
    caller = await sip.caller("admin-number", sip.uri(number), CALLER_HZ, hangup_after=2)
    await caller.wait_for("state", state="CONFIRMED", timeout=20)  # the menu answers: no restart needed
    assert isinstance(http, requests.Session)


async def test_a_call_back_leaves_through_the_carrier_marked_for_it_and_the_customer_hears_the_agent(
        stack, stack_env, ami, sip, sessions, floor):
    """The router rings the agent first (a simulated phone here), then dials the customer through
    the carrier marked outbound: the carrier (PJSIP's user agent on the trunk's address and port)
    receives the INVITE with the center's number as the caller, answers, and the call is done."""
    import uuid
    from datetime import timedelta

    from callcenter.models import Call, CallbackRequest, utcnow
    from callcenter.simulate import set_sim_phone

    number = sip.number()  # the number the carrier shows the customer
    out = cli(stack_env, "trunk", "add", CARRIER, "--host", CARRIER_HOST, "--port", "5060", "--outbound")
    assert "applied to the running Asterisk" in out, out
    carrier_side = await sip.carrier_side(CALLER_HZ, answer_after=0.5, hangup_after=2)
    skill = floor.skill()
    agent = floor.agent({skill: 3})
    await set_sim_phone(ami, agent, answer_after=0.5, talk_s=20)
    customer = fresh_number("1380061")
    uid = floor.own_call(f"callback-trunk-{uuid.uuid4().hex[:12]}")
    with sessions() as s:  # a request left out of hours, due now
        s.add(Call(uniqueid=uid, caller_number=customer, started_at=utcnow() - timedelta(hours=1), stage="ivr",
                   skill=skill, ended_at=utcnow() - timedelta(hours=1), end_reason="ivr_ended"))
        s.add(CallbackRequest(number=customer, call_uniqueid=uid, reason="out_of_hours", language="zh"))
        s.commit()
    try:
        await floor.ready(agent)
        await floor.reload()  # the router looks for due call backs at once after a reload
        incoming = await carrier_side.wait_for("incoming", timeout=40)
        assert number in incoming["remote"], incoming  # the center's number, not the customer's own
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid, timeout=40)
        assert ended["DialStatus"] == "ANSWER"
    finally:
        cli(stack_env, "trunk", "add", CARRIER, "--host", CARRIER_HOST, "--port", "5060")  # not outbound again
