"""Real SIP on the real Asterisk: a carrier's caller (PJSIP's own user agent, sending from the
trunk's address) reaches an agent whose desk phone is a registered SIP endpoint, and each side
hears the other's tone; an agent whose phone is not registered is made Not ready and never rung
into nothing; strangers, wrong passwords and a phone dialling out are refused.

Each side sends its own tone (the caller 440 Hz, the agent 1000 Hz) and records what it hears;
the recordings are measured (tests/sip/audio.py), not assumed.
"""
from __future__ import annotations

import asyncio

import pytest

from tests.integration.conftest import wait_until
from tests.integration.helpers import fresh_number, journey, wait_for_state
from tests.integration.sip_world import CARRIER, CARRIER_HOST, PHONE_HOST, STRANGER_HOST, SipWorld, cli
from tests.sip import audio

CALLER_HZ, AGENT_HZ = 440, 1000


@pytest.fixture(scope="module")
def carrier(stack, stack_env):
    """The carrier's trunk, declared as an operator does (`callcenter trunk add`), applied live."""
    out = cli(stack_env, "trunk", "add", CARRIER, "--host", CARRIER_HOST, "--port", "5060")
    assert "applied to the running Asterisk" in out, out
    yield CARRIER
    cli(stack_env, "trunk", "remove", CARRIER)


@pytest.fixture
async def sip(stack, stack_env, sessions, carrier, tmp_path):
    world = SipWorld(stack, stack_env, sessions, tmp_path)
    yield world
    await world.close()


def _offset(ua, start_at: float) -> float:
    """Where wall-clock time `start_at` falls in what `ua` recorded (it records from its first media)."""
    return max(0.0, start_at - ua.seen("media")[0]["at"])


def heard(ua, start_at: float, seconds: float = 2.0) -> tuple[float, float]:
    """The dominant frequency in what `ua` recorded from wall-clock time `start_at`, and its share."""
    return audio.dominant(ua.record, start_s=_offset(ua, start_at), seconds=seconds)


def loudness(ua, start_at: float, seconds: float = 2.0) -> float:
    return audio.rms(ua.record, start_s=_offset(ua, start_at), seconds=seconds)


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
