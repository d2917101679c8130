"""The agent desktop against the real stack: real Asterisk calls, the real router, Redis, the
push process, two web workers, and a real headless Chromium (Playwright on /usr/bin/chromium).
"""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
import socketio
from sqlalchemy import select

from agent_desktop.i18n import translate
from callcenter.models import AuditEntry, CallTransfer, CallWrapup, Customer, WorkOrder
from callcenter.runtime.ports import is_listening
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import free_port, wait_until
from tests.integration.desktop_helpers import PASSWORD, make_user, socket_client, web_login
from tests.integration.helpers import ended_row, make_customer

ACCESS = "10000"
COMPLAINT = "w" * 10 + "6"  # main menu 6: complaint
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
# The caller's service password, keyed again and again 4 s apart once they talk to the agent
# (the bridge ignores it) until the agent's password check asks for it; no 1: a 1 while waiting
# in the queue asks for a call back.
SERVICE_PASSWORD = "222222"
KEYS_THE_PASSWORD_LATER = "w" * 30 + (SERVICE_PASSWORD + "w" * 8) * 11


def base_url(stack) -> str:
    return f"http://{stack.web_host}:{stack.web_port}"


@pytest.fixture
def second_worker(stack_env, stack):
    """A second web worker on its own port, behind the same Redis."""
    port = free_port()
    env = {**stack_env, "CC_WEB_PORT": str(port)}
    worker = subprocess.Popen([sys.executable, "-m", "agent_desktop"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not is_listening(port):
        assert worker.poll() is None, f"the second web worker exited with {worker.returncode}"
        assert time.monotonic() < deadline, "the second web worker did not listen within 20 s"
        time.sleep(0.1)
    yield url
    worker.terminate()
    worker.wait(10)


def received(client: socketio.Client, event: str) -> list:
    seen: list = []
    client.on(event, seen.append)
    return seen


async def until(predicate, what: str, timeout: float = 15):
    return await wait_until(predicate, timeout=timeout, what=what)


async def test_two_web_workers_share_one_floor_and_foreign_sites_are_refused(stack, sessions, second_worker, floor):
    ext = floor.extension()
    make_user(sessions, "w_agent", "agent", ext=ext, team="team-w")
    make_user(sessions, "w_lead", "supervisor", team="team-w", lead=True)
    first = base_url(stack)
    agent_http, agent_token = web_login(first, "w_agent")
    lead_http, lead_token = web_login(second_worker, "w_lead")
    agent = socket_client(first, agent_http, agent_token)
    lead = socket_client(second_worker, lead_http, lead_token)
    try:
        states, boards = received(agent, "agent_state"), received(lead, "wallboard_agents")
        reply = lead.call("supervise_state", {"ext": ext, "to": "not_ready"}, timeout=10)
        assert reply == {"ok": True, "state": "not_ready"}
        # the change went router -> Redis -> push process -> Redis message queue -> worker 1 -> agent
        await until(lambda: any(s["state"] == "not_ready" and s["reason"] == "supervisor" for s in states),
                    "agent's socket on worker 1 told")
        await until(lambda: any(a["ext"] == ext and a["state"] == "not_ready"
                                for board in boards for a in board["agents"]), "wallboard on worker 2 told")
        with sessions() as s:
            entry = s.scalar(select(AuditEntry).where(AuditEntry.actor == "w_lead", AuditEntry.target == ext))
            assert entry.action == "agent_state" and entry.detail == "to not_ready (supervisor)"
        # the agent may not do a supervisor's work, on either worker
        assert agent.call("supervise_state", {"ext": ext, "to": "ready"}, timeout=10)["code"] == "FORBIDDEN"
    finally:  # the floor logs the agent out
        agent.disconnect()
        lead.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        socket_client(first, agent_http, agent_token, headers={"Origin": "http://evil.example"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        socket_client(first, agent_http, "not-the-token")



async def open_page(browser, stack, username: str, path: str):
    # bypass_csp: our own checks evaluate script in the page; and escaping is tested without CSP's help
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    page.alerts = []
    page.on("dialog", lambda dialog: (page.alerts.append(dialog.message), asyncio.ensure_future(dialog.dismiss())))
    await page.goto(base_url(stack) + "/login?lang=en")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await page.wait_for_url(base_url(stack) + path)
    return page


def agent_row(ext: str, state: str) -> str:
    return f'#agents .tile[data-ext="{ext}"][data-state="{state}"]'  # the wallboard shows agents as tiles


async def test_a_call_from_screen_pop_to_wrap_up_in_the_browser(stack, sessions, ami, store, browser, floor):
    first, second = floor.extension(), floor.extension()
    make_user(sessions, "b_agent1", "agent", ext=first, team="team-b")
    make_user(sessions, "b_agent2", "agent", ext=second, team="team-b")
    make_user(sessions, "b_lead", "supervisor", team="team-b", lead=True)
    floor.agent({"complaint": 5}, ext=first)
    floor.agent({"billing": 5}, ext=second)
    floor.queue("billing", ring_time_s=15, wrapup_s=60, service_level_s=20, overflow="", no_answer_limit=1)
    await floor.reload()
    customer_id, number = make_customer(sessions, name=HOSTILE_NAME, vip_level=2, password=SERVICE_PASSWORD)
    await set_sim_phone(ami, first, answer_after=6, talk_s=120)
    await set_sim_phone(ami, second, answer_after=3, talk_s=120)

    lead = await open_page(browser, stack, "b_lead", "/wallboard")
    one = await open_page(browser, stack, "b_agent1", "/agent")
    two = await open_page(browser, stack, "b_agent2", "/agent")
    for page in (one, two):
        await page.click("#btn-ready")
        await page.wait_for_selector('#state[data-state="ready"]')
    await lead.wait_for_selector(agent_row(first, "ready"))

    uid = await floor.call(ACCESS, number, dtmf=COMPLAINT + KEYS_THE_PASSWORD_LATER, hold_s=150)
    # the screen-pop is there while the phone still rings, with the right customer, as text; the
    # caller ID named them but nobody keyed the password yet: the minimum (issue 15)
    await one.wait_for_selector('#state[data-state="ringing"]', timeout=60_000)
    await one.wait_for_function("document.getElementById('pop-name').textContent.length > 0", timeout=5_000)
    assert await one.get_attribute("#state", "data-state") == "ringing"
    assert await one.text_content("#pop-name") == HOSTILE_NAME[0] + "*" * (len(HOSTILE_NAME) - 1)
    assert await one.get_attribute("#pop-queue", "data-skill") == "complaint"  # the code; words for people
    assert await one.text_content("#pop-password-text") == translate("password_not_verified", "en")
    assert await one.is_visible("#pop-unverified") and await one.is_hidden("#pop-vip-badge")
    later = translate("shown_when_verified", "en")
    assert [await one.text_content(f"#pop-{part}") for part in ("vip", "plan", "balance")] == [later] * 3
    assert await one.is_hidden("#pop-accounts-wrap") and await one.is_hidden("#pop-orders-section")
    assert await one.locator("#pop-journey li").count() > 0  # the menu path the caller took
    assert await one.locator("#pop img").count() == 0 and one.alerts == []
    await lead.wait_for_selector(agent_row(first, "ringing"))

    # answered (the simulated phone); the agent sends the caller to the password check: back
    # verified, the push process pushes the pop again, now in full
    await one.wait_for_selector('#state[data-state="on_call"]', timeout=20_000)
    await lead.wait_for_selector(agent_row(first, "on_call"))
    await one.click("#btn-verify")
    await one.wait_for_function("document.getElementById('pop-vip').textContent === '2'", timeout=60_000)
    assert await one.text_content("#pop-name") == HOSTILE_NAME
    assert await one.text_content("#pop-password-text") == translate("password_verified", "en")
    assert "42.50" in await one.text_content("#pop-balance")
    assert await one.is_hidden("#pop-unverified") and await one.is_visible("#pop-vip-badge")
    assert await one.is_visible("#pop-accounts-wrap") and await one.is_visible("#pop-orders-section")
    assert await one.locator("#pop img").count() == 0 and one.alerts == []

    async def unheld():
        call = await store.call(uid)
        return call if call is not None and not call.held else None
    await wait_until(unheld, timeout=20, what="the caller back with the agent")

    # a work order from the screen-pop
    await one.fill("#wo-description", "double charge on the October bill")
    await one.select_option("#wo-category", "billing")
    await one.click("#btn-work-order")
    await one.wait_for_function("/^[0-9]{12}$/.test(document.getElementById('wo-result').textContent)",
                                timeout=10_000)
    order_number = await one.text_content("#wo-result")
    with sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == order_number))
        assert (order.customer_id, order.call_uniqueid, order.created_by) == (customer_id, uid, "b_agent1")
    await one.wait_for_selector(f"#pop-orders li:has-text('{order_number}')")  # on the profile at once

    # hold: the caller hears music (a new MusicOnHoldStart); resume: back in a bridge with the agent
    moh_before = len(ami.events.matching(Event="MusicOnHoldStart", Uniqueid=uid))
    await one.click("#btn-hold")
    await one.wait_for_selector("#held", state="visible", timeout=10_000)
    await until(lambda: len(ami.events.matching(Event="MusicOnHoldStart", Uniqueid=uid)) > moh_before,
                "music to the held caller")
    bridges_before = len(ami.events.matching(Event="BridgeEnter", Uniqueid=uid))
    await one.click("#btn-resume")
    await one.wait_for_selector("#held", state="hidden", timeout=10_000)
    await until(lambda: len(ami.events.matching(Event="BridgeEnter", Uniqueid=uid)) > bridges_before,
                "caller bridged back to the agent")
    assert not (await store.call(uid)).held

    # transfer to the billing skill with a note: the second agent's screen-pop shows it
    await one.select_option("#transfer-skill", "billing")
    await one.fill("#transfer-note", "refund promised <b>today</b>")
    await one.click("#btn-transfer")
    await one.wait_for_selector('#state[data-state="wrapup"]', timeout=10_000)
    await lead.wait_for_selector(agent_row(first, "wrapup"))
    await two.wait_for_selector("#pop-notes li", timeout=30_000)
    assert await two.text_content("#pop-notes li") == f"{first}: refund promised <b>today</b>"
    assert await two.text_content("#pop-name") == HOSTILE_NAME
    await two.wait_for_selector('#state[data-state="on_call"]', timeout=20_000)
    await lead.wait_for_selector(agent_row(second, "on_call"))

    # the first agent's wrap-up: a disposition, then ready by choice
    await one.select_option("#disposition", "order_created")
    await one.fill("#wrapup-notes", "passed to billing")
    await one.click("#btn-wrapup-ready")
    await one.wait_for_selector('#state[data-state="ready"]', timeout=10_000)
    await lead.wait_for_selector(agent_row(first, "ready"))
    with sessions() as s:
        wrap = s.scalar(select(CallWrapup).where(CallWrapup.call_uniqueid == uid, CallWrapup.extension == first))
        assert (wrap.disposition, wrap.notes) == ("order_created", "passed to billing")
        note = s.scalar(select(CallTransfer).where(CallTransfer.call_uniqueid == uid))
        assert (note.from_extension, note.to_skill) == (first, "billing")

    # the second agent hangs up from the desktop: wrap-up, and the call record says so
    await two.click("#btn-hangup")
    await two.wait_for_selector('#state[data-state="wrapup"]', timeout=10_000)
    await lead.wait_for_selector(agent_row(second, "wrapup"))
    row = await wait_until(ended_row(sessions, uid), what="call closed")
    assert row.end_reason == "agent_hangup" and row.recording_path
    # the wallboard counts the call as answered in the queue it ended in
    try:
        await lead.wait_for_function("""() => {
            const cell = document.querySelector('#queues tr[data-skill="billing"] td.answered');
            return cell !== null && Number(cell.textContent) >= 1; }""", timeout=10_000)
    except Exception:
        board = await lead.evaluate("fetch('/api/wallboard').then(r => r.json())")
        raise AssertionError(f"wallboard: {await lead.inner_text('#queues')!r}; api: {board}; call: "
                             f"{(row.skill, row.queued_at, row.answered_at, row.started_at)}")
    assert lead.alerts == [] and one.alerts == [] and two.alerts == []
    with sessions() as s:
        assert s.get(Customer, customer_id).name == HOSTILE_NAME
