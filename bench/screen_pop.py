"""Screen-pop latency with many agents connected: from the AMI event that an agent's phone is
ringing to the pop arriving in that agent's Socket.IO client, and (a sample) to a real Chromium
page having drawn it.

How: `callcenter up` in a private home on free ports (real Asterisk, Redis, router, push
process, one web worker). N agents are created and each logs in over HTTP and holds a websocket
(python-socketio clients in this process). For each sample the bench has Asterisk send the
AgentRinging UserEvent (what cc-connect sends as the phone starts to ring) from the dialplan, by
an Originate into sim-agent-ringing, for a random agent and a call row with a real customer (an
AMI client's own `Action: UserEvent` pops nothing: it is not from our dialplan); t0 is when this
bench's own AMI connection sees that event (the same moment the push process can), t1 when the
agent's socket receives the pop. The push process
builds the pop from the database and emits through Redis; the web worker delivers it. A headless
Chromium page, logged in as one more agent, times the same for a sample: t1 is the first
animation frame after the page rendered the pop.

    .venv/bin/python bench/screen_pop.py [--sockets 500] [--samples 400] [--browser-samples 30]

The last line is a JSON object. Goal (issue 5): p99 under 250 ms with 500 sockets on 2 cores.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
import socketio  # noqa: E402
from sqlalchemy import delete  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from callcenter import ami as ami_connect  # noqa: E402
from callcenter import db  # noqa: E402
from callcenter import dialplan  # noqa: E402
from callcenter.config import Settings  # noqa: E402
from callcenter.models import Call, Customer, CustomerPhone, User, utcnow  # noqa: E402

PASSWORD = "bench-pass"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else float("nan")


def seed(settings: Settings, agents: int, samples: int) -> tuple[list[str], list[str]]:
    """Agents 1000.. with a cheap password hash (500 logins, not a hashing benchmark); call rows."""
    sessions = db.session_factory(settings.database_url)
    quick = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    exts = [str(1000 + i) for i in range(agents + 1)]  # the last one is the browser's
    with sessions() as s:
        s.execute(delete(User).where(User.username.like("bench%")))
        for ext in exts:
            s.add(User(username=f"bench{ext}", display_name=f"Bench {ext}", role="agent", agent_extension=ext,
                       language="en", password_hash=quick))
        customer = Customer(name="Bench Customer", vip_level=1, plan="5G")
        customer.phones.append(CustomerPhone(number="13999999999"))
        s.add(customer)
        s.flush()
        calls = [f"bench-{i}" for i in range(samples)]
        for uid in calls:
            s.add(Call(uniqueid=uid, caller_number="13999999999", customer_id=customer.id, started_at=utcnow(),
                       skill="billing"))
        s.commit()
    return exts, calls


class Agent:
    def __init__(self, base: str, ext: str):
        self.ext = ext
        self.http = requests.Session()
        page = self.http.get(f"{base}/login", timeout=30).text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        self.http.post(f"{base}/login", data={"username": f"bench{ext}", "password": PASSWORD, "csrf_token": token},
                       timeout=30).raise_for_status()
        html = self.http.get(f"{base}/agent", timeout=30).text
        self.csrf = html.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
        self.client = socketio.Client(http_session=self.http, reconnection=False)
        self.arrived: dict[str, float] = {}
        self.client.on("screen_pop", lambda pop: self.arrived.setdefault(pop["call"], time.time()))
        self.client.connect(base, auth={"csrf": self.csrf}, transports=["websocket"], wait_timeout=30)


def connect_agents(base: str, exts: list[str], workers: int = 16) -> list[Agent]:
    agents: list[Agent | None] = [None] * len(exts)
    errors: list[Exception] = []
    cursor = iter(range(len(exts)))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            try:
                agents[i] = Agent(base, exts[i])
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} agent(s) could not connect: {errors[0]!r}")
    return [a for a in agents if a is not None]


def disconnect_all(agents: list[Agent]) -> None:
    """In parallel: each client waits up to ~3 s for the server's close frame, 500 in a row is 25 min."""
    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(lambda agent: agent.client.disconnect(), agents))


def ringing_action(uid: str, ext: str) -> dict:
    """The Originate that makes Asterisk send AgentRinging for call uid and agent ext from the
    dialplan (sim-agent-ringing), as cc-connect does when a phone starts to ring: the push process
    takes our UserEvents only from our dialplan's channels, never from an AMI client. The half that
    runs the dialplan gets the call's id as its uniqueid; it sends the event and hangs up. (The
    other half's id must not begin with the call's: Asterisk finds a uniqueid in use by prefix.)"""
    return {"Action": "Originate", "Channel": f"Local/{ext}@{dialplan.SIM_AGENT_RINGING}/n",
            "ChannelId": f"ring-{uid}", "OtherChannelId": uid, "Application": "Wait", "Data": "1",
            "Timeout": "2000", "Async": "true"}


async def ringing_events(settings: Settings, targets: list[tuple[str, str]], gap_s: float) -> dict[str, float]:
    """Have Asterisk send AgentRinging for each (call, ext); return when this AMI client saw each event."""
    manager = await ami_connect.connect(settings)
    seen: dict[str, float] = {}

    def on_event(_m, event):
        if (event.get("UserEvent") == "AgentRinging" and event.get("Context") == dialplan.SIM_AGENT_RINGING
                and event.get("CallId", "").startswith("bench-")):
            seen.setdefault(event["CallId"], time.time())

    manager.register_event("UserEvent", on_event)
    pending = []  # an Originate's reply comes when its channel is gone: not waited for one by one
    for uid, ext in targets:
        pending.append(asyncio.ensure_future(manager.send_action(ringing_action(uid, ext))))
        await asyncio.sleep(gap_s)
    await asyncio.wait(pending, timeout=10)
    await asyncio.sleep(2)
    manager.close()
    return seen


async def browser_samples(base: str, settings: Settings, ext: str, calls: list[str], gap_s: float) -> list[float]:
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(bypass_csp=True)).new_page()
        await page.goto(f"{base}/login?lang=en")
        await page.fill("#username", f"bench{ext}")
        await page.fill("#password", PASSWORD)
        await page.click("#login")
        await page.wait_for_url(f"{base}/agent")
        await page.wait_for_function("socket.connected")
        # after the page's own handler has drawn the pop: the next frame is when the agent sees it
        await page.evaluate("""() => { window.__drawn = {};
            socket.on('screen_pop', p => requestAnimationFrame(() => {
                window.__drawn[p.call] = performance.timeOrigin + performance.now(); })); }""")
        seen = await ringing_events(settings, [(uid, ext) for uid in calls], gap_s)
        await asyncio.sleep(1)
        drawn = await page.evaluate("window.__drawn")
        await browser.close()
    return [drawn[uid] - seen[uid] * 1000 for uid in calls if uid in drawn and uid in seen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--browser-samples", type=int, default=30)
    parser.add_argument("--gap-ms", type=float, default=20, help="time between ringing events")
    args = parser.parse_args()

    home = Path(f"/tmp/cc-bench-screen-pop-{os.getpid()}")
    env = {**os.environ, "CALLCENTER_HOME": str(home), "CC_AMI_PORT": str(free_port()),
           "CC_AGI_PORT": str(free_port()), "CC_SIP_PORT": str(free_port()), "CC_REDIS_PORT": str(free_port()),
           "CC_WEB_PORT": str(free_port())}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    cli = [sys.executable, "-m", "callcenter.cli"]
    settings = Settings.from_env(env)
    up = subprocess.run(cli + ["up"], env=env, capture_output=True, text=True, timeout=600)
    if up.returncode != 0:
        raise SystemExit(f"callcenter up failed: {up.stdout}{up.stderr}")
    try:
        base = f"http://127.0.0.1:{settings.web_port}"
        exts, calls = seed(settings, args.sockets, args.samples + args.browser_samples)
        started = time.time()
        agents = connect_agents(base, exts[:-1])
        connect_s = time.time() - started
        rng = random.Random(1)
        targets = [(uid, rng.choice(agents).ext) for uid in calls[:args.samples]]
        seen = asyncio.run(ringing_events(settings, targets, args.gap_ms / 1000))
        time.sleep(1)
        by_ext = {a.ext: a for a in agents}
        latencies = [(by_ext[ext].arrived[uid] - seen[uid]) * 1000 for uid, ext in targets
                     if uid in seen and uid in by_ext[ext].arrived]
        lost = len(targets) - len(latencies)
        page = asyncio.run(browser_samples(base, settings, exts[-1], calls[args.samples:], args.gap_ms / 1000 * 5)) \
            if args.browser_samples else []
        disconnect_all(agents)
    finally:
        subprocess.run(cli + ["down"], env=env, capture_output=True, timeout=120)
    result = {
        "sockets": len(agents), "samples": len(latencies), "lost": lost, "connect_all_s": round(connect_s, 1),
        "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "browser_samples": len(page), "browser_p50_ms": percentile(page, 0.50),
        "browser_p99_ms": percentile(page, 0.99), "gap_ms": args.gap_ms, "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
