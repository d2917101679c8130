"""Every branch of the hotline menu, driven with DTMF on the real Asterisk.

Callers are Local channels keying a SendDTMF script ("w" = half a second of waiting). A key
pressed during a non-interruptible announcement is lost, as with a real caller, so scripts that
must land after one press the key a few times.
"""
from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from callcenter.models import Account, AuditEntry, CallbackRequest, Customer, IvrAttempt, RechargeCard, WorkOrder
from callcenter.runtime.ports import is_listening
from callcenter.runtime.supervisor import read_status
from ivr import speech
from tests.integration.conftest import log_size, read_log, wait_until
from tests.integration.helpers import call_row, ended_row, fresh_number, handoff, journey, make_customer, streamed

ACCESS = "10000"
AGENT_LATER = "0w" * 12  # keep pressing 0 until the "after service" menu hears it
GREETED = "w" * 10  # a known caller first hears the greeting (about 4 s), which keys do not cut
UNKNOWN_TO_NUMBER = "w" * 20  # an unknown caller: language menu, then its 3 s timeout (Mandarin)


async def handed_off(ami, uniqueid, timeout=60.0) -> dict[str, str]:
    await ami.events.wait_for(Event="VarSet", Uniqueid=uniqueid, Variable="CC_IVR_RESULT", Value="ok",
                              timeout=timeout)
    return handoff(ami.events, uniqueid)


def nodes(steps):
    return [node for node, _, _ in steps]


def prompt_names(events, uniqueid, language="zh"):
    return [p.rsplit("/", 2)[-1] for p in streamed(events, uniqueid) if f"/{language}/" in p]


async def test_bill_query_with_the_right_password(stack, ami, sessions, floor):
    customer_id, number = make_customer(sessions, balance_cents=4_250, bill_cents=5_900)
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "1wwww123456" + "w" * 30 + AGENT_LATER, hold_s=50)
    variables = await handed_off(ami, uid, timeout=70)
    assert variables["__CC_VERIFIED"] == "1" and variables["__CC_SKILL"] == "general"
    assert variables["__CC_HANDOFF_REASON"] == "caller_asked"
    assert variables["__CC_CUSTOMER_ID"] == str(customer_id) and variables["__CC_LANGUAGE"] == "zh"
    assert "password/verify_password/bill/bill_say" in variables["__CC_PATH"]
    # the balance and the bill were spoken in Mandarin fragments: 四十二元五角, 五十九元
    heard = prompt_names(ami.events, uid)
    at = heard.index("balance_is")
    assert heard[at + 1: at + 1 + len(speech.amount(4_250, "zh"))] == speech.amount(4_250, "zh")
    assert heard[heard.index("last_bill_is") + 1] == speech.amount(5_900, "zh")[0]
    steps = await wait_until(lambda: (j := journey(sessions, uid)) and "to_agent" in nodes(j) and j,
                             what="journey saved")
    assert ("password", "******", "ok") in steps  # the secret is masked
    assert ("verify_password", None, "ok") in steps
    row = await wait_until(lambda: (r := call_row(sessions, uid)()) and r.handoff_reason and r, what="call row")
    assert row.password_verified and row.handoff_reason == "caller_asked"


async def test_three_wrong_passwords_lock_even_across_an_ivr_restart(stack, ami, sessions, floor):
    customer_id, number = make_customer(sessions)
    # two wrong tries, then the caller hangs up
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "1wwww111111wwwwww222222", hold_s=6)
    await wait_until(ended_row(sessions, uid), timeout=40, what="first call closed")
    assert [o for n, _, o in journey(sessions, uid) if n == "verify_password"] == ["wrong", "wrong"]
    with sessions() as s:
        assert s.get(Customer, customer_id).password_failures == 2
    # the IVR restarts; the count stays in the database
    ivr = read_status(stack.run_dir)["services"]["ivr"]
    os.kill(ivr["pid"], signal.SIGKILL)
    await wait_until(lambda: read_status(stack.run_dir)["services"]["ivr"]["restarts"] > ivr["restarts"]
                     and is_listening(stack.agi_port), timeout=30, what="ivr back")
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "1wwww333333", hold_s=40)
    variables = await handed_off(ami, uid)
    assert variables["__CC_HANDOFF_REASON"] == "password_locked" and variables["__CC_SKILL"] == "general"
    assert variables["__CC_VERIFIED"] == "0"
    assert "password_locked" in prompt_names(ami.events, uid)
    with sessions() as s:
        assert s.get(Customer, customer_id).password_locked_until is not None
    # locked: even the right password goes to an agent, with the reason on the call
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "1wwww123456", hold_s=40)
    variables = await handed_off(ami, uid)
    assert variables["__CC_HANDOFF_REASON"] == "password_locked" and variables["__CC_VERIFIED"] == "0"


def _card(sessions, number, pin, cents):
    with sessions() as s:
        card = RechargeCard(number=number, amount_cents=cents)
        card.set_pin(pin)
        s.add(card)
        s.commit()


def _balance(sessions, customer_id):
    with sessions() as s:
        return s.scalar(select(Account.balance_cents).where(Account.customer_id == customer_id))


async def test_recharge_with_a_valid_card_then_the_same_card_again(stack, ami, sessions, floor):
    customer_id, number = make_customer(sessions, balance_cents=1_000)
    card = "88" + fresh_number("9")[-14:].rjust(14, "0")
    _card(sessions, card, "246810", 5_000)
    script = GREETED + "2wwww123456wwwwww" + card + "wwwwww246810#"
    uid = await floor.call(ACCESS, number, dtmf=script, hold_s=45)
    await wait_until(lambda: "recharge" in nodes(journey(sessions, uid)), timeout=60, what="recharge done")
    assert ("recharge", None, "ok") in journey(sessions, uid)
    assert _balance(sessions, customer_id) == 6_000
    await ami.events.wait_for(Event="AGIExecStart", Uniqueid=uid,
                              Command=f'STREAM FILE "{stack.prompts_dir}/zh/recharge_ok" ""')
    # the same card on a second call: refused with a clear prompt, balance unchanged
    uid2 = await floor.call(ACCESS, number, dtmf=script, hold_s=45)
    await wait_until(lambda: "recharge" in nodes(journey(sessions, uid2)), timeout=60, what="second recharge")
    assert ("recharge", None, "used") in journey(sessions, uid2)
    await ami.events.wait_for(Event="AGIExecStart", Uniqueid=uid2,
                              Command=f'STREAM FILE "{stack.prompts_dir}/zh/recharge_used" ""')
    assert _balance(sessions, customer_id) == 6_000
    with sessions() as s:
        assert s.scalar(select(RechargeCard).where(RechargeCard.number == card)).used_at is not None


async def test_fault_report_opens_a_work_order_and_speaks_its_number(stack, ami, sessions, floor):
    customer_id, number = make_customer(sessions)
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "3wwww1", hold_s=30)
    order = await wait_until(lambda: _order_for_call(sessions, uid), timeout=40, what="work order")
    assert order.customer_id == customer_id and order.caller_number == number
    assert order.category == "fault_phone" and order.status == "new" and order.group_code == "repair"
    await ami.events.wait_for(Event="AGIExecStart", Uniqueid=uid,
                              Command=f'STREAM FILE "{stack.prompts_dir}/zh/after_service" "0123456789*#"')
    heard = prompt_names(ami.events, uid)
    at = heard.index("fault_created")
    assert heard[at + 1: at + 1 + len(order.number)] == speech.digits(order.number, "zh")


def _order_for_call(sessions, uid):
    with sessions() as s:
        return s.scalar(select(WorkOrder).where(WorkOrder.call_uniqueid == uid))


async def test_order_status_by_number(stack, ami, sessions, floor):
    customer_id, number = make_customer(sessions)
    order_number = "27" + fresh_number("0")[-8:]
    with sessions() as s:
        s.add(WorkOrder(number=order_number, customer_id=customer_id, caller_number=number,
                        category="fault_broadband", status="in_progress"))
        s.commit()
    uid = await floor.call(ACCESS, number, dtmf=GREETED + f"4wwww{order_number}#", hold_s=40)
    await ami.events.wait_for(Event="AGIExecStart", Uniqueid=uid, timeout=40,
                              Command=f'STREAM FILE "{stack.prompts_dir}/zh/status_in_progress" ""')
    heard = prompt_names(ami.events, uid)
    at = heard.index("order_is")
    assert heard[at + 1: at + 1 + len(order_number)] == speech.digits(order_number, "zh")
    assert ("order_number", order_number, "ok") in journey(sessions, uid)


async def test_out_of_hours_takes_a_callback_request_confirmed_by_keypad(stack, ami, sessions, floor):
    _, number = make_customer(sessions)
    hours = stack.home / "business_hours.toml"
    saved = hours.read_text()
    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    hours.write_text(f'timezone = "Asia/Shanghai"\nopen = "08:00"\nclose = "20:00"\nholidays = ["{today}"]\n')
    try:
        uid = await floor.call(ACCESS, number, dtmf=GREETED + "1" + "w" * 22 + "1", hold_s=60)
        await ami.events.wait_for(Event="VarSet", Uniqueid=uid, Variable="CC_IVR_RESULT", Value="hangup",
                                  timeout=60)
        with sessions() as s:
            request = s.scalar(select(CallbackRequest).where(CallbackRequest.call_uniqueid == uid))
            assert request.number == number and request.reason == "out_of_hours" and request.status == "pending"
            # dialling it once the center opens is the router's (test_callbacks): not for other tests' agents
            s.delete(request)
            s.commit()
    finally:
        hours.write_text(saved)
    heard = prompt_names(ami.events, uid)
    assert heard[:2] == ["welcome", "hours_are"]  # the closed-hours menu, cut short by the key
    at = heard.index("callback_at")
    assert heard[at + 1: at + 1 + len(number)] == speech.digits(number, "zh")  # the number read back
    row = await wait_until(ended_row(sessions, uid), timeout=30, what="call closed")
    assert row.end_reason == "ivr_ended"


async def test_silence_goes_to_a_general_agent(stack, ami, sessions, floor):
    unknown = fresh_number("1390000")
    uid = await floor.call(ACCESS, unknown, hold_s=90)
    variables = await handed_off(ami, uid, timeout=90)
    assert variables["__CC_SKILL"] == "general"
    assert variables["__CC_HANDOFF_REASON"] == "no_input_x3_at_service_number"
    assert [o for n, _, o in journey(sessions, uid) if n == "service_number"] == ["timeout"] * 3


async def test_english_selection(stack, ami, sessions, floor):
    unknown = fresh_number("1390000")
    uid = await floor.call(ACCESS, unknown, dtmf="wwww9wwwwwwww#wwwwww5", hold_s=40)
    variables = await handed_off(ami, uid)
    assert variables["__CC_LANGUAGE"] == "en" and variables["__CC_SKILL"] == "consult"
    files = streamed(ami.events, uid)
    assert f"{stack.prompts_dir}/en/main_menu" in files
    assert not [f for f in files[2:] if "/zh/" in f]  # after choosing English, nothing in Mandarin


async def test_bad_keys_in_number_fields_are_refused_and_retried(stack, ami, sessions, floor):
    _, number = make_customer(sessions)
    # a 7-digit password, then a card number with * in it
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "1wwww1234567", hold_s=6)
    await wait_until(ended_row(sessions, uid), timeout=40, what="call closed")
    assert ("password", "******", "invalid") in journey(sessions, uid)
    unknown = fresh_number("1390000")
    uid = await floor.call(ACCESS, unknown, dtmf=UNKNOWN_TO_NUMBER + "138*0001#", hold_s=6)
    await wait_until(ended_row(sessions, uid), timeout=40, what="call closed")
    assert ("service_number", "138*0001", "invalid") in journey(sessions, uid)


async def test_hostile_caller_name_goes_to_a_general_agent_and_reaches_nothing(stack, ami, sessions, floor):
    # Asterisk writes the name raw into the AGI headers: its line feeds forge header lines (and
    # could end the block early and answer our commands). The FastAGI server refuses such a
    # request, and the dialplan's fail-safe sends the caller to agi_fail: a general agent.
    name = 'Zhang "San"\nagi_extension: 666\n$(reboot) `id` ; DROP TABLE calls'
    log_from = log_size(stack, "ivr")  # what other tests' calls wrote is theirs
    number = fresh_number("1390000")
    uid = await floor.call(ACCESS, number, dtmf=UNKNOWN_TO_NUMBER + "#wwwwww0", hold_s=25, any_name=name)
    failed = await ami.events.wait_for(Event="UserEvent", UserEvent="IvrFailed", CallId=uid, timeout=30)
    assert failed["Reason"] == "ivr_error"
    queued = await ami.events.wait_for(Event="UserEvent", UserEvent="CallQueued", CallId=uid, timeout=30)
    assert queued["Skill"] == "general"
    row = await wait_until(ended_row(sessions, uid), timeout=40, what="call closed")
    assert row.caller_number == number and row.access_number != "666" and row.end_detail == "ivr_error"
    log = read_log(stack, "ivr", since=log_from)
    assert "refused AGI request" in log and "Traceback" not in log


async def test_recharge_pin_guessing_locks_the_card_and_the_caller_hears_why(stack, ami, sessions, floor):
    customer_id, number = make_customer(sessions, balance_cents=1_000)
    card = "88" + fresh_number("9")[-14:].rjust(14, "0")
    _card(sessions, card, "246810", 5_000)
    with sessions() as s:  # two wrong PINs on this card earlier today, from other calls
        card_id = s.scalar(select(RechargeCard.id).where(RechargeCard.number == card))
        s.add_all([IvrAttempt(at=datetime.now(timezone.utc), kind="recharge", outcome="wrong",
                              call_uniqueid=f"earlier.{i}", caller_number="13900000000", card_id=card_id)
                   for i in range(2)])
        s.commit()
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "2wwww123456wwwwww" + card + "wwwwww000000#", hold_s=45)
    variables = await handed_off(ami, uid)
    assert variables["__CC_HANDOFF_REASON"] == "recharge_locked" and variables["__CC_SKILL"] == "general"
    assert "recharge_locked" in prompt_names(ami.events, uid)  # told why before the agent
    steps = await wait_until(lambda: (j := journey(sessions, uid)) and "to_agent_recharge_locked" in nodes(j) and j,
                             what="journey saved")
    assert ("card_number", card[:4] + "*" * 8 + card[-4:], "ok") in steps and ("recharge", None, "locked") in steps
    assert not [step for step in steps if card in str(step)]
    assert _balance(sessions, customer_id) == 1_000
    with sessions() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "recharge_card_locked",
                                                 AuditEntry.target == f"card:{card[:4]}{'*' * 8}{card[-4:]}"))


async def test_the_fastagi_server_refuses_a_request_without_the_secret(stack):
    # Asterisk's own AGI() calls carry the secret (every menu test above passes through them); any
    # other local process that speaks AGI to the server is refused before a command is sent.
    log_from = log_size(stack, "ivr")
    etc = (stack.asterisk_dir / "etc" / "extensions.conf").read_text()
    assert f"agi://127.0.0.1:{stack.agi_port}/{stack.agi_secret}/hotline" in etc
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.agi_port)
    writer.write(b"agi_network: yes\nagi_network_script: hotline\nagi_uniqueid: 1700000000.99\n"
                 b"agi_callerid: 13800000001\n\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed, not a single command
    writer.close()
    log = await wait_until(lambda: (text := read_log(stack, "ivr", since=log_from)) and "without the AGI secret" in text
                           and text, what="refusal logged")
    assert stack.agi_secret not in log
