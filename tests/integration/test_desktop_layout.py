"""The desktop's one layout in a real Chromium, in Mandarin and in English, against the real stack.

For each language: the agent's page while logged out, ready, ringing, on a call, on hold and in
wrap-up offers only the actions that state allows; no raw code (``word_word``) and no ISO
timestamp is ever visible; axe-core (pinned, integrity-checked: tests/integration/axe-core.lock)
finds no serious or critical violation on any page; an offered call rings (Web Audio) and shows a
browser notification, both seen through spies the page cannot tell from the real thing; a refusal
from the router reads in the user's language. The wallboard flags a queue in trouble with words
and an icon, shows agents as tiles by state and draws the last hour's waiting callers, on a wall
screen and on a laptop. Screenshots of every state go to tests/artifacts/desktop/<language>/.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from agent_desktop import errors
from agent_desktop.i18n import translate
from callcenter.simulate import set_sim_phone
from tests.integration.desktop_helpers import PASSWORD, make_user
from tests.integration.helpers import make_customer

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts" / "desktop"
AXE_LOCK = HERE / "axe-core.lock"
VENDOR = HERE.parent / ".vendor"
ACCESS = "10000"
COMPLAINT = "w" * 10 + "6"  # main menu 6: complaint
CONSULT = "w" * 10 + "5"  # main menu 5: enquiries
RAW_CODE = re.compile(r"[a-z]+_[a-z_]+")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT")
LANGUAGES = ("zh", "en")
WALL, LAPTOP = {"width": 1920, "height": 1080}, {"width": 1366, "height": 768}

# What each state shows (agent_desktop/static/agent.js ACTIONS), as data-action names.
ALLOWED = {
    "logged_out": {"ready", "not_ready"},
    "ready": {"not_ready", "logout"},
    "ringing": set(),
    "on_call": {"hold", "verify", "hangup", "transfer", "work_order"},
    "on_hold": {"resume", "hangup", "work_order"},
    "wrapup": {"wrapup_ready", "wrapup_save", "not_ready", "logout", "work_order"},
}

# Spies installed before any page script: the page sees a working Notification and AudioContext.
SPIES = """(() => {
  const spy = window.__spy = {notifications: [], permissionRequests: 0, contexts: 0, tones: 0};
  const RealNotification = window.Notification;
  function SpyNotification(title, options) {
    spy.notifications.push({title: String(title), body: String((options || {}).body || ""), at: Date.now()});
    this.title = title; this.onclick = null; this.close = () => {};
  }
  Object.defineProperty(SpyNotification, "permission", {get: () => RealNotification.permission});
  SpyNotification.requestPermission = (...args) => { spy.permissionRequests++; return RealNotification.requestPermission(...args); };
  window.Notification = SpyNotification;
  const RealContext = window.AudioContext;
  window.AudioContext = class extends RealContext { constructor(...args) { super(...args); spy.contexts++; } };
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { spy.tones++; return start.apply(this, args); };
})();"""

# (wait_for_function gets functions, never bare expressions: those it evaluates with eval(), which
# the page's CSP forbids, and the tests keep the CSP on)
VISIBLE_ACTIONS = """() => [...document.querySelectorAll("[data-action]")]
    .filter(e => e.checkVisibility()).map(e => e.dataset.action)"""


def axe_source() -> str:
    """axe.min.js from the tarball setup.sh fetched, after checking its sha512 against the lock."""
    lock = dict(line.split("=", 1) for line in AXE_LOCK.read_text().splitlines() if line and not line.startswith("#"))
    tarball = VENDOR / f"axe-core-{lock['version']}.tgz"
    assert tarball.exists(), f"{tarball} is missing: scripts/setup.sh --test fetches it"
    data = tarball.read_bytes()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert digest == lock["sha512"], f"{tarball.name}'s sha512 is not the one in {AXE_LOCK.name}"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.extractfile("package/axe.min.js").read().decode()


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()



def base_url(stack) -> str:
    return f"http://{stack.web_host}:{stack.web_port}"


async def new_page(browser, stack, axe: str, language: str, viewport=LAPTOP):
    """A page with the spies and axe injected before any script (CSP stays on: no bypass)."""
    context = await browser.new_context(viewport=viewport, locale="zh-CN" if language == "zh" else "en-US")
    await context.grant_permissions(["notifications"], origin=base_url(stack))
    await context.add_init_script(SPIES)
    await context.add_init_script(axe)
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


async def log_in(page, stack, username: str, language: str, landing: str) -> None:
    await page.goto(f"{base_url(stack)}/login?lang={language}")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await page.wait_for_url(base_url(stack) + landing)


async def check_page(page, language: str, name: str, skip_codes_in: str | None = None) -> None:
    """No raw code or ISO time in the visible text, no serious axe violation; a screenshot."""
    folder = ARTIFACTS / language
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    text = await page.inner_text("body") if skip_codes_in is None else await page.evaluate(
        """(skip) => { const c = document.body.cloneNode(true); c.querySelectorAll(skip).forEach(n => n.remove());
                       document.body.appendChild(c); c.hidden = false; const t = c.innerText; c.remove(); return t; }""",
        skip_codes_in)
    assert not RAW_CODE.findall(text), f"{name}: raw codes visible: {sorted(set(RAW_CODE.findall(text)))}"
    assert not ISO_TIME.search(text), f"{name}: an ISO timestamp is visible"
    result = await page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))})); }""")
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: axe found {serious}"
    assert page.errors == [], f"{name}: script errors {page.errors}"


async def visible_actions(page) -> set[str]:
    return set(await page.evaluate(VISIBLE_ACTIONS))


async def state_is(page, state: str, timeout: float = 20_000) -> None:
    await page.wait_for_selector(f'#state[data-state="{state}"]', timeout=timeout)


async def actions_are(page, state: str) -> None:
    """The page settles on exactly the actions of `state` (it redraws on each event)."""
    wanted = sorted(ALLOWED[state])
    try:
        await page.wait_for_function("(wanted) => JSON.stringify((" + VISIBLE_ACTIONS + ")().sort()) === wanted",
                                     arg=json.dumps(wanted, separators=(",", ":")), timeout=5_000)
    except Exception:
        raise AssertionError(f"{state}: actions shown {sorted(await visible_actions(page))}, wanted {wanted}") from None


def words(key: str, language: str) -> str:
    return translate(key, language)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_agent_page_offers_only_what_each_state_allows(stack, sessions, ami, floor, browser, axe, language):
    ext = floor.extension()
    username = f"layout{language}agent"
    make_user(sessions, username, "agent", ext=ext, team=f"layout-{language}", language=language)
    floor.agent({"complaint": 5}, ext=ext)
    floor.queue("complaint", ring_time_s=30, wrapup_s=300, service_level_s=30, overflow="", no_answer_limit=3)
    await floor.reload()
    name = "测试客户" if language == "zh" else "Layout Customer"
    _customer, number = make_customer(sessions, name=name, vip_level=2)
    await set_sim_phone(ami, ext, answer_after=6, talk_s=200)

    page = await new_page(browser, stack, axe, language)
    await log_in(page, stack, username, language, "/agent")
    await state_is(page, "logged_out")
    await actions_are(page, "logged_out")
    assert await page.get_attribute("html", "lang") == language
    await check_page(page, language, "1-logged-out")

    # ready: a click (a user gesture) also asks for notifications and unlocks the page's audio
    await page.click("#btn-ready")
    await state_is(page, "ready")
    await actions_are(page, "ready")
    assert words("state.ready", language) in await page.title()
    spy = await page.evaluate("window.__spy")
    assert spy["contexts"] == 1 and await page.get_attribute("#btn-alerts", "data-permission") == "granted"
    await check_page(page, language, "2-ready")

    # ringing: the pop, the ring and the notification arrive together; nothing to press yet
    await floor.call(ACCESS, number, dtmf=COMPLAINT, hold_s=200)
    await state_is(page, "ringing", timeout=60_000)
    await page.wait_for_function("() => window.__spy.notifications.length > 0 && window.__spy.tones > 0", timeout=5_000)
    spy = await page.evaluate("window.__spy")
    assert len(spy["notifications"]) == 1, spy
    assert spy["notifications"][0]["title"] == words("incoming_call", language)
    # the caller ID named the customer, no password keyed: the minimum profile, masked name (issue 15)
    masked = name[0] + "*" * (len(name) - 1)
    assert masked in spy["notifications"][0]["body"] and name not in spy["notifications"][0]["body"]
    assert spy["tones"] >= 2  # the two sine tones of one ring burst
    await page.wait_for_function("() => document.getElementById('pop-journey').children.length > 0")
    assert words("tab_ringing", language) in await page.title()
    assert await page.text_content("#pop-queue") == words("skill.complaint", language)
    assert words("node.main_menu", language) in await page.inner_text("#pop-journey")
    assert await page.text_content("#pop-name") == masked
    assert await page.text_content("#pop-unverified") == words("lookup_unverified", language)
    assert await page.text_content("#pop-balance") == words("shown_when_verified", language)
    assert await page.is_hidden("#pop-accounts-wrap") and await page.is_hidden("#pop-bills-section")
    assert await page.text_content("#announce") == translate("incoming_from", language).format(
        who=await page.text_content("#pop-name"), queue=words("skill.complaint", language))
    await actions_are(page, "ringing")
    await check_page(page, language, "3-ringing")

    # on the call: the talk timer runs
    await state_is(page, "on_call", timeout=20_000)
    await actions_are(page, "on_call")
    await page.wait_for_function("() => document.getElementById('call-bar').dataset.phase === 'talking'")
    talk = await page.text_content("#call-timer")
    await page.wait_for_function("(before) => document.getElementById('call-timer').textContent !== before", arg=talk)
    # a refusal from the router (ready while on a call, sent past the page) reads in the user's language
    await page.evaluate("send('agent_state', {to: 'ready'})")
    await page.wait_for_function("() => document.getElementById('message').dataset.code === 'INVALID_AGENT_TRANSITION'")
    assert await page.text_content("#message") == errors.message("INVALID_AGENT_TRANSITION", language)
    await page.evaluate("showMessage(null)")
    await check_page(page, language, "4-on-call")

    # on hold, by the keyboard shortcut; resume the same way
    await page.keyboard.press("Alt+KeyH")
    await page.wait_for_selector("#held", state="visible", timeout=10_000)
    await actions_are(page, "on_hold")
    assert await page.get_attribute("#call-bar", "data-phase") == "held"
    await check_page(page, language, "5-on-hold")
    await page.keyboard.press("Alt+KeyH")
    await page.wait_for_selector("#held", state="hidden", timeout=10_000)
    await actions_are(page, "on_call")

    # wrap-up: the form, the time left counting down, today's figures updated
    await page.click("#btn-hangup")
    await state_is(page, "wrapup", timeout=20_000)
    await actions_are(page, "wrapup")
    left = await page.text_content("#wrapup-left")
    await page.wait_for_function("(before) => document.getElementById('wrapup-left').textContent !== before", arg=left)
    await page.wait_for_function("() => document.getElementById('today-calls').textContent === '1'")
    await check_page(page, language, "6-wrapup")
    await page.select_option("#disposition", "resolved")
    await page.click("#btn-wrapup-ready")
    await state_is(page, "ready")
    await actions_are(page, "ready")
    assert await page.evaluate("window.__spy.notifications.length") == 1  # one call, one notification


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_wallboard_flags_a_queue_in_trouble_and_fits_wall_and_laptop(stack, sessions, floor, browser, axe,
                                                                                language):
    ext = floor.extension()
    team = f"layout-board-{language}"
    make_user(sessions, f"layout{language}tile", "agent", ext=ext, team=team, language=language)
    make_user(sessions, f"layout{language}lead", "supervisor", team=team, lead=True, language=language)
    floor.agent({"complaint": 1}, ext=ext)  # not an enquiries agent: the enquiry waits
    floor.queue("consult", ring_time_s=15, wrapup_s=5, service_level_s=4, overflow="", no_answer_limit=1)
    await floor.reload()
    await floor.ready(ext)
    _customer, number = make_customer(sessions)

    page = await new_page(browser, stack, axe, language, viewport=WALL)
    await log_in(page, stack, f"layout{language}lead", language, "/wallboard")
    tile = f'#agents .tile[data-ext="{ext}"][data-state="ready"]'
    await page.wait_for_selector(tile)
    assert words("state.ready", language) in await page.inner_text(tile)

    await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=120)
    row = '#queues tr[data-skill="consult"]'
    # past its 4 s target the longest wait is an alert: colour, icon and words
    await page.wait_for_selector(f'{row}[data-status="alert"]', timeout=60_000)
    assert await page.locator(f"{row} td.longest .icon").count() == 1
    assert words("status_alert", language) in await page.inner_text(row)
    assert await page.text_content(f"{row} th") == words("skill.consult", language)
    # the chart has a sample with the caller in it (one every 10 s)
    await page.wait_for_function("() => samples.some(p => p[1] >= 1)", timeout=20_000)
    assert await page.locator("#chart path.line").count() == 1
    await check_page(page, language, "7-wallboard-wall")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    await page.set_viewport_size(LAPTOP)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await check_page(page, language, "8-wallboard-laptop")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_login_admin_and_other_pages_share_the_layout_and_pass_axe(stack, sessions, browser, axe, language):
    make_user(sessions, f"layout{language}admin", "admin", language=language)
    make_user(sessions, f"layout{language}qa", "quality", language=language)
    page = await new_page(browser, stack, axe, language)
    await page.goto(f"{base_url(stack)}/login?lang={language}")
    assert await page.get_attribute("html", "lang") == language
    await check_page(page, language, "0-login")

    await log_in(page, stack, f"layout{language}admin", language, "/wallboard")
    await page.click(f"nav a[href='/admin/']")
    await page.wait_for_url(f"{base_url(stack)}/admin/")
    # user names are people's data, not codes: the tables' cells are left out of the code check
    await check_page(page, language, "9-admin", skip_codes_in="#users td, .list li, table td")
    assert words("role.admin", language) in await page.inner_text("#users")

    # the lead's service-password screen with a locked customer found (issue 12): the unlock form
    customer_id, number = make_customer(sessions)
    with sessions() as s:
        from datetime import datetime, timedelta, timezone
        from callcenter.models import Customer
        s.get(Customer, customer_id).password_locked_until = datetime.now(timezone.utc) + timedelta(minutes=30)
        s.commit()
    await page.goto(f"{base_url(stack)}/customers/password?number={number}")
    await page.wait_for_selector("#unlock-form")
    await check_page(page, language, "9b-password-unlock")

    other = await new_page(browser, stack, axe, language)
    await log_in(other, stack, f"layout{language}qa", language, "/quality")  # the inspector's work list (issue 13)
    await other.wait_for_selector('#worklist[aria-busy="false"]')
    await check_page(other, language, "10-quality")
    for path, table, name in (("/quality/scores", "#scores", "10b-quality-scores"),
                              ("/reports/quality", "#quality-report", "10c-quality-report"),
                              ("/quality/calibrations", "#cals", "10d-quality-calibrations")):
        await other.goto(base_url(stack) + path)
        await other.wait_for_selector(f'{table}[aria-busy="false"]')
        await check_page(other, language, name)
