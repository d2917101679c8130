"""The desktop's softphone in a real Chromium: the agent chooses "this browser", the page
registers over Asterisk's websocket (JsSIP, WebRTC with DTLS-SRTP and ICE), a carrier's caller
(PJSIP's user agent on the trunk) rings it beside the screen-pop, the agent answers in the page,
holds (the caller hears music), resumes, mutes and unmutes, and hangs up from the softphone.

Chromium's microphone is a file: a 1000 Hz tone (--use-file-for-fake-audio-capture); the caller
sends 440 Hz. The page's remote stream is measured in the page (Web Audio's analyser), the
caller's recording after the call (tests/sip/audio.py): audio checked, not assumed.
"""
from __future__ import annotations

import shutil
import time

import pytest
from sqlalchemy import select

from callcenter.models import Call
from tests.integration.conftest import wait_until
from tests.integration.desktop_helpers import CHROMIUM, make_user, remote_spectrum, softphone_page
from tests.integration.helpers import fresh_number, wait_for_state
from tests.integration.sip_world import carrier, sip  # noqa: F401 - the fixtures, shared with test_sip_phones
from tests.sip import audio
from tests.sip.ua import write_tone

CALLER_HZ, AGENT_HZ = 440, 1000

BYTES_IN = """async () => {
  const pc = Softphone.session && Softphone.session.connection;
  if (!pc) return 0;
  let bytes = 0;
  (await pc.getStats()).forEach(r => { if (r.type === "inbound-rtp" && r.kind === "audio") bytes += r.bytesReceived; });
  return bytes;
}"""



async def remote_pitch(page) -> dict | None:
    """The dominant frequency the page hears on the softphone's remote stream, and its level."""
    spectrum = await remote_spectrum(page)
    if spectrum is None:
        return None
    bins, hz_per_bin = spectrum
    best = max(range(1, len(bins)), key=bins.__getitem__)
    return {"hz": best * hz_per_bin, "db": bins[best]}


@pytest.fixture
async def browser(tmp_path):
    assert shutil.which(CHROMIUM), "Chromium is missing: scripts/setup.sh --test installs it"
    from playwright.async_api import async_playwright
    microphone = tmp_path / "agent-tone.wav"
    write_tone(str(microphone), AGENT_HZ, seconds=120, rate=48000)
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={microphone}",
            "--autoplay-policy=no-user-gesture-required", "--disable-features=WebRtcHideLocalIpsWithMdns"]
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        await chromium.close()


async def test_the_agent_answers_holds_and_hangs_up_a_carrier_call_in_the_browser_softphone(
        stack, sessions, store, floor, sip, browser):
    skill = floor.skill()
    ext = floor.extension()
    username = f"soft{ext}"
    make_user(sessions, username, "agent", ext, language="en")
    floor.agent({skill: 3}, ext=ext)
    await floor.reload()
    sip.extensions.append(ext)  # its phone row and choice are taken back with the test

    base = f"http://{stack.web_host}:{stack.web_port}"
    context, page, errors = await softphone_page(browser, base, username, "/agent")  # registered as web<ext>
    await page.click("#btn-ready")
    await wait_for_state(store, ext, "ready")

    # an operator adds the access number now: Asterisk reloads, the registered browser rings still
    number = sip.number(skill=skill)
    caller_number = fresh_number()
    caller = await sip.caller("caller", sip.uri(number), CALLER_HZ, caller=caller_number)
    # it rings here, beside the screen-pop
    await page.wait_for_selector('#sp-status[data-sp="ringing"]', timeout=30_000)
    await page.wait_for_selector("#sp-ringing:not([hidden])")
    await page.wait_for_selector("#pop:not([hidden])", timeout=10_000)
    uid = await wait_until(lambda: _uid(sessions, caller_number), what="the call's row")
    floor.own_call(uid)
    await page.click("#sp-answer-pop")
    await page.wait_for_selector('#sp-status[data-sp="talking"]', timeout=15_000)
    await wait_for_state(store, ext, "on_call")
    talking = time.time()

    heard = await remote_pitch(page)
    assert heard and abs(heard["hz"] - CALLER_HZ) < 15, f"the page heard {heard}, not the caller's {CALLER_HZ} Hz"
    assert await page.evaluate(BYTES_IN) > 1000, "no RTP arrived in the browser"
    await caller.recorded_until(talking + 2.7)

    # hold from the softphone (the desktop's hold): the caller hears music; then resume
    await page.click("#sp-hold")
    await page.wait_for_selector("#btn-resume:not([hidden])", timeout=10_000)
    held = time.time()
    await caller.recorded_until(held + 3.2)
    await page.click("#sp-hold")
    await page.wait_for_selector("#btn-hold:not([hidden])", timeout=10_000)
    resumed = time.time()
    await caller.recorded_until(resumed + 2.7)

    # mute: the caller no longer hears the browser's microphone; unmute: again
    await page.click("#sp-mute")
    await page.wait_for_selector('#sp-mute[aria-pressed="true"]', timeout=5_000)
    muted = time.time()
    await caller.recorded_until(muted + 2.7)
    await page.click("#sp-mute")
    await page.wait_for_selector('#sp-mute[aria-pressed="false"]', timeout=5_000)
    unmuted = time.time()
    await caller.recorded_until(unmuted + 2.2)

    await page.click("#sp-hangup")  # the agent hangs up in the browser
    assert (await caller.wait_for("disconnected", timeout=15))["code"] == 200
    await page.wait_for_selector('#sp-status[data-sp="registered"]', timeout=10_000)
    call = await wait_until(lambda: _ended(sessions, uid), what="the call's end")
    assert call.end_reason == "agent_hangup"
    await wait_for_state(store, ext, "wrapup")

    await caller.wait_for("recorded")
    hz, share = audio.dominant(caller.record, start_s=caller.offset(talking + 0.5), seconds=2)
    assert hz == AGENT_HZ and share > 0.5, f"the caller heard {hz} Hz ({share:.0%}), not the browser's microphone"
    hz, share = audio.dominant(caller.record, start_s=caller.offset(held + 1), seconds=2)
    assert not (hz == AGENT_HZ and share > 0.2), "the caller still heard the agent on hold"
    assert audio.rms(caller.record, start_s=caller.offset(held + 1), seconds=2) > 0.005, "no music on hold"
    hz, share = audio.dominant(caller.record, start_s=caller.offset(resumed + 1), seconds=1.5)
    assert hz == AGENT_HZ and share > 0.5, f"after resume the caller heard {hz} Hz ({share:.0%})"
    hz, share = audio.dominant(caller.record, start_s=caller.offset(muted + 1), seconds=1.5)
    assert not (hz == AGENT_HZ and share > 0.2), "the caller still heard the agent while muted"
    hz, share = audio.dominant(caller.record, start_s=caller.offset(unmuted + 1), seconds=1)
    assert hz == AGENT_HZ and share > 0.5, f"after unmute the caller heard {hz} Hz ({share:.0%})"
    assert errors == [], f"script errors: {errors}"

    # the page goes away: the softphone unregisters, and a ready agent would be taken off
    await page.click("#btn-wrapup-ready")
    await wait_for_state(store, ext, "ready")
    await context.close()
    await wait_for_state(store, ext, "not_ready", timeout=30)
    assert (await store.agent(ext)).reason == "phone_unregistered"


def _uid(sessions, caller_number):
    with sessions() as s:
        return s.scalar(select(Call.uniqueid).where(Call.caller_number == caller_number))


def _ended(sessions, uid):
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.uniqueid == uid))
        return call if call is not None and call.ended_at is not None else None
