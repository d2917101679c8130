"""A team lead unlocks a locked service password on the real stack (issue 12): a caller locks
their password by keying it wrong three times in the real menu (real Asterisk, DTMF, the IVR
counting in SQLite); an agent is refused the unlock (FORBIDDEN, nothing changed); the lead finds
the customer on the unlock screen in a real Chromium, says how the identity was checked and
unlocks; the caller's next call verifies with the right password. Callers key DTMF as in
test_ivr_menu.py."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from callcenter.models import AuditEntry, Customer
from tests.integration.conftest import wait_until
from tests.integration.desktop_helpers import make_user, web_login
from tests.integration.helpers import ended_row, journey, make_customer
from tests.integration.test_desktop import base_url, open_page
from tests.integration.test_ivr_menu import ACCESS, GREETED, handed_off, prompt_names

WRONG_THREE_TIMES = GREETED + "1wwww111111wwwwww222222wwwwww333333"  # the bill (1), three wrong passwords


def lock_state(sessions, customer_id):
    with sessions() as s:
        customer = s.get(Customer, customer_id)
        return customer.password_locked_until, customer.password_failures


@pytest.mark.timeout(300)
async def test_a_lead_unlocks_a_password_the_menu_locked_and_the_next_call_verifies(stack, ami, sessions, floor,
                                                                                  browser):
    customer_id, number = make_customer(sessions, password="135790")
    make_user(sessions, "pu_agent", "agent", ext=floor.extension())
    make_user(sessions, "pu_lead", "supervisor")

    # 1. the real menu locks it: three wrong tries, the caller told and sent to an agent
    uid = await floor.call(ACCESS, number, dtmf=WRONG_THREE_TIMES, hold_s=40)
    variables = await handed_off(ami, uid, timeout=90)
    assert variables["__CC_HANDOFF_REASON"] == "password_locked" and variables["__CC_VERIFIED"] == "0"
    assert "password_locked" in prompt_names(ami.events, uid)
    tries = await wait_until(lambda: (t := [o for n, _, o in journey(sessions, uid) if n == "verify_password"])
                             and t[-1] == "locked" and t, timeout=40, what="journey saved")
    assert tries == ["wrong", "wrong", "locked"]
    until, _ = lock_state(sessions, customer_id)
    assert until is not None
    await wait_until(ended_row(sessions, uid), timeout=60, what="locking call closed")

    # 2. an agent may not unlock it: a stable code, nothing changed
    http, token = web_login(base_url(stack), "pu_agent", "/agent")
    reply = http.post(f"{base_url(stack)}/api/customers/{customer_id}/password-unlock",
                      json={"identity_check": "id_document"}, headers={"X-CSRF-Token": token}, timeout=10)
    assert reply.status_code == 403 and reply.json()["code"] == "FORBIDDEN"
    reply = http.get(f"{base_url(stack)}/customers/password?number={number}", timeout=10)
    assert reply.status_code == 403
    assert lock_state(sessions, customer_id)[0] == until

    # 3. the lead, in the browser: find the customer, see the lock, say how identity was checked, unlock
    lead = await open_page(browser, stack, "pu_lead", "/wallboard")
    async with lead.expect_navigation():
        await lead.click('nav a[href="/customers/password"]')
    await lead.fill("#unlock-number", number)
    async with lead.expect_navigation():
        await lead.click("#btn-find-customer")
    assert await lead.get_attribute("#lock-state", "data-locked") == "yes"
    # no identity check chosen: the browser does not send the form (the server would refuse it too)
    assert await lead.evaluate("document.getElementById('unlock-form').checkValidity()") is False
    await lead.check('input[name="identity_check"][value="account_details"]')
    await lead.fill("#unlock-note", "caller named the plan and the last bill")
    async with lead.expect_navigation():
        await lead.click("#btn-unlock")
    assert await lead.text_content("#unlock-result") == "Service password unlocked"
    assert await lead.get_attribute("#lock-state", "data-locked") == "no"
    assert lock_state(sessions, customer_id) == (None, 0)
    with sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "password_unlocked",
                                                  AuditEntry.target == f"customer:{customer_id}"))
        assert entry.actor == "pu_lead" and "account_details" in entry.detail
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "view_customer", AuditEntry.actor == "pu_lead",
                                                 AuditEntry.target == f"customer:{customer_id}")) is not None
    assert lead.alerts == []

    # 4. the caller's next call: the right password opens the bill
    uid = await floor.call(ACCESS, number, dtmf=GREETED + "1wwww135790", hold_s=30)
    await wait_until(lambda: [o for n, _, o in journey(sessions, uid) if n == "verify_password"] == ["ok"],
                     timeout=60, what="the right password accepted")
    await wait_until(lambda: "bill_say" in [n for n, _, _ in journey(sessions, uid)], timeout=30, what="bill read")
    await wait_until(ended_row(sessions, uid), timeout=60, what="second call closed")
