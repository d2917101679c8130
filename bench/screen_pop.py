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

Several web workers (issue 15, "Scale-out"): `--web-workers N` has the bench start N-1 more
`python -m agent_desktop` processes on free ports beside the one `callcenter up` starts, all on
the stack's one Redis (the message queue makes them one floor), and spreads the sockets across
them in turn. Every worker runs on the project's default server, gunicorn's gthread worker;
`--web-server werkzeug` runs them on Werkzeug instead (CC_WEB_SERVER, agent_desktop/__main__.py).
Agent extensions are the dialplan's 1XXX, so a floor has at most 999 bench agents: beyond that
each agent holds several sockets (an agent's second screen or tab), every one of which gets the
agent's pop and counts as a sample, and an agent's sockets sit on different workers. The JSON
gives, per process of the stack and for the bench itself, the CPU used while the ringing events
ran (`processes`) and while the sockets connected (`processes_connecting`), threads and memory:
what limits it.

    .venv/bin/python bench/screen_pop.py [--sockets 500] [--samples 400] [--browser-samples 30]
        [--web-workers 1] [--web-server gunicorn|werkzeug]

The last line is a JSON object. Goal (issue 5): p99 under 250 ms with 500 sockets on 2 cores;
goal (issue 15): p99 under 100 ms with none lost at 5000 sockets over two workers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import resource
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
MAX_AGENTS = 999  # extensions 1000..1998 (the dialplan's 1XXX); 1999 is the browser's
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
        self.ext, self.base = ext, base
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


def connect_agents(bases: list[str], exts: list[str], workers: int = 16) -> list[Agent]:
    """Socket i is agent exts[i] on web worker bases[i % len(bases)]."""
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
                agents[i] = Agent(bases[i % len(bases)], exts[i])
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
    """In parallel: each client waits up to ~3 s for the server's close frame, 500 in a row is 25 min.
    Quietly: each closed client's write loop logs 'packet queue is empty, aborting' as an error,
    which is how it ends on a disconnect (5000 such lines buried the result)."""
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    with ThreadPoolExecutor(max_workers=256) as pool:
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


def raise_open_files(sockets: int) -> int:
    """Each client socket is a descriptor here and one in a web worker (children inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = sockets * 2 + 1024
    if soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def start_web_worker(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """One more web worker of the same stack (same home, same Redis), on its own port."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "agent_desktop"], env={**env, "CC_WEB_PORT": str(port)},
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_serving(base: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web worker for {base} exited with {proc.returncode}")
        try:
            if requests.get(f"{base}/login", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"web worker for {base} not serving after {timeout_s} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_file(pid: int, name: str) -> bytes:
    with open(f"/proc/{pid}/{name}", "rb") as f:
        return f.read()


def stack_processes(home: Path) -> dict[int, str]:
    """Every process of this bench's stack (its environment names our private home), by a short
    name: the module a Python service runs (web workers with their port), else the program."""
    marker = f"CALLCENTER_HOME={home}".encode()
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            environ = _proc_file(pid, "environ").split(b"\0")
            argv = [a.decode(errors="replace") for a in _proc_file(pid, "cmdline").split(b"\0") if a]
        except OSError:  # gone, or not ours to read
            continue
        if marker not in environ or not argv:
            continue
        name = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else Path(argv[0]).name
        if name == "agent_desktop":
            port = next((e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"CC_WEB_PORT=")), "?")
            name = f"web:{port}"
        found[pid] = name
    return found


def process_sample(pid: int) -> dict | None:
    """CPU seconds so far, threads and resident memory of one process, from /proc."""
    try:
        fields = _proc_file(pid, "stat").rsplit(b")", 1)[1].split()
        status = _proc_file(pid, "status").decode()
    except OSError:
        return None
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"cpu_s": (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, "threads": int(values["Threads"]),
            "rss_mb": int(values.get("VmRSS", "0 kB").split()[0]) / 1024}


def listening_pid(port: int) -> int | None:
    """The process listening on a loopback port (Redis rewrites its environment for its process
    title, so stack_processes cannot find it by our home)."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=", 1)[1].split(",", 1)[0]) if "pid=" in out else None


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat), to tell our stack's
    use from other work on the same cores (another run's tests)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS  # less idle and iowait


def snapshot(home: Path, named: dict[int, str]) -> dict[str, list[dict]]:
    """Samples of the stack's processes by name (gunicorn's master and worker share a name), of those
    named by pid, and the bench's."""
    taken: dict[str, list[dict]] = {}
    for pid, name in {**stack_processes(home), **named}.items():
        sample = process_sample(pid)
        if sample:
            taken.setdefault(name, []).append(sample)
    taken["bench"] = [process_sample(os.getpid())]
    taken["machine"] = [{"cpu_s": machine_busy_s(), "threads": 0, "rss_mb": 0}]
    return taken


def usage(before: dict[str, list[dict]], after: dict[str, list[dict]], wall_s: float) -> dict[str, dict]:
    """Per process name: the share of one core used between the snapshots, threads and memory at the
    end; "machine" is every process on it, "others" what is not this bench's stack nor the bench."""
    result = {}
    for name, samples in sorted(after.items()):
        cpu = sum(x["cpu_s"] for x in samples) - sum(x["cpu_s"] for x in before.get(name, []))
        result[name] = {"cpu_pct": round(100 * cpu / wall_s, 1), "threads": sum(x["threads"] for x in samples),
                        "rss_mb": round(sum(x["rss_mb"] for x in samples), 1)}
    ours = sum(v["cpu_pct"] for k, v in result.items() if k != "machine")
    result["others"] = {"cpu_pct": round(result["machine"]["cpu_pct"] - ours, 1)}
    return result


def wait_arrivals(expected: list[tuple[str, "Agent"]], timeout_s: float) -> None:
    """Until every expected pop has arrived, or timeout_s: what is still missing then is lost."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and any(uid not in agent.arrived for uid, agent in expected):
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--samples", type=int, default=400, help="ringing events")
    parser.add_argument("--browser-samples", type=int, default=30)
    parser.add_argument("--gap-ms", type=float, default=20, help="time between ringing events")
    parser.add_argument("--web-workers", type=int, default=1, help="web worker processes on the one Redis")
    parser.add_argument("--web-server", choices=("gunicorn", "werkzeug"),
                        default=os.environ.get("CC_WEB_SERVER", "gunicorn"))
    args = parser.parse_args()
    if args.sockets < 1 or args.web_workers < 1:
        parser.error("--sockets and --web-workers must be at least 1")
    open_files = raise_open_files(args.sockets)
    threading.stack_size(512 * 1024)  # two client threads per socket: 10,000 threads at 5000 sockets

    home = Path(f"/tmp/cc-bench-screen-pop-{os.getpid()}")
    per_worker = math.ceil(args.sockets / args.web_workers) + 1  # + the browser's
    env = {**os.environ, "CALLCENTER_HOME": str(home), "CC_SERVICE_USER": "", "CC_AMI_PORT": str(free_port()),
           "CC_AGI_PORT": str(free_port()), "CC_SIP_PORT": str(free_port()), "CC_REDIS_PORT": str(free_port()),
           "CC_WEB_PORT": str(free_port()), "CC_WEB_SERVER": args.web_server,
           # gunicorn: each websocket holds a thread; room for the logins' HTTP connections too
           "CC_WEB_THREADS": str(per_worker + 100),
           # beyond 999 agents an agent holds several of the bench's sockets, past a seat's cap of
           # a few tabs (agent_desktop/socket_limits.py): the bench measures fan-out, not that cap
           "CC_SOCKETS_PER_USER": str(math.ceil(args.sockets / 999) + 2)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    cli = [sys.executable, "-m", "callcenter.cli"]
    settings = Settings.from_env(env)
    up = subprocess.run(cli + ["up"], env=env, capture_output=True, text=True, timeout=600)
    if up.returncode != 0:
        raise SystemExit(f"callcenter up failed: {up.stdout}{up.stderr}")
    extra: list[subprocess.Popen] = []
    try:
        bases = [f"http://127.0.0.1:{settings.web_port}"]
        for _ in range(args.web_workers - 1):
            port = free_port()
            extra.append(start_web_worker(env, port, home / f"web-{port}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        for base, proc in zip(bases[1:], extra):
            wait_serving(base, proc)
        n_agents = min(args.sockets, MAX_AGENTS)
        exts, calls = seed(settings, n_agents, args.samples + args.browser_samples)
        socket_exts = [exts[i % n_agents] for i in range(args.sockets)]
        redis_pid = listening_pid(settings.redis_port)
        named = {redis_pid: "redis"} if redis_pid else {}
        before, started = snapshot(home, named), time.time()
        agents = connect_agents(bases, socket_exts)
        connect_s = time.time() - started
        connecting = usage(before, snapshot(home, named), connect_s)
        rng = random.Random(1)
        targets = [(uid, rng.choice(exts[:n_agents])) for uid in calls[:args.samples]]
        sockets_of: dict[str, list[Agent]] = {}
        for agent in agents:
            sockets_of.setdefault(agent.ext, []).append(agent)
        expected = [(uid, agent) for uid, ext in targets for agent in sockets_of[ext]]
        before, ring_started = snapshot(home, named), time.time()
        seen = asyncio.run(ringing_events(settings, targets, args.gap_ms / 1000))
        wait_arrivals(expected, timeout_s=10)
        processes = usage(before, snapshot(home, named), time.time() - ring_started)
        latencies = [(agent.arrived[uid] - seen[uid]) * 1000 for uid, agent in expected
                     if uid in seen and uid in agent.arrived]
        lost = len(expected) - len(latencies)
        by_worker = {base: [(agent.arrived[uid] - seen[uid]) * 1000 for uid, agent in expected
                            if agent.base == base and uid in seen and uid in agent.arrived] for base in bases}
        page = asyncio.run(browser_samples(bases[-1], settings, exts[-1], calls[args.samples:],
                                           args.gap_ms / 1000 * 5)) if args.browser_samples else []
        disconnect_all(agents)
    finally:
        for proc in extra:
            stop(proc)
        subprocess.run(cli + ["down"], env=env, capture_output=True, timeout=120)
    result = {
        "sockets": len(agents), "agents": n_agents, "web_workers": len(bases), "web_server": args.web_server,
        "events": len(targets), "events_seen": len(seen), "samples": len(latencies), "lost": lost,
        "connect_all_s": round(connect_s, 1),
        "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "p99_ms_by_worker": {base.rsplit(":", 1)[1]: percentile(v, 0.99) for base, v in by_worker.items()},
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "browser_samples": len(page), "browser_p50_ms": percentile(page, 0.50),
        "browser_p99_ms": percentile(page, 0.99), "gap_ms": args.gap_ms, "cpus": os.cpu_count(),
        "open_files_limit": open_files, "processes": processes, "processes_connecting": connecting,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
