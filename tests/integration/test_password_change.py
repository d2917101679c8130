"""The service password's life on the real Asterisk: a customer changes it from their own number
in the menu (key 7: the old one, then the new one twice) and from then on only the new one opens
the menu's secrets. Callers key DTMF as in test_ivr_menu.py."""
from __future__ import annotations

import asyncio

import redis as sync_redis
from sqlalchemy import select

from agent_desktop.acd_client import RouterClient
from callcenter.simulate import set_sim_phone

from callcenter.models import AuditEntry
from tests.integration.conftest import wait_until
from tests.integration.helpers import (call_row, ended_row, fresh_number, journey, make_customer, streamed,
                                       wait_for_state)
from tests.integration.test_ivr_menu import ACCESS, AGENT_LATER, GREETED, handed_off, nodes, prompt_names


async def test_a_password_change_from_the_menu_works_and_the_old_one_no_longer_does(stack, ami, sessions, floor):
    customer_id, number = make_customer(sessions, password="123456")
    # 7, the old password, the new one twice; then an agent
    script = GREETED + "7wwww123456wwwwww135790wwwwww135790" + "w" * 10 + AGENT_LATER
    uid = await floor.call(ACCESS, number, dtmf=script, hold_s=60)
    variables = await handed_off(ami, uid, timeout=80)
    assert "pwd_change/pwd_old/pwd_verify_old/pwd_new/pwd_new_again/pwd_save/pwd_changed" in variables["__CC_PATH"]
    steps = await wait_until(lambda: (j := journey(sessions, uid)) and "to_agent" in nodes(j) and j,
                             what="journey saved")
    assert ("pwd_verify_old", None, "ok") in steps and ("pwd_save", None, "ok") in steps
    assert [i for n, i, _ in steps if n in ("pwd_old", "pwd_new", "pwd_new_again")] == ["******"] * 3
    assert "password_changed" in prompt_names(ami.events, uid)
    assert not any("135790" in p or "123456" in p for p in streamed(ami.events, uid))
    with sessions() as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.target == f"customer:{customer_id}")) \
            == "password_changed"

    # the next call: the old password is wrong for the bill, the new one opens it
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "1wwww123456wwwwww135790", hold_s=25)
    await wait_until(lambda: [o for n, _, o in journey(sessions, uid) if n == "verify_password"] == ["wrong", "ok"],
                     timeout=60, what="old password refused, new one accepted")
    assert "bill_say" in nodes(journey(sessions, uid)) or await wait_until(
        lambda: "bill_say" in nodes(journey(sessions, uid)), timeout=20, what="bill read out")
    await wait_until(ended_row(sessions, uid), timeout=40, what="second call closed")


async def test_an_unidentified_caller_hears_the_number_is_unknown_never_locked(stack, ami, sessions, floor):
    unknown = fresh_number("1390000")
    # English, the service number skipped (#), the bill (1): a password with no customer behind it
    uid = await floor.call(ACCESS, unknown, dtmf="wwww9wwwwwwww#wwwwww1wwww123456", hold_s=40)
    variables = await handed_off(ami, uid)
    assert variables["__CC_HANDOFF_REASON"] == "password_unknown_caller" and variables["__CC_SKILL"] == "general"
    heard = prompt_names(ami.events, uid, "en")
    assert "number_unknown" in heard and "password_locked" not in heard
    assert ("verify_password", None, "unknown") in journey(sessions, uid)


async def test_the_agent_sends_the_caller_to_the_password_check_and_gets_them_back_verified(
        stack, ami, sessions, store, floor):
    ext = floor.agent({"consult": 5})
    await floor.reload()
    await set_sim_phone(ami, ext, answer_after=1, talk_s=80)
    await floor.ready(ext)
    _, number = make_customer(sessions, password="111111")  # any six 1s the caller keys are right
    # enquiries (5); talking to the agent a while; then the password again and again, 4 s apart
    # (longer than the wait between digits), which the bridge ignores until the check asks for it
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "5" + "w" * 24 + ("111111" + "w" * 8) * 10, hold_s=90)
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, Agent=ext, timeout=40)
    await wait_for_state(store, ext, "on_call")
    assert not call_row(sessions, uid)().password_verified  # the menu asked no password on the way
    router = RouterClient(sync_redis.Redis.from_url(stack.effective_redis_url, decode_responses=True))
    result = await asyncio.to_thread(router.send, "verify", ext=ext, call=uid)
    assert result.ok, result
    back = await ami.events.wait_for(Event="UserEvent", UserEvent="CallerVerified", CallId=uid, timeout=60)
    assert back["Verified"] == "1" and back["Agent"] == ext
    assert call_row(sessions, uid)().password_verified  # what the screen-pop's badge reads
    steps = journey(sessions, uid)
    assert ("agent_verify", None, "sent by agent") in steps and ("verify_password", None, "ok") in steps
    assert "password_verified" in prompt_names(ami.events, uid)
    # back with the agent: the call no longer held, the agent still on it
    async def unheld():
        call = await store.call(uid)
        return call if call is not None and not call.held else None
    call = await wait_until(unheld, timeout=20, what="call un-held")
    assert call.agent == ext and (await store.agent(ext)).state == "on_call"
