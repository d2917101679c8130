"""Our ACD vs Asterisk's app_queue: the same offered load on the same Asterisk, side by side.

One Asterisk (the cached root, the shipped asterisk_conf), one Redis and our router (`python -m
acd`) are started in a private home on free ports. 200 simulated agents (1000..1199) each hold 3
of 20 skills at a level 1-5 (seeded). Each phone is the shipped `sim-phone`: it rings, answers
after --answer-after seconds and talks for the call's own talk time (exponential, mean --talk,
capped at 4x, carried by the call in __SIM_TALK), then hangs up.

The same seeded arrivals (Poisson; rate set so the offered occupancy is --occupancy, counting
talk, answer delay and wrap-up) are placed twice, as simulated callers (Local channels):

- ours: into the waiting context cc-wait with CC_SKILL set, as the IVR hands calls off; the
  router sees the CallQueued UserEvent, picks an agent (best level, then longest idle, one agent
  state across skills, reservation in Redis) and redirects the caller to cc-connect, which dials
  the agent's phone. Wrap-up is the queue's wrapup_s, ended by the router.
- app_queue: into Queue(<skill>): 20 queues, the agents added as dynamic members
  (Local/<ext>@cc-agent-phones/n, the very same phones) with penalty 5 - level, strategy
  leastrecent, ringinuse no, wrapuptime = --wrapup, timeout = ring time 15 s, and retry = --retry
  (1 s, the smallest app_queue accepts: its fastest setting; Asterisk's default is 5 s).

Measured, per call: from the call entering the queue (our CallQueued UserEvent; app_queue's
QueueCallerJoin) to the agent's phone ringing (the caller's DialBegin towards
Local/<ext>@cc-agent-phones), both from the Timestamp Asterisk itself stamps on the AMI events
(timestampevents = yes), so the reading client's delays do not count. The time includes any
wait for a free agent: at a high occupancy it measures how fast a freed agent gets a waiting
caller, at a low one the bare routing path. Also: Asterisk's CPU (utime + stime from /proc) from
the first call placed to the last call ended, in each phase; our router's and Redis's CPU in ours;
agents rung while their phone was already busy (double_rings); calls never rung (unrouted).

The routing path hop by hop (ours): the router runs with CC_ROUTE_TRACE=1 and logs, per call,
when it handled the CallQueued event (received), when Redis answered the reservation (reserved)
and when Asterisk answered the redirect (sent); joined with Asterisk's own stamps on the CallQueued
and AgentRinging UserEvents and the DialBegin, one host clock for all, they give `hops`: p50/p99
of queued_to_received, received_to_reserved, reserved_to_sent, sent_to_ringing (negative when the
phone rang before the redirect's answer was read), reserved_to_ringing, ringing_to_dial, total.

Both phases play music to waiting callers; neither records nor announces (our periodic
position announcement is switched off for the bench, app_queue's are off by default). The
bench's own AMI user (added to the rendered manager.conf only) sees just the events it needs.
Needs root (Asterisk runs chrooted) and redis-server. Prints a JSON object on its last line:
ours_p50_ms, ours_p99_ms, ours_mean_ms (and app_queue_*), ratio_p99 (app_queue p99 over ours),
ours_asterisk_cpu_s, app_queue_asterisk_cpu_s, asterisk_cpu_ratio (ours over app_queue), Asterisk's
CPU per call rung on each side, hops, and the settings and counts behind them.

The pieces issue 8 asks for, each a preset run in a stack of its own (other flags given win):

    python bench/acd_vs_app_queue.py --piece free    # occupancy 0.5, nobody waits: ours_free_p99_ms,
                                                     # app_queue_free_p99_ms (p50 too), hops (~7 min)
    python bench/acd_vs_app_queue.py --piece busy    # occupancy 0.85: ours_busy_mean_ms,
                                                     # app_queue_busy_mean_ms (p99 too) (~7 min)
    python bench/acd_vs_app_queue.py --piece large   # 1000 agents (extensions are 1XXX: the most
                                                     # there can be), 20 skills, occupancy 0.3 (more
                                                     # live calls than 2 cores carry would measure the
                                                     # machine): *_large_asterisk_cpu_ms_per_call (~8 min)
    python bench/acd_vs_app_queue.py --piece all     # the three in turn; the last line has every figure

A plain run takes the flags alone; `--sides ours` runs one side only, to try a change quickly:

    python bench/acd_vs_app_queue.py [--calls 500] [--occupancy 0.85] [--talk 20] [--rounds 1] [--sides ours]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callcenter import ami, db  # noqa: E402
from callcenter.config import Settings  # noqa: E402
from callcenter.runtime import asterisk, redis_server  # noqa: E402

SKILL_NAMES = [f"skill_{chr(ord('a') + i)}" for i in range(26)]  # cc-wait keeps only a-z and _
RING_TIME_S = 15
BENCH_USER = "bench"
PHONES = "cc-agent-phones"
CLK_TCK = os.sysconf("SC_CLK_TCK")

EXTENSIONS = """
; ---- bench/acd_vs_app_queue.py only: appended to the rendered copy, never shipped; reached only
; by the bench's Originate. BENCH_SKILL names the skill (ours) or queue (app_queue).
[bench-acd]
exten => _X.,1,Set(CHANNEL(hangup_handler_push)=cc-hangup,s,1)
 same => n,Set(CC_SKILL=${BENCH_SKILL})
 same => n,Answer()
 same => n,Goto(cc-wait,s,1)

[bench-app-queue]
exten => _X.,1,Answer()
 same => n,Queue(${BENCH_SKILL})
 same => n,Hangup()
"""

MANAGER = """
[{user}]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call,agent,user
write = call,originate,agent,reporting
writetimeout = 5000
eventfilter = ^Event: (UserEvent|QueueCallerJoin|DialBegin|Hangup|OriginateResponse)[[:space:]]
"""

QUEUE_GENERAL = """; bench/acd_vs_app_queue.py only: written into the rendered configuration, never shipped.
[general]
persistentmembers = no
autofill = yes
shared_lastcall = yes

[bench](!)
strategy = leastrecent
timeout = {ring}
retry = {retry}
wrapuptime = {wrapup}
ringinuse = no
joinempty = yes
leavewhenempty = no
musicclass = default
announce-frequency = 0
periodic-announce-frequency = 0
announce-position = no
announce-holdtime = no
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def sig(x: float) -> float:
    """Three significant digits: a ratio far from 1 still reads."""
    return float(f"{x:.3g}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


# ---------------------------------------------------------------- the floor and the load
def floor(agents: int, skills: int, per_agent: int, seed: int) -> dict[str, dict[str, int]]:
    rng = random.Random(seed)
    names = SKILL_NAMES[:skills]
    floor_ = {}
    for i in range(agents):
        ext = f"{1000 + i}"
        # the first skill round-robin, so every skill has agents; the others at random
        chosen = [names[i % skills]] + rng.sample([s for s in names if s != names[i % skills]], per_agent - 1)
        floor_[ext] = {s: rng.randint(1, 5) for s in chosen}
    return floor_


def arrivals(calls: int, rate: float, skills: int, talk: float, seed: int) -> list[tuple[float, str, float]]:
    """(seconds after the start, skill, talk seconds) for each call; the same for both sides."""
    rng = random.Random(seed * 7919 + 1)
    t, out = 0.0, []
    for _ in range(calls):
        out.append((t, rng.choice(SKILL_NAMES[:skills]), round(min(rng.expovariate(1 / talk), 4 * talk), 1)))
        t += rng.expovariate(rate)
    return out


# ---------------------------------------------------------------- the stack
class Stack:
    """Redis, Asterisk and our router in a private home; everything started is stopped."""

    def __init__(self, args):
        self.args = args
        self.home = Path(tempfile.mkdtemp(prefix="acd-vs-app-queue-"))
        self.env = dict(os.environ, CALLCENTER_HOME=str(self.home), CC_AMI_PORT=str(free_port()),
                        CC_AGI_PORT=str(free_port()), CC_SIP_PORT=str(free_port()),
                        CC_REDIS_PORT=str(free_port()))
        for name in ("DATABASE_URL", "REDIS_URL"):
            self.env.pop(name, None)
        self.settings = Settings.from_env(self.env)
        self.procs: dict[str, subprocess.Popen] = {}
        self.install = None
        self.bench_secret = self.settings.secret("bench-ami")

    def log(self, name: str) -> Path:
        return self.settings.log_dir / f"{name}.log"

    def spawn(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log(name), "ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=dict(self.env, **env), start_new_session=True)
        self.procs[name] = proc
        return proc

    def seed_database(self, floor_: dict[str, dict[str, int]]) -> None:
        from callcenter.models import AgentSkill, QueueConfig, User

        db.upgrade(self.settings.database_url)
        with db.session_factory(self.settings.database_url)() as s:
            for skill in SKILL_NAMES[:self.args.skills]:
                s.add(QueueConfig(skill=skill, ring_time_s=RING_TIME_S, wrapup_s=self.args.wrapup,
                                  service_level_s=20, overflow="", no_answer_limit=1))
            for ext, skills in floor_.items():
                user = User(username=f"bench{ext}", display_name=f"Bench agent {ext}", role="agent",
                            agent_extension=ext, language="en", password_hash="!")  # cannot log in
                s.add(user)
                s.flush()
                s.add_all(AgentSkill(user_id=user.id, skill=k, level=v) for k, v in skills.items())
            s.commit()

    def render(self) -> Path:
        """The shipped configuration, plus what only the bench needs (app_queue, its contexts, its AMI user)."""
        self.install = asterisk.locate(self.settings)
        conf = asterisk.render_config(self.settings, self.install)
        etc = conf.parent
        with open(etc / "modules.conf", "a") as f:
            f.write("\n; bench only\nload => app_queue.so\n")
        with open(etc / "extensions.conf", "a") as f:
            f.write(EXTENSIONS)
        with open(etc / "manager.conf", "a") as f:
            f.write(MANAGER.format(user=BENCH_USER, secret=self.bench_secret))
        text = QUEUE_GENERAL.format(ring=RING_TIME_S, retry=self.args.retry, wrapup=self.args.wrapup)
        text += "".join(f"\n[{skill}](bench)\n" for skill in SKILL_NAMES[:self.args.skills])
        (etc / "queues.conf").write_text(text)
        return conf

    def start(self, floor_: dict[str, dict[str, int]]) -> None:
        from ivr import prompts

        self.seed_database(floor_)
        prompts.generate_moh(self.settings.moh_dir)
        conf = self.render()
        self.spawn("redis", redis_server.command(self.settings))
        self.spawn("asterisk", asterisk.command(self.settings, self.install, conf))
        # CC_ROUTE_TRACE: the router logs each call's hops (received, reserved, sent) for the breakdown
        self.spawn("acd", [sys.executable, "-m", "acd"], CC_ROUTE_TRACE="1")

    async def wait_router(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}): {self.tail(name)}")
            if self.log("acd").exists() and "router running" in self.log("acd").read_text(errors="replace"):
                return
            await asyncio.sleep(0.3)
        raise RuntimeError(f"the router did not start: {self.tail('acd')}")

    def tail(self, name: str, chars: int = 1500) -> str:
        path = self.log(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(proc.pid) for name, proc in self.procs.items()}

    def stop(self) -> None:
        for name in ("acd", "asterisk", "redis"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.install is not None and self.install.root is not None:
            inner = self.install.root / str(self.home).lstrip("/")  # the bind-mount point, empty now
            try:
                inner.rmdir()
            except OSError:
                pass
        if not self.args.keep:
            shutil.rmtree(self.home, ignore_errors=True)


# ---------------------------------------------------------------- what Asterisk reports
class Recorder:
    """AMI events of the bench's calls: queue entry, first ring, hang-up, phones rung while busy."""

    def __init__(self):
        self.entered: dict[str, float] = {}
        self.rung: dict[str, float] = {}
        self.ringing: dict[str, float] = {}  # ours: the AgentRinging UserEvent (cc-connect's first event)
        self.ended: set[str] = set()
        self.watch: set[str] = set()
        self.phone_legs: dict[str, set[str]] = {}  # agent extension -> its live phone channels
        self.leg_ext: dict[str, str] = {}
        self.double_rings = 0

    def reset(self) -> None:
        self.__init__()

    def __call__(self, _manager, event) -> None:
        kind = event.get("Event")
        uid = event.get("Uniqueid", "")
        if kind == "UserEvent" and event.get("UserEvent") == "CallQueued" or kind == "QueueCallerJoin":
            if uid in self.watch and uid not in self.entered:
                self.entered[uid] = float(event["Timestamp"])
        elif kind == "UserEvent" and event.get("UserEvent") == "AgentRinging":
            if uid in self.watch and uid not in self.ringing:
                self.ringing[uid] = float(event["Timestamp"])
        elif kind == "DialBegin":
            dest = event.get("DestChannel", "")
            if f"@{PHONES}-" not in dest:
                return
            ext = dest.split("/", 1)[1].split("@", 1)[0]
            legs = self.phone_legs.setdefault(ext, set())
            if legs:
                self.double_rings += 1
            legs.add(event.get("DestUniqueid", ""))
            self.leg_ext[event.get("DestUniqueid", "")] = ext
            if uid in self.watch and uid not in self.rung:
                self.rung[uid] = float(event["Timestamp"])
        elif kind == "Hangup":
            if uid in self.leg_ext:
                self.phone_legs[self.leg_ext.pop(uid)].discard(uid)
            if uid in self.watch:
                self.ended.add(uid)


TRACE_LINE = re.compile(r"call=(\S+) hop=(\w+) at=([0-9.]+)")
# The routing path's hops, each (name, from, to): Asterisk's own stamps (queued: the CallQueued
# UserEvent; ringing: AgentRinging, cc-connect's first event; dial: DialBegin towards the phone) and
# the router's trace (received: the event handled; reserved: Redis answered; sent: the Redirect's
# reply read). One host clock: Asterisk's Timestamp and the router's time.time() compare directly.
HOPS = (("queued_to_received", "queued", "received"), ("received_to_reserved", "received", "reserved"),
        ("reserved_to_sent", "reserved", "sent"), ("sent_to_ringing", "sent", "ringing"),
        ("reserved_to_ringing", "reserved", "ringing"), ("ringing_to_dial", "ringing", "dial"),
        ("total", "queued", "dial"))


def router_trace(path: Path, uids: set[str]) -> dict[str, dict[str, float]]:
    """The first time of each hop the router logged for each call (acd.trace, CC_ROUTE_TRACE=1)."""
    found: dict[str, dict[str, float]] = {}
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            m = TRACE_LINE.search(line)
            if m and m[1] in uids:
                found.setdefault(m[1], {}).setdefault(m[2], float(m[3]))
    return found


def hop_times(recorder: "Recorder", trace: dict[str, dict[str, float]]) -> dict[str, list[float]]:
    """Per hop, its milliseconds for every call that has all the stamps."""
    out: dict[str, list[float]] = {name: [] for name, _, _ in HOPS}
    for uid in recorder.watch:
        stamps = dict(trace.get(uid, {}), queued=recorder.entered.get(uid), ringing=recorder.ringing.get(uid),
                      dial=recorder.rung.get(uid))
        if any(stamps.get(k) is None for k in ("queued", "received", "reserved", "sent", "ringing", "dial")):
            continue
        for name, a, b in HOPS:
            out[name].append((stamps[b] - stamps[a]) * 1000)
    return out


async def originate(manager, action: dict, failures: list) -> None:
    try:
        reply = await manager.send_action(action)
        replies = reply if isinstance(reply, list) else [reply]
        if not any(r.get("Response") == "Success" for r in replies):
            failures.append(replies[0].get("Message"))
    except Exception as exc:  # counted: a call not placed is never rung
        failures.append(str(exc))


async def phase(name: str, stack: Stack, manager, recorder: Recorder, load, args) -> dict:
    context = "bench-acd" if name == "ours" else "bench-app-queue"
    recorder.reset()
    ids = [f"bench{name[0]}{i:05d}{random.getrandbits(24):06x}" for i in range(len(load))]
    recorder.watch = {cid + "-2" for cid in ids}
    failures: list = []
    tasks = []
    cpu_before, started = stack.cpu(), time.monotonic()
    for n, ((offset, skill, talk), cid) in enumerate(zip(load, ids)):
        delay = started + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(originate(manager, {
            "Action": "Originate", "Channel": f"Local/{10000 + n}@{context}/n", "Context": "sim-caller",
            "Exten": "s", "Priority": "1", "CallerID": "<13900000000>", "Async": "true", "Timeout": "30000",
            "ChannelId": cid, "OtherChannelId": cid + "-2",
            "Variable": f"BENCH_SKILL={skill},__SIM_TALK={talk:g},SIM_WAIT=0,SIM_HOLD=900"}, failures)))
    deadline = time.monotonic() + 4 * args.talk + RING_TIME_S + args.drain
    while time.monotonic() < deadline and len(recorder.ended) + len(failures) < len(load):
        await asyncio.sleep(0.2)
    wall = time.monotonic() - started
    cpu_after = stack.cpu()
    await asyncio.gather(*tasks)
    latencies = [(recorder.rung[u] - recorder.entered[u]) * 1000 for u in recorder.watch
                 if u in recorder.rung and u in recorder.entered]
    cpu = {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_before}
    hops = hop_times(recorder, router_trace(stack.log("acd"), recorder.watch)) if name == "ours" else {}
    result = {"latencies": latencies, "hops": hops, "calls": len(load), "rung": len(latencies), "not_placed": len(failures),
              "unrouted": len(load) - len(latencies), "unfinished": len(load) - len(recorder.ended) - len(failures),
              "double_rings": recorder.double_rings, "wall_s": round(wall, 1), "cpu_s": cpu,
              "loadavg_1min_at_end": round(os.getloadavg()[0], 1)}  # the machine is shared: say how busy it was
    print(f"{name}: {len(latencies)}/{len(load)} rung, p50 {percentile(latencies, 0.5):.1f} ms, "
          f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.0f} ms, asterisk CPU "
          f"{cpu['asterisk']:.1f} s in {wall:.0f} s" if latencies else f"{name}: no call rung", flush=True)
    return result


async def hang_up_leftovers(manager) -> None:
    """Calls still up after a phase (a stuck call) must not leak into the next."""
    replies = await manager.send_action({"Action": "CoreShowChannels"}, as_list=True)
    for r in replies:
        if r.get("Event") == "CoreShowChannel":
            await manager.send_action({"Action": "Hangup", "Channel": r["Channel"]})


async def make_agents_ready(stack: Stack, exts) -> None:
    import redis.asyncio as aioredis

    from acd.manager import AgentManager
    from acd.store import Store

    redis = aioredis.from_url(stack.settings.effective_redis_url)
    agents = AgentManager.for_states(Store(redis))
    try:
        for ext in exts:
            if (await agents.store.agent(ext)).state != "ready":
                await agents.set_state(ext, "ready")  # logs in, or ends a wrap-up, as needed
        states = [(await agents.store.agent(ext)).state for ext in exts]
    finally:
        await redis.aclose()
    if any(s != "ready" for s in states):
        raise RuntimeError(f"agents not ready before our phase: {sorted(set(states))}")


async def queue_members(manager, floor_, add: bool) -> None:
    for ext, skills in floor_.items():
        for skill, level in skills.items():
            action = {"Action": "QueueAdd" if add else "QueueRemove", "Queue": skill,
                      "Interface": f"Local/{ext}@{PHONES}/n"}
            if add:
                action.update({"Penalty": str(5 - level), "MemberName": ext, "Paused": "false"})
            reply = await manager.send_action(action, as_list=False)  # one reply (panoramisk would wait for more)
            if reply.get("Response") != "Success":
                raise RuntimeError(f"{action['Action']} {ext} to {skill}: {reply.get('Message')}")


async def run(args, stack: Stack, floor_) -> dict:
    await stack.wait_router()
    settings = SimpleNamespace(ami_host="127.0.0.1", ami_port=stack.settings.ami_port, ami_user=BENCH_USER,
                               ami_secret=stack.bench_secret)
    manager = await ami.connect(settings)
    recorder = Recorder()
    manager.register_event("*", recorder)
    try:
        # the phones, and no position announcements while waiting (app_queue makes none either)
        for ext in floor_:
            await manager.send_action({"Action": "Setvar", "Variable": f"SIMPHONE_{ext}",
                                       "Value": f"{args.answer_after:g}:{args.talk:g}"})
        await manager.send_action({"Action": "Setvar", "Variable": "CC_ANNOUNCE_S", "Value": "3600"})
        handle = args.talk + args.answer_after + args.wrapup
        rate = args.occupancy * args.agents / handle
        load = arrivals(args.calls, rate, args.skills, args.talk, args.seed)
        results: dict[str, list[dict]] = {"ours": [], "app_queue": []}
        for r in range(args.rounds):
            for side in (("ours", "app_queue") if r % 2 == 0 else ("app_queue", "ours")):
                if side not in args.sides:
                    continue
                if side == "ours":
                    await make_agents_ready(stack, floor_)
                    # the router has seen every agent become ready (two changes each, logged and
                    # published) before the first call: 1000 agents take it some seconds
                    await asyncio.sleep(2 + len(floor_) / 100)
                else:
                    await queue_members(manager, floor_, add=True)
                    await asyncio.sleep(2)  # members' device states settle
                results[side].append(await phase(side, stack, manager, recorder, load, args))
                if side == "app_queue":
                    await queue_members(manager, floor_, add=False)
                await hang_up_leftovers(manager)
                await asyncio.sleep(args.wrapup + 2)  # wrap-ups end before the next phase
    finally:
        manager.close()

    def merged(side: str, key: str):
        return sum(r[key] for r in results[side])

    def cpu(side: str, proc: str) -> float:
        return round(sum(r["cpu_s"][proc] for r in results[side]), 2)

    ours = [x for r in results["ours"] for x in r["latencies"]]
    theirs = [x for r in results["app_queue"] for x in r["latencies"]]
    if args.sides != ["ours", "app_queue"]:  # one side only (trying a change): its figures, no comparison
        mine = ours or theirs
        side = "ours" if ours else "app_queue"
        return {"side": side, "agents": args.agents, "occupancy": args.occupancy, "calls": args.calls,
                "p50_ms": round(percentile(mine, 0.5), 2), "p99_ms": round(percentile(mine, 0.99), 2),
                "mean_ms": round(sum(mine) / len(mine), 1), "max_ms": round(max(mine), 1),
                "asterisk_cpu_s": cpu(side, "asterisk"), "router_cpu_s": cpu(side, "acd"),
                "hops": {name: {"p50_ms": round(percentile(v, 0.5), 2), "p99_ms": round(percentile(v, 0.99), 2)}
                         for r in results[side] for name, v in r["hops"].items() if v}}
    if not ours or not theirs:
        raise RuntimeError(f"no call was rung: ours {len(ours)}, app_queue {len(theirs)}; "
                           f"router log: {stack.tail('acd')}")
    ours_p99, theirs_p99 = percentile(ours, 0.99), percentile(theirs, 0.99)
    ours_cpu, theirs_cpu = cpu("ours", "asterisk"), cpu("app_queue", "asterisk")
    hops: dict[str, list[float]] = {}
    for r in results["ours"]:
        for name, values in r["hops"].items():
            hops.setdefault(name, []).extend(values)
    return {
        "agents": args.agents, "skills": args.skills, "skills_per_agent": args.skills_per_agent,
        "calls": args.calls, "rounds": args.rounds, "rate_per_s": round(rate, 2), "talk_mean_s": args.talk,
        "answer_after_s": args.answer_after, "wrapup_s": args.wrapup, "offered_occupancy": args.occupancy,
        "app_queue_retry_s": args.retry, "seed": args.seed,
        "ours_p50_ms": round(percentile(ours, 0.5), 2), "ours_p99_ms": round(ours_p99, 2),
        "app_queue_p50_ms": round(percentile(theirs, 0.5), 2), "app_queue_p99_ms": round(theirs_p99, 2),
        "ours_mean_ms": round(sum(ours) / len(ours), 1), "app_queue_mean_ms": round(sum(theirs) / len(theirs), 1),
        "ratio_p99": sig(theirs_p99 / ours_p99) if ours_p99 > 0 else None,
        "ours_max_ms": round(max(ours), 1), "app_queue_max_ms": round(max(theirs), 1),
        "ours_waited_over_1s": sum(1 for x in ours if x > 1000),
        "app_queue_waited_over_1s": sum(1 for x in theirs if x > 1000),
        "ours_asterisk_cpu_s": ours_cpu, "app_queue_asterisk_cpu_s": theirs_cpu,
        "asterisk_cpu_ratio": sig(ours_cpu / theirs_cpu) if theirs_cpu > 0 else None,
        "ours_loadavg": [r["loadavg_1min_at_end"] for r in results["ours"]],
        "app_queue_loadavg": [r["loadavg_1min_at_end"] for r in results["app_queue"]],
        "ours_asterisk_cpu_ms_per_call": round(1000 * ours_cpu / len(ours), 1),
        "app_queue_asterisk_cpu_ms_per_call": round(1000 * theirs_cpu / len(theirs), 1),
        "ours_router_cpu_s": cpu("ours", "acd"), "ours_redis_cpu_s": cpu("ours", "redis"),
        "ours_wall_s": round(merged("ours", "wall_s"), 1), "app_queue_wall_s": round(merged("app_queue", "wall_s"), 1),
        "ours_unrouted": merged("ours", "unrouted"), "app_queue_unrouted": merged("app_queue", "unrouted"),
        "ours_double_rings": merged("ours", "double_rings"),
        "app_queue_double_rings": merged("app_queue", "double_rings"),
        "cpus": os.cpu_count(),
        "hops": {name: {"p50_ms": round(percentile(v, 0.5), 2), "p99_ms": round(percentile(v, 0.99), 2)}
                 for name, v in hops.items() if v},
        "hops_calls": len(hops.get("total", [])),
    }


# The pieces the issue asks for (bench/README in the docstring): each a preset, run in its own stack.
PIECES = {
    "free": {"occupancy": 0.5},  # nobody waits: the bare routing path, with the per-hop breakdown
    "busy": {"occupancy": 0.85},  # freed agents to waiting callers: mean waits
    "large": {"agents": 1000, "occupancy": 0.3, "calls": 600},  # Asterisk's CPU per call, many members
}
DEFAULTS = {"agents": 200, "occupancy": 0.85, "calls": 500}


def named(piece: str, r: dict) -> dict:
    """The piece's figures under the names the final JSON line carries."""
    if piece == "free":
        return {"ours_free_p50_ms": r["ours_p50_ms"], "ours_free_p99_ms": r["ours_p99_ms"],
                "app_queue_free_p50_ms": r["app_queue_p50_ms"], "app_queue_free_p99_ms": r["app_queue_p99_ms"],
                "free_p99_over_app_queue": sig(r["ours_p99_ms"] / r["app_queue_p99_ms"]) if r["app_queue_p99_ms"] else None,
                "hops": r["hops"]}
    if piece == "busy":
        return {"ours_busy_mean_ms": r["ours_mean_ms"], "app_queue_busy_mean_ms": r["app_queue_mean_ms"],
                "ours_busy_p99_ms": r["ours_p99_ms"], "app_queue_busy_p99_ms": r["app_queue_p99_ms"]}
    return {"large_agents": r["agents"], "large_skills": r["skills"],
            "ours_large_asterisk_cpu_ms_per_call": r["ours_asterisk_cpu_ms_per_call"],
            "app_queue_large_asterisk_cpu_ms_per_call": r["app_queue_asterisk_cpu_ms_per_call"],
            "ours_large_router_cpu_s": r["ours_router_cpu_s"]}


def run_once(args) -> dict:
    """One stack, both sides; its result."""
    floor_ = floor(args.agents, args.skills, args.skills_per_agent, args.seed)
    stack = Stack(args)
    try:
        stack.start(floor_)
        return asyncio.run(run(args, stack, floor_))
    except BaseException:
        for name in ("acd", "asterisk"):
            print(f"--- {name} log\n{stack.tail(name)}", file=sys.stderr)
        raise
    finally:
        stack.stop()
        if args.keep:
            print(f"home kept: {stack.home}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--piece", choices=[*PIECES, "all"],
                        help="a preset (free, busy, large) or all three in turn; other flags given win")
    parser.add_argument("--agents", type=int, help=f"default {DEFAULTS['agents']}")
    parser.add_argument("--skills", type=int, default=20)
    parser.add_argument("--skills-per-agent", type=int, default=3)
    parser.add_argument("--calls", type=int, help=f"calls per side and round (default {DEFAULTS['calls']})")
    parser.add_argument("--occupancy", type=float,
                        help="offered load per agent: arrival rate x (talk + answer + wrap-up) / agents "
                             f"(default {DEFAULTS['occupancy']})")
    parser.add_argument("--talk", type=float, default=20, help="mean talk time, seconds (exponential, capped at 4x)")
    parser.add_argument("--answer-after", type=float, default=1, help="seconds a phone rings before answering")
    parser.add_argument("--wrapup", type=int, default=2, help="wrap-up seconds (our queues and app_queue's wrapuptime)")
    parser.add_argument("--retry", type=int, default=1, help="app_queue retry, seconds (Asterisk's default is 5)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; the order of the sides alternates")
    parser.add_argument("--drain", type=float, default=120, help="seconds allowed after the last call's longest talk")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the private home (logs) afterwards")
    parser.add_argument("--sides", nargs="+", choices=["ours", "app_queue"], default=["ours", "app_queue"],
                        help="run one side only, to try a change quickly (no --piece then)")
    args = parser.parse_args()
    if args.sides != ["ours", "app_queue"] and args.piece:
        parser.error("--sides with one side is for a plain run, not a --piece")
    if not 1 <= args.skills <= len(SKILL_NAMES) or not 1 <= args.skills_per_agent <= args.skills:
        parser.error(f"--skills 1-{len(SKILL_NAMES)}, --skills-per-agent 1..skills")
    if args.agents is not None and not 1 <= args.agents <= 1000:
        parser.error("--agents 1-1000 (agent extensions are 1XXX: 1000-1999)")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the stack is stopped on TERM too
    pieces = list(PIECES) if args.piece == "all" else [args.piece]
    final: dict = {}
    for piece in pieces:
        given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
        settings = dict(DEFAULTS, **PIECES.get(piece, {}), **given)
        result = run_once(argparse.Namespace(**{**vars(args), **settings}))
        if piece is None:
            final = result
            continue
        result["piece"] = piece
        final.update(named(piece, result))
        final.setdefault("pieces", {})[piece] = result
        if len(pieces) > 1:
            print(json.dumps(result), flush=True)  # each piece as it ends; the last line has them all
    print(json.dumps(final))


if __name__ == "__main__":
    main()
