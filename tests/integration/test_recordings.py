"""Recordings on the real stack (issue 11): a real call through the menu (keying the service
password), a queue and an agent, recorded by Asterisk's MixMonitor; the file registered by the
desktop's push process (size, duration, SHA-256); the password's span muted (Asterisk's
MixMonitorMute events, and silence measured in the file with sox) while the spans before and after
hold sound; the recording notice per access number; playback through the real desktop refused to
everyone who may not hear it and to anything but a known id; a changed file flagged by
`callcenter recordings verify` and counted by `callcenter status`; and in headless Chromium a
supervisor plays a past call's recording to its end, audited.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter.models import AccessNumber, AuditEntry, Carrier, Recording
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import CALLCENTER, wait_until
from tests.integration.desktop_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, make_user, web_login
from tests.integration.helpers import ended_row, fresh_number, make_customer

ACCESS = "10000"  # no carrier's number in the tests (no `callcenter up --demo`): no recording notice
GREETED = "w" * 10  # a known caller first hears the greeting, which keys do not cut
AGENT_LATER = "0w" * 12  # keep pressing 0 until the menu after the bill hears it
# --autoplay-policy: the test starts the player from script, as a click would
PLAYER_ARGS = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
EDGE_S = 0.3  # left out at each edge of a span: the mute takes effect between two 20 ms frames


def base_url(stack) -> str:
    return f"http://{stack.web_host}:{stack.web_port}"


def sox_max_amplitude(path: Path, start_s: float, seconds: float) -> float:
    """sox's 'Maximum amplitude' of a span of the file (0.0: digital silence)."""
    assert seconds > 0, f"an empty span at {start_s:.2f} s"
    out = subprocess.run(["sox", str(path), "-n", "trim", f"{start_s:.3f}", f"{seconds:.3f}", "stat"],
                         capture_output=True, text=True, check=True).stderr
    return float(re.search(r"Maximum amplitude:\s+([-0-9.e]+)", out).group(1))


def sox_seconds(path: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout)


def recording_of(sessions, uniqueid):
    def fetch():
        with sessions() as s:
            return s.scalar(select(Recording).where(Recording.call_uniqueid == uniqueid))
    return fetch


async def agent_call(stack, ami, sessions, floor, dtmf: str, number: str, hold_s: int = 90, talk_s: int = 3,
                     access: str = ACCESS) -> str:
    """A call by `number` keying `dtmf`, to a ready agent of this test who answers and talks talk_s."""
    ext = floor.agent({"general": 5})
    await set_sim_phone(ami, ext, answer_after=1, talk_s=talk_s)
    await floor.reload()
    await floor.ready(ext)
    uid = await floor.call(access, number, dtmf=dtmf, hold_s=hold_s)
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, timeout=90)
    await ami.events.wait_for(Event="Hangup", Uniqueid=uid, timeout=60)
    return uid


async def test_a_call_through_menu_queue_and_agent_is_recorded_whole_with_the_password_muted(
        stack, stack_env, ami, sessions, floor):
    _customer, number = make_customer(sessions, password="123456")
    uid = await agent_call(stack, ami, sessions, floor, GREETED + "1wwww123456" + "w" * 30 + AGENT_LATER, number)
    events = ami.events
    # the mute and the unmute, each confirmed by Asterisk's own event for this channel
    muted = await events.wait_for(Event="MixMonitorMute", Uniqueid=uid, State="1")
    unmuted = await events.wait_for(Event="MixMonitorMute", Uniqueid=uid, State="0")
    assert len(events.matching(Event="MixMonitorMute", Uniqueid=uid)) == 2  # one secret: one mute, one unmute
    started = await events.wait_for(Event="MixMonitorStart", Uniqueid=uid)
    # the prompt asking for it played while muted, and the keys were taken then
    ask = await events.wait_for(Event="AGIExecStart", Uniqueid=uid, Command=f'STREAM FILE "{stack.prompts_dir}/zh/ask_password" "0123456789*#"')
    t0, t_mute, t_unmute, t_ask = (float(e["Timestamp"]) for e in (started, muted, unmuted, ask))
    assert t0 < t_mute <= t_ask < t_unmute

    row = await wait_until(ended_row(sessions, uid), what="call row closed")
    rec = await wait_until(recording_of(sessions, uid), timeout=60, what="recording registered by the push process")
    path = stack.recordings_dir / rec.path
    with sessions() as s:  # one recording for the call, and where the dialplan said
        assert s.scalar(select(Recording.id).where(Recording.call_uniqueid == uid)) == rec.id
    assert str(path) == row.recording_path and rec.problem is None and re.fullmatch(r"[0-9a-f]{32}", rec.id)
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and rec.size_bytes == path.stat().st_size
    call_s = (row.ended_at - row.started_at).total_seconds()
    file_s = sox_seconds(path)
    assert abs(file_s - call_s) <= 1.0, f"recording {file_s:.2f} s, call {call_s:.2f} s"
    assert abs(rec.duration_ms / 1000 - file_s) < 0.05

    # measured on the audio: silent while muted, sound before (greeting, menu) and after (bill, music)
    mute_at, unmute_at = t_mute - t0, t_unmute - t0
    before = sox_max_amplitude(path, EDGE_S, mute_at - 2 * EDGE_S)
    during = sox_max_amplitude(path, mute_at + EDGE_S, unmute_at - mute_at - 2 * EDGE_S)
    after = sox_max_amplitude(path, unmute_at + EDGE_S, min(8.0, file_s - unmute_at - 2 * EDGE_S))
    print(f"recording {file_s:.2f} s (call {call_s:.2f} s); muted {mute_at:.2f}-{unmute_at:.2f} s; "
          f"max amplitude before {before}, during {during}, after {after}")
    assert during == 0.0
    assert before > 0.05 and after > 0.05

    # a changed file is flagged by the verify job and counted by `callcenter status`
    with open(path, "ab") as f:
        f.write(b"\0\0")
    verify = subprocess.run(CALLCENTER + ["recordings", "verify", "--json"], env=stack_env, capture_output=True,
                            text=True, timeout=60)
    assert verify.returncode == 1, verify.stderr
    assert {"id": rec.id, "problem": "altered"} in json.loads(verify.stdout)["flagged"]
    status = subprocess.run(CALLCENTER + ["status", "--json"], env=stack_env, capture_output=True, text=True, timeout=60)
    assert json.loads(status.stdout)["recordings"]["flagged"] >= 1
    with sessions() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "recording_flagged", AuditEntry.target == rec.id))


async def test_the_recording_notice_follows_the_access_number(stack, ami, sessions, floor):
    on, off = f"77{uuid.uuid4().int % 10**6:06d}", f"78{uuid.uuid4().int % 10**6:06d}"
    with sessions() as s:
        carrier = Carrier(name=f"rec{uuid.uuid4().hex[:8]}", host="192.0.2.7", active=False)
        carrier.numbers += [AccessNumber(number=on), AccessNumber(number=off, recording_notice=False)]
        s.add(carrier)
        s.commit()
        carrier_id = carrier.id
    try:
        heard = {}
        for number in (on, off):
            uid = await floor.call(number, fresh_number(), hold_s=8)
            await ami.events.wait_for(Event="AGIExecStart", Uniqueid=uid, Command=f'STREAM FILE "{stack.prompts_dir}/zh/welcome" "0123456789*#"')
            heard[number] = [e["Command"].split('"')[1].rsplit("/", 2)[-2:]
                             for e in ami.events.matching(Event="AGIExecStart", Uniqueid=uid)
                             if e.get("Command", "").startswith("STREAM FILE")]
        assert heard[on][:3] == [["zh", "recording_notice"], ["en", "recording_notice"], ["zh", "welcome"]]
        assert heard[off][0] == ["zh", "welcome"] and ["zh", "recording_notice"] not in heard[off]
    finally:
        with sessions() as s:
            s.delete(s.get(Carrier, carrier_id))
            s.commit()


@pytest.fixture
def recorded_call(stack, ami, sessions, floor):
    """A past call of this test's agent in team rec-a (led by rec_lead_a), recorded and registered."""
    async def make() -> tuple[str, Recording]:
        ext = floor.extension()
        make_user(sessions, f"t{ext}", "agent", ext=ext, team="rec-a")
        make_user(sessions, "rec_lead_a", "supervisor", team="rec-a", lead=True)
        make_user(sessions, "rec_lead_b", "supervisor", team="rec-b", lead=True)
        floor.agent({"general": 5}, ext)
        await set_sim_phone(ami, ext, answer_after=1, talk_s=2)
        await floor.reload()
        await floor.ready(ext)
        uid = await floor.call(ACCESS, fresh_number(), dtmf="w" * 20 + "#wwwwww0", hold_s=60)
        await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, timeout=60)
        await ami.events.wait_for(Event="Hangup", Uniqueid=uid, timeout=60)
        rec = await wait_until(recording_of(sessions, uid), timeout=60, what="recording registered")
        assert rec.problem is None
        return uid, rec
    return make


async def test_playback_is_refused_to_all_but_those_allowed_and_serves_nothing_else(stack, sessions, recorded_call,
                                                                                     tmp_path):
    uid, rec = await recorded_call()
    base = base_url(stack)
    own, _ = web_login(base, "rec_lead_a")
    other, _ = web_login(base, "rec_lead_b")
    data = (stack.recordings_dir / rec.path).read_bytes()
    first = own.get(f"{base}/api/recordings/{rec.id}/audio", headers={"Range": "bytes=0-"}, timeout=10)
    assert first.status_code == 206 and first.content == data
    part = own.get(f"{base}/api/recordings/{rec.id}/audio", headers={"Range": "bytes=1000-1999"}, timeout=10)
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"

    # a symlink planted in the recordings folder, named by a row of its own
    link_rel = f"links/{uuid.uuid4().hex}.wav"
    (stack.recordings_dir / link_rel).parent.mkdir(exist_ok=True)
    (stack.recordings_dir / link_rel).symlink_to(stack.recordings_dir / rec.path)
    link_id = uuid.uuid4().hex
    with sessions() as s:
        s.add(Recording(id=link_id, call_uniqueid=f"link-{link_id[:20]}", path=link_rel, retain_until=rec.retain_until))
        s.commit()
    quality_user = f"rec_qa_{uuid.uuid4().hex[:6]}"
    make_user(sessions, quality_user, "quality")
    inspector, _ = web_login(base, quality_user)
    refused = [
        (other, f"/api/recordings/{rec.id}/audio", 404),        # another team's supervisor
        (other, f"/api/recordings/{rec.id}/download", 404),
        (own, f"/api/recordings/{uuid.uuid4().hex}/audio", 404),  # a made-up id
        (own, "/api/recordings/..%2F..%2F..%2Fetc%2Fpasswd/audio", 404),
        (own, "/api/recordings/../../../etc/passwd", 404),
        (own, "/api/recordings/%2Fetc%2Fpasswd/audio", 404),    # an absolute path
        (own, f"/api/recordings/{rec.path.replace('/', '%2F')}/audio", 404),  # the file's own path
        (inspector, f"/api/recordings/{link_id}/audio", 410),  # the symlink: refused, not followed
    ]
    for http, path, status in refused:
        reply = http.get(base + path, timeout=10, allow_redirects=False)
        assert reply.status_code == status, (path, reply.status_code)
        assert b"RIFF" not in reply.content and b"root:" not in reply.content, path
        if "/../" in path:  # the client resolves plain dot segments (to /etc/passwd): no such page, a page says so
            assert "text/html" in reply.headers["Content-Type"], path
        else:
            assert reply.json()["code"], path
    with sessions() as s:
        plays = s.scalars(select(AuditEntry).where(AuditEntry.action == "recording_play",
                                                   AuditEntry.target.in_([rec.id, link_id]))).all()
        assert [(a.actor, a.target) for a in plays] == [("rec_lead_a", rec.id)]  # the one start of a playback
        s.delete(s.get(Recording, link_id))
        s.commit()
    (stack.recordings_dir / link_rel).unlink()


async def test_a_supervisor_plays_a_past_call_to_its_end_in_the_browser_audited_and_holds_it(stack, sessions,
                                                                                          recorded_call):
    assert shutil.which(CHROMIUM), "Chromium is missing: scripts/setup.sh --test installs it"
    from playwright.async_api import async_playwright

    uid, rec = await recorded_call()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=PLAYER_ARGS)
        try:
            page = await (await browser.new_context()).new_page()  # the page's own CSP applies
            await page.goto(base_url(stack) + "/login?lang=en")
            await page.fill("#username", "rec_lead_a")
            await page.fill("#password", PASSWORD)
            await page.click("#login")
            await page.wait_for_url(base_url(stack) + "/wallboard")
            await page.goto(base_url(stack) + f"/calls/{uid}")
            player = page.locator("#recording-player")
            await page.wait_for_selector("#recording-panel:not([hidden])", timeout=15_000)
            assert await player.get_attribute("data-recording") == rec.id
            assert await player.get_attribute("src") == f"/api/recordings/{rec.id}/audio"  # by id, never a path
            await page.evaluate("""() => { const a = document.getElementById('recording-player');
                window.__ended = new Promise(done => a.addEventListener('ended', () => done(a.duration)));
                a.playbackRate = 4; return a.play(); }""")
            duration = await asyncio.wait_for(page.evaluate("() => window.__ended"), timeout=60)
            assert abs(duration - rec.duration_ms / 1000) < 0.5
            # and puts it on legal hold from the same panel, with a reason
            await page.fill("#hold-reason", "dispute <b>42</b>")
            await page.click("#hold-button")
            await page.locator("#hold-button", has_text="Release legal hold").wait_for(timeout=15_000)
            # the search lists it (the lead's team's calls), sorted by one of its fields
            await page.goto(base_url(stack) + "/recordings?sort=duration&dir=asc")
            await page.locator(f'#rec-table tr[data-recording="{rec.id}"]').wait_for(timeout=15_000)
            refused = await page.request.get(base_url(stack) + "/api/recordings?sort=path")
            assert refused.status == 400 and (await refused.json())["code"] == "BAD_SORT"
        finally:
            await browser.close()

    def played():
        with sessions() as s:
            return s.scalars(select(AuditEntry).where(AuditEntry.action == "recording_play",
                                                      AuditEntry.target == rec.id)).all()
    entries = await wait_until(played, what="playback audited")
    assert {a.actor for a in entries} == {"rec_lead_a"} and uid in entries[0].detail
    with sessions() as s:
        held = s.get(Recording, rec.id)
        assert held.legal_hold and held.hold_by == "rec_lead_a" and held.hold_reason == "dispute <b>42</b>"
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "recording_hold", AuditEntry.target == rec.id,
                                                 AuditEntry.actor == "rec_lead_a"))
