"""A supervisor listens in the browser (issue 11): on the wallboard they choose "This browser" for
their monitoring leg, the page registers their web<ext> softphone (JsSIP over Asterisk's websocket,
as the agent's page does), they press Listen on a real call of their team, the page rings, they
answer there, and the page hears the call; the caller does not hear them. A 5 keyed on that
softphone (RFC 4733, as a desk phone's key) switches ChanSpy to whisper: the router hears it on the
monitor's leg, audits it as a switch "keyed on the phone" and the wallboard shows it. Mute and hang
up are the wallboard's softphone's own.

Tones as in test_monitoring.py: the caller 440 Hz, the agent 1000 Hz (simulated, each recording
what it hears), the supervisor's microphone a 2000 Hz file (Chromium's fake capture). The page's
received audio is measured in the page (Web Audio's analyser), the others' recordings with
Goertzel (tests/sip/audio.py).
"""
from __future__ import annotations

import math
import shutil
import struct
import wave

import pytest
from sqlalchemy import select

from callcenter.models import Call
from tests.integration.conftest import wait_until
from tests.integration.desktop_helpers import CHROMIUM, CHROMIUM_ARGS, remote_spectrum, softphone_page
from tests.integration.floor import live_channels
from tests.integration.sip_world import carrier, sip  # noqa: F401 - the fixtures: the phone rows are taken back
from tests.integration.test_monitoring import (AGENT_HZ, CALLER_HZ, HEARD, MONITOR_HZ, NOT_HEARD,  # noqa: F401
                                               _sim_audio_folder, audit_rows, base_url, no_channel_left,
                                               one_file, recorded_s, share, talking_call, team_of,
                                               window_after_now)
from tests.sip import audio

# the supervisor keys 5 on the softphone, in the media (RFC 4733) as a desk phone does: the call
# negotiated telephone-event (else this says INFO, and the test fails there)
KEY_5 = """() => {
  const pc = Softphone.session.connection;
  const sender = pc.getSenders().find(s => s.track && s.track.kind === "audio");
  if (!(sender && sender.dtmf && sender.dtmf.canInsertDTMF)) return "INFO";
  Softphone.session.sendDTMF("5", {transportType: "RFC2833"});
  return "RFC2833";
}"""
STANDS_OUT_DB = 20  # a tone the page hears rises this far above the spectrum's median


def pulsed_tone(path, hz: int, seconds: int, rate: int = 48000) -> None:
    """The supervisor's voice: a tone a quarter second on, a quarter off. A steady tone is what
    the browser's noise suppression learns as background and takes out (measured: a steady 2000 Hz
    whisper reached the agent at a hundredth of the caller's power); one that pauses, as speech
    does, goes through."""
    quarter = rate // 4
    on = [int(0.5 * 32767 * math.sin(2 * math.pi * hz * i / rate)) for i in range(quarter)]
    second = struct.pack(f"<{2 * quarter}h", *on, *([0] * quarter)) * 2
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(second * seconds)


@pytest.fixture
async def browser(tmp_path):
    """Headless Chromium whose microphone is the supervisor's 2000 Hz tone."""
    assert shutil.which(CHROMIUM), "Chromium is missing: scripts/setup.sh --test installs it"
    from playwright.async_api import async_playwright
    microphone = tmp_path / "monitor-tone.wav"
    pulsed_tone(microphone, MONITOR_HZ, seconds=120)
    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone}", "--autoplay-policy=no-user-gesture-required",
            "--disable-features=WebRtcHideLocalIpsWithMdns"]
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        await chromium.close()


def _ended(sessions, uid):
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.uniqueid == uid))
        return call if call is not None and call.ended_at is not None and call.recording_path else None


async def test_a_supervisor_listens_in_the_browser_keys_a_switch_on_it_and_the_caller_never_hears_them(
        stack, ami, sessions, store, floor, sip, browser):  # noqa: F811 - sip: the fixture imported above
    uid, ext = await talking_call(floor, ami, sessions, store)
    lead_ext = floor.extension()
    lead = f"lead{lead_ext}"
    team_of(sessions, ext, lead, lead_ext)
    sip.extensions.append(lead_ext)  # its phone row and choice are taken back with the test
    folder = stack.asterisk_dir / "spool" / "sim-audio"
    caller_id = uid.removesuffix("-2")
    paths = {"caller": folder / f"caller-{caller_id}-heard.wav"}
    paths["agent"] = await wait_until(lambda: one_file(folder, f"phone-{ext}-*-heard.wav"),
                                      what="the agent phone's recording")
    await wait_until(lambda: recorded_s(paths["caller"]) >= 1.0, what="the caller's tone under way")

    base = base_url(stack)
    # the monitoring leg rings in this browser: it registers as web<lead_ext>
    context, page, errors = await softphone_page(browser, base, lead, "/wallboard")
    tile = f'#agents .tile[data-ext="{ext}"][data-state="on_call"]'
    await page.click(f"{tile} .monitor-listen")
    await page.wait_for_selector('#sp-status[data-sp="ringing"]', timeout=30_000)
    await page.wait_for_selector("#sp-ringing:not([hidden])")
    await page.click("#sp-answer")
    await page.wait_for_selector('#sp-status[data-sp="talking"]', timeout=15_000)
    spy = await wait_until(lambda: next((e for e in ami.events.matching(Event="ChanSpyStart")
                                         if e.get("SpyerChannel", "").startswith(f"Local/{lead_ext}@")), None),
                           timeout=30, what="ChanSpy started for the lead's browser")
    monitor = spy["SpyerUniqueid"]
    assert spy["SpyeeChannel"].startswith(f"Local/{ext}@cc-agent-phones-")

    # the page hears the call: the caller's and the agent's tones stand out of its received audio
    async def both_heard():
        return await _both_heard(page)
    levels = await wait_until(both_heard, timeout=20, what="the page hearing both parties")
    assert levels[str(CALLER_HZ)] - levels["floor"] > STANDS_OUT_DB and levels[str(AGENT_HZ)] - levels["floor"] > STANDS_OUT_DB
    # ... and neither party hears the supervisor's microphone
    marks = await window_after_now(paths)
    assert share(paths["caller"], marks["caller"], MONITOR_HZ) < NOT_HEARD
    assert share(paths["agent"], marks["agent"], MONITOR_HZ) < NOT_HEARD
    assert share(paths["caller"], marks["caller"], AGENT_HZ) > HEARD  # the call itself goes on

    # 5 keyed on the softphone, as on a desk phone: ChanSpy whispers, the router audits and tells
    assert await page.evaluate(KEY_5) == "RFC2833"
    keyed = await wait_until(lambda: [r for r in audit_rows(sessions, uid) if r.action == "monitor_switch"],
                             timeout=20, what="the keyed switch audited")
    assert keyed[0].actor == lead and keyed[0].detail.startswith("mode listen -> whisper after ")
    assert keyed[0].detail.endswith("keyed on the phone")
    await page.wait_for_selector(f'{tile} .monitor-whisper[aria-pressed="true"]', timeout=10_000)
    assert "keyed on your phone" in await page.inner_text("#monitor-status")
    marks = await window_after_now(paths)
    assert share(paths["agent"], marks["agent"], MONITOR_HZ) > HEARD  # whisper: the agent hears the supervisor
    assert share(paths["caller"], marks["caller"], MONITOR_HZ) < NOT_HEARD

    # the wallboard's mute: the agent no longer hears the supervisor
    await page.click("#sp-mute")
    await page.wait_for_selector('#sp-mute[aria-pressed="true"]', timeout=5_000)
    marks = await window_after_now({"agent": paths["agent"]})
    assert share(paths["agent"], marks["agent"], MONITOR_HZ) < NOT_HEARD

    # hang up in the wallboard's softphone: the monitor's leg ends, the session with it
    await page.click("#sp-hangup")
    await ami.events.wait_for(Event="ChanSpyStop", SpyerUniqueid=monitor, timeout=20)
    await no_channel_left(ami, monitor)
    await page.wait_for_selector('#sp-status[data-sp="registered"]', timeout=10_000)
    rows = await wait_until(lambda: [r for r in audit_rows(sessions, uid) if r.action == "monitor_end"]
                            and audit_rows(sessions, uid), what="the session's end audited")
    assert [(r.actor, r.action) for r in rows] == [(lead, "monitor_start"), (lead, "monitor_switch"),
                                                    (lead, "monitor_end")]
    assert rows[0].detail == f"mode listen; agent {ext}; rings {lead_ext}"
    assert rows[2].detail.startswith("mode whisper; listened ")
    assert errors == [], f"script errors: {errors}"

    # the call's own recording (the caller's channel, both directions) never holds the supervisor
    caller = next(c for c in await live_channels(ami) if c.get("Uniqueid") == caller_id)
    await ami.send_action({"Action": "Hangup", "Channel": caller["Channel"]})
    call = await wait_until(lambda: _ended(sessions, uid), timeout=30, what="the call's recording")
    xs, rate = audio.samples(call.recording_path)
    total = sum(x * x for x in xs) / len(xs)
    assert audio.power(xs, rate, CALLER_HZ) / total > HEARD
    assert audio.power(xs, rate, MONITOR_HZ) / total < NOT_HEARD, "the supervisor is in the call's recording"
    await context.close()


async def remote_levels(page, tones) -> dict | None:
    """Levels (dB) the page's remote stream has at each tone (the loudest of its bin and the two
    beside it), and the median of all bins (the floor)."""
    spectrum = await remote_spectrum(page)
    if spectrum is None:
        return None
    bins, hz_per_bin = spectrum
    heard = sorted(b for b in bins if b > -1000)  # the page marks a silent (-Infinity) bin -1000
    out = {"floor": heard[len(heard) // 2] if heard else -1000}
    for hz in tones:
        i = round(hz / hz_per_bin)
        out[str(hz)] = max(bins[i - 1:i + 2])
    return out


async def _both_heard(page):
    levels = await remote_levels(page, (CALLER_HZ, AGENT_HZ))
    if not levels:
        return None
    ok = all(levels[str(hz)] - levels["floor"] > STANDS_OUT_DB for hz in (CALLER_HZ, AGENT_HZ))
    return levels if ok else None
