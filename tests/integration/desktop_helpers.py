"""Helpers for the desktop's integration tests: users, logging in over HTTP, Socket.IO clients."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import requests
import socketio
from sqlalchemy import select

from callcenter.models import Team, User
from callcenter.runtime.ports import is_listening

PASSWORD = "desk-pass-1"
CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by scripts/setup.sh --test (Playwright drives it)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(sessions, username: str, role: str, ext: str | None = None, team: str | None = None,
              lead: bool = False, language: str = "en") -> None:
    """Create (or update) a user; `team` puts an agent in it, or with lead=True makes them its supervisor."""
    with sessions() as s:
        user = s.scalar(select(User).where(User.username == username)) or User(username=username)
        user.display_name, user.role, user.language, user.agent_extension = username.title(), role, language, ext
        user.set_password(PASSWORD)
        s.add(user)
        s.flush()
        if team:
            row = s.scalar(select(Team).where(Team.name == team)) or Team(name=team)
            s.add(row)
            s.flush()
            if lead:
                row.supervisor_id = user.id
            else:
                user.team_id = row.id
        s.commit()


def web_login(base: str, username: str, page: str = "/") -> tuple[requests.Session, str]:
    """A logged-in HTTP session and its CSRF token (read from the page, as the browser does)."""
    http = requests.Session()
    token = CSRF_FIELD.search(http.get(f"{base}/login", timeout=10).text).group(1)
    reply = http.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                      timeout=10)
    reply.raise_for_status()
    html = http.get(f"{base}{page}", timeout=10).text
    return http, CSRF_META.search(html).group(1)


def socket_client(base: str, http: requests.Session, token: str, headers: dict | None = None) -> socketio.Client:
    client = socketio.Client(http_session=http, reconnection=False)
    client.connect(base, auth={"csrf": token}, transports=["websocket"], headers=headers or {}, wait_timeout=10)
    return client


async def softphone_page(browser, base: str, username: str, landing: str):
    """A browser context with the microphone granted (Chromium's fake device), logged in as
    `username` and on `landing`, its softphone chosen and registered: (context, page, errors), the
    page's script errors collected in `errors` for the test to assert empty."""
    context = await browser.new_context(locale="en-US")
    await context.grant_permissions(["microphone"], origin=base)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{base}/login?lang=en")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await page.wait_for_url(base + landing)
    # calls ring in this browser: it registers as web<ext>
    await page.select_option("#sp-device", "webrtc")
    await page.wait_for_selector('#sp-status[data-sp="registered"]', timeout=20_000)
    return context, page, errors


# The spectrum of what the page's softphone hears (its remote stream, through Web Audio, in the
# page): 1.5 s of sound, then the analyser's bins in dB. The tests judge it in Python.
REMOTE_SPECTRUM = """async () => {
  const stream = Softphone.remoteStream;
  if (!stream) return null;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  ctx.createMediaStreamSource(stream).connect(analyser);
  await new Promise(r => setTimeout(r, 1500));
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  const hzPerBin = ctx.sampleRate / analyser.fftSize;
  await ctx.close();
  return {bins: Array.from(bins, v => Number.isFinite(v) ? v : -1000), hzPerBin};
}"""


async def remote_spectrum(page) -> tuple[list[float], float] | None:
    """(bins in dB, Hz per bin) of the page's softphone's remote stream; None before it has one."""
    heard = await page.evaluate(REMOTE_SPECTRUM)
    return (heard["bins"], heard["hzPerBin"]) if heard else None


def start_web_worker(env: dict[str, str], port: int, log_path: Path, up=lambda worker: True,
                     timeout: float = 30) -> subprocess.Popen:
    """A web worker of its own (`python -m agent_desktop` with `env`), its output in `log_path`,
    returned once it listens on `port` and `up(worker)` holds. Between looks it waits on the process
    itself, so a worker that exits fails the test at once with its log."""
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "agent_desktop"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not (is_listening(port) and up(worker)):
        assert time.monotonic() < deadline, f"the web worker did not listen within {timeout} s"
        try:
            code = worker.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the web worker exited with {code}: {log_path.read_text()[-3000:]}")
    return worker
