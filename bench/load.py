"""Load on the real stack through real SIP: callers over a carrier's trunk, agents on desk phones.

`callcenter up` starts everything (Redis, Asterisk, the menu, the router, the call records, the
SIP service, the desktop) in a private home on free ports, as the integration tests do. The bench
then declares, as an operator would, a carrier trunk from 127.0.0.3 and an access number that
opens the main menu (`callcenter trunk add`, `callcenter number add --entry main_menu`), creates
--agents agents (extensions 1100 up, skill general) with desk-phone passwords, and starts two
SIPp processes (Debian's sip-tester; scenarios in bench/sipp/):

- the agents' phones (agents.xml, 127.0.0.4): every agent registers from one socket and stays
  registered; the INVITEs Asterisk sends them, and its qualify OPTIONS, are answered by the
  out-of-call scenario agent_phone.xml: ring, answer (PCMA), send a 1000 Hz tone, talk for
  --talk seconds, hang up;
- the carrier's callers (caller.xml, 127.0.0.3): --calls calls at --rate per second, at most
  --concurrent at once; each keys 0 in the main menu by RFC 4733 while the greeting plays, sends
  a 440 Hz tone, waits in queue, talks to the agent, and is hung up on by the agent.

Every call is recorded (the shipped dialplan's MixMonitor, from answer to hang-up) and goes
through the menu (FastAGI), the router (Redis) and the call records (database): the survey is
not there yet (issue 15 asks for it when it exists). After the last call the bench waits for the
records, then checks every call placed, by its calling number (one per call):

- failed: calls not served: the caller's SIPp failed them (no answer, no BYE before
  --max-wait, an error) or their record shows no agent answered;
- records_missing: calls with no call row, or one never ended;
- recordings_missing: answered calls whose recording file is absent or holds no audio.

Also: concurrent_calls (the most callers up at once, as SIPp counts them), agents_on_call_max
(the most agents on a call at once, from the router's state in Redis), and the CPU of Asterisk,
of each of our services, of Redis and of SIPp itself over the run (seconds, and percent of one
core): on a 2-core machine the load generator shares the cores with what it measures.

    python bench/load.py --calls 3 --rate 1 --concurrent 3 --talk 5        # a smoke run (~40 s)
    python bench/load.py --duration 300 --rate 5 --concurrent 200 --talk 40  # sustained

Needs root (Asterisk runs chrooted, SIPp binds 127.0.0.3/4), redis-server, sox and sipp. The
last line of output is a JSON object with every figure.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIPP_DIR = ROOT / "bench" / "sipp"
SCENARIOS = ("caller.xml", "agents.xml", "agent_phone.xml")
CARRIER_HOST, PHONE_HOST = "127.0.0.3", "127.0.0.4"  # the trunk matches the carrier's address
CARRIER = "loadcarrier"
NUMBER = "40000"
FIRST_EXTENSION, LAST_EXTENSION = 1100, 1999  # agent extensions are 1XXX; the demo's are 100x
SKILL = "general"  # where the main menu's 0 goes (ivr/flows/hotline.toml, to_agent)
CALLER_HZ, AGENT_HZ = 440, 1000
# the caller keys 0 this long after the answer: after the recording notice (5.3 s in Mandarin,
# not interruptible), inside the main menu's prompt (22.6 s); again later in case a loaded
# machine started the menu late (a 0 heard while waiting in queue does nothing)
KEYS_AT_S = (8.0, 14.0)
# then the survey's answer (2, of 1-3), pressed every few seconds from after the menu's prompt: the
# caller cannot see the agent hang up (the survey follows on the same call), so it keeps pressing.
# In queue a 2 is an invalid key the wait ignores (1 there asks for a call back: not that one);
# with the agent it is a tone the agent hears.
SURVEY_KEY, SURVEY_FROM_S, SURVEY_EVERY_S = "2", 30.0, 3.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
AMI_USER_NAME = "cc_load"
AMI_USER = """; bench/load.py's AMI user: only in the bench's private home, never in an install.
[{user}]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system
write = system
writetimeout = 5000
"""
WAV_HEADER = 44  # a recording no bigger than its header holds no audio


# ---------------------------------------------------------------- arguments
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number above 0")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=_positive_int, help="calls to place (default 20, or rate x duration)")
    parser.add_argument("--duration", type=_positive_float, help="seconds of arrivals: calls = rate x duration")
    parser.add_argument("--rate", type=_positive_float, default=2.0, help="new calls per second (default 2)")
    parser.add_argument("--concurrent", type=_positive_int, default=200, help="most callers up at once (default 200)")
    parser.add_argument("--talk", type=_positive_float, default=30.0, help="agent's talk time, seconds (default 30)")
    parser.add_argument("--agents", type=_positive_int, help="agents on the floor (default: --concurrent + 10%%)")
    parser.add_argument("--wrapup", type=int, default=1, help="the queue's wrap-up seconds (default 1)")
    parser.add_argument("--max-wait", type=_positive_float, default=180.0,
                        help="a caller not hung up on within this many seconds of a step fails (default 180)")
    parser.add_argument("--keep", action="store_true", help="keep the private home (logs, recordings) afterwards")
    args = parser.parse_args(argv)
    if args.calls is not None and args.duration is not None:
        parser.error("give --calls or --duration, not both")
    if args.calls is None:
        args.calls = math.ceil(args.rate * args.duration) if args.duration is not None else 20
    if args.agents is None:
        args.agents = min(args.concurrent + math.ceil(args.concurrent / 10), LAST_EXTENSION - FIRST_EXTENSION + 1)
    if args.agents > LAST_EXTENSION - FIRST_EXTENSION + 1:
        parser.error(f"--agents: at most {LAST_EXTENSION - FIRST_EXTENSION + 1} (extensions "
                     f"{FIRST_EXTENSION}-{LAST_EXTENSION})")
    if not 0 <= args.wrapup <= 3600:
        parser.error("--wrapup: 0 to 3600 seconds")
    return args


def caller_numbers(calls: int) -> list[str]:
    """One calling number per call (11 digits), so each call's record is found by its number."""
    return [f"139{n:08d}" for n in range(1, calls + 1)]


# ---------------------------------------------------------------- processes and their CPU
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_cpu_seconds(pid: int, tree: dict[int, list[int]], others: frozenset[int] = frozenset()) -> float:
    """utime + stime of a process and its live descendants (a server's workers count as its),
    except those in `others` (counted on their own: the supervisor's services are its children)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in others and p != pid:
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            continue
        todo.extend(tree.get(p, []))
    return total


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    tree, named = _children(), frozenset(pids.values())
    return {name: tree_cpu_seconds(pid, tree, named) for name, pid in pids.items()}


# ---------------------------------------------------------------- SIPp
class Sipp:
    """One SIPp process, its statistics file (-trace_stat, every second) and its error log."""

    def __init__(self, name: str, argv: list[str], work: Path):
        self.name, self.work = name, work
        self.stat = work / f"{name}_stat.csv"
        self.errors = work / f"{name}_errors.log"
        # SIPp stops itself when its main loop is starved (its watchdog: by default 10 stalls of
        # 3 s); on a saturated 2-core machine that ended a 200-call run half way. Starved calls
        # fail or time out and are counted; the generator goes on.
        argv = ["sipp", *argv, "-nostdin", "-trace_stat", "-stf", str(self.stat), "-fd", "1",
                "-trace_err", "-error_file", str(self.errors), "-watchdog_major_maxtriggers", "1000000",
                "-watchdog_minor_maxtriggers", "1000000"]
        self.process = subprocess.Popen(argv, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(work / f"{name}.stderr", "wb"), start_new_session=True)

    def last_stats(self) -> dict[str, str]:
        """The latest row of SIPp's statistics (column name -> value), {} before the first."""
        if not self.stat.exists():
            return {}
        with open(self.stat, newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        if len(rows) < 2:
            return {}
        return dict(zip(rows[0], rows[-1]))

    def count(self, column: str) -> int:
        try:
            return int(self.last_stats().get(column, "0") or 0)
        except ValueError:
            return 0

    def error_tail(self, chars: int = 800) -> str:
        text = ""
        for path in (self.errors, self.work / f"{self.name}.stderr"):
            if path.exists():
                text += path.read_text(errors="replace")[-chars:]
        return text

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------- the stack
class Stack:
    """`callcenter up` in a private home on free ports; `callcenter down` at the end."""

    def __init__(self, keep: bool):
        self.keep = keep
        self.home = Path(tempfile.mkdtemp(prefix="cc-load-"))
        os.chmod(self.home, 0o700)
        self.env = dict(os.environ, CALLCENTER_HOME=str(self.home), CC_AMI_PORT=str(free_port()),
                        CC_AGI_PORT=str(free_port()), CC_SIP_PORT=str(free_port()),
                        CC_SIP_WS_PORT=str(free_port()), CC_REDIS_PORT=str(free_port()),
                        CC_WEB_PORT=str(free_port()), CC_SERVICE_USER="")  # as the bench's user: it reads the home
        for name in ("DATABASE_URL", "REDIS_URL"):
            self.env.pop(name, None)
        from callcenter.config import Settings
        self.settings = Settings.from_env(self.env)

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "callcenter.cli", *args], env=self.env, capture_output=True,
                              text=True, timeout=400, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"callcenter {' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return done.stdout

    def up(self) -> None:
        self._install_ami_user()
        self.cli("up")

    def _install_ami_user(self) -> None:
        """The bench's own AMI user (the shipped manager.conf includes manager_local.conf): it
        lists the phones' contacts (PJSIPShowContacts, class system), which our services' user
        may not. Written before `callcenter up` renders the rest; owner-only, like the rest."""
        etc = self.settings.asterisk_dir / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        etc.chmod(0o700)
        path = etc / "manager_local.conf"
        path.write_text(AMI_USER.format(user=AMI_USER_NAME, secret=self.settings.secret("ami-load")))
        path.chmod(0o600)

    def ami_login(self):
        from types import SimpleNamespace
        s = self.settings
        return SimpleNamespace(ami_host=s.ami_host, ami_port=s.ami_port, ami_user=AMI_USER_NAME,
                               ami_secret=s.secret("ami-load"))

    def pids(self) -> dict[str, int]:
        """Each supervised service's pid (Asterisk, Redis and ours), and the supervisor's."""
        from callcenter.runtime.supervisor import read_status
        status = read_status(self.settings.run_dir) or {}
        pids = {name: s["pid"] for name, s in status.get("services", {}).items() if s.get("pid")}
        if status.get("supervisor_pid"):
            pids["supervisor"] = status["supervisor_pid"]
        return pids

    def down(self) -> None:
        subprocess.run([sys.executable, "-m", "callcenter.cli", "down"], env=self.env, capture_output=True,
                       timeout=120, cwd=ROOT)
        if not self.keep:
            shutil.rmtree(self.home, ignore_errors=True)


def seed_floor(stack: Stack, agents: int, wrapup: int) -> list[tuple[str, str]]:
    """The bench's agents (skill general) with desk-phone passwords, and the general queue's
    wrap-up; (extension, SIP password) for each. Applied to the running Asterisk at once."""
    import redis as sync_redis
    from callcenter import db
    from callcenter.models import AgentSkill, QueueConfig, User
    from callcenter.sip import phones, store
    from callcenter.sip.service import announce

    sessions = db.session_factory(stack.settings.database_url)
    out = []
    with sessions() as s:
        queue = s.get(QueueConfig, SKILL) or QueueConfig(skill=SKILL)
        queue.wrapup_s, queue.ring_time_s = wrapup, 15
        s.merge(queue)
        for n in range(agents):
            ext = str(FIRST_EXTENSION + n)
            user = User(username=f"load{ext}", display_name=f"Load agent {ext}", role="agent", agent_extension=ext,
                        language="en", password_hash="!")  # cannot log in to the desktop
            s.add(user)
            s.flush()
            s.add(AgentSkill(user_id=user.id, skill=SKILL, level=1 + n % 5))
            out.append((ext, store.phone(s, ext).sip_password))
        s.commit()
    redis = sync_redis.Redis.from_url(stack.settings.effective_redis_url)
    applied = announce(redis, timeout_s=60)
    if not applied or not applied.get("ok"):
        raise RuntimeError(f"the SIP service did not apply the agents' phones: {applied}")
    for ext, _ in out:
        phones.choose(redis, ext, "sip")
    redis.close()
    return out


async def registered(manager, extensions: set[str]) -> set[str]:
    """The extensions Asterisk holds a contact for now."""
    # panoramisk makes it a list when Asterisk says one follows; with no contact at all Asterisk
    # answers a plain error (asked for a list, panoramisk would wait for one forever)
    reply = await asyncio.wait_for(manager.send_action({"Action": "PJSIPShowContacts"}), 10)
    replies = reply if isinstance(reply, list) else [reply]
    found = set()
    for reply in replies:
        aor = reply.get("Aor") or reply.get("ObjectName", "").split(";", 1)[0]  # "1100;@<hash>"
        if reply.get("Event") == "ContactList" and aor in extensions:
            found.add(aor)
    return found


async def wait_for(predicate, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:g} s")
        await asyncio.sleep(every)


async def make_ready(store, extensions: list[str]) -> None:
    """Every agent Ready, as the desktop does (the manager's rules: logged in first)."""
    from acd.manager import AgentManager
    agents = AgentManager.for_states(store)
    for ext in extensions:
        await agents.set_state(ext, "ready")

    async def all_ready():
        return all(a.state == "ready" for a in await agent_states(store, extensions))
    await wait_for(all_ready, 30, "every agent ready (a phone the router saw unregistered stays Not ready)")


async def agent_states(store, extensions: list[str], at_once: int = 20) -> list:
    """Every agent's snapshot, a few reads at a time (the client's pool of connections is bounded)."""
    out = []
    for start in range(0, len(extensions), at_once):
        out += await asyncio.gather(*(store.agent(ext) for ext in extensions[start:start + at_once]))
    return out


async def on_call(store, extensions: list[str]) -> int:
    return sum(1 for a in await agent_states(store, extensions) if a.state == "on_call")


# ---------------------------------------------------------------- the check afterwards
def check_calls(stack: Stack, numbers: list[str]) -> dict:
    """Each call placed, by its calling number: ended record, agent, recording with audio."""
    from sqlalchemy import select
    from callcenter import db
    from callcenter.models import Call, JourneyStep

    sessions = db.session_factory(stack.settings.database_url)
    with sessions() as s:
        rows = {c.caller_number: c for c in s.scalars(select(Call).where(Call.caller_number.in_(numbers)))}
        keyed = set(s.scalars(select(JourneyStep.call_uniqueid).where(
            JourneyStep.call_uniqueid.in_([c.uniqueid for c in rows.values()]), JourneyStep.node == "to_agent")))
    records_missing = not_served = recordings_missing = key_missed = surveys_offered = surveys_answered = 0
    for number in numbers:
        row = rows.get(number)
        if row is None or row.ended_at is None:
            records_missing += 1
            not_served += 1
            continue
        if row.agent_extension is None or row.answered_at is None:
            not_served += 1
        if row.uniqueid not in keyed:  # reached an agent only by the menu's fallback, say
            key_missed += 1
        surveys_offered += bool(row.survey_offered)
        surveys_answered += row.survey_answer is not None
        if not _has_audio(stack.settings.recordings_dir, row.recording_path):
            recordings_missing += 1
    return {"records_missing": records_missing, "not_served": not_served, "recordings_missing": recordings_missing,
            "records_found": len(rows), "menu_key_missed": key_missed,
            "surveys_offered": surveys_offered, "surveys_answered": surveys_answered}


def _has_audio(root: Path, recorded: str | None) -> bool:
    if not recorded:
        return False
    path = Path(recorded)
    path = path if path.is_absolute() else root / path
    for candidate in (path, root / path.name):  # Asterisk's view of the path may be inside its root
        try:
            if candidate.stat().st_size > WAV_HEADER:
                return True
        except OSError:
            continue
    return False


async def records_settled(stack: Stack, numbers: list[str], timeout: float) -> None:
    """Until every call placed has an ended record, or the time is up (then counted missing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await asyncio.to_thread(check_calls, stack, numbers))["records_missing"] == 0:
            return
        await asyncio.sleep(1)


# ---------------------------------------------------------------- the run
def _write_media(work: Path, seconds: float) -> None:
    from bench.sipp_media import write_tone
    keys = {at: "0" for at in KEYS_AT_S}
    at = SURVEY_FROM_S
    while at < seconds - 1:
        keys[at] = SURVEY_KEY
        at += SURVEY_EVERY_S
    write_tone(work / "caller.pcap", CALLER_HZ, seconds, keys=keys)
    write_tone(work / "agent.pcap", AGENT_HZ, seconds)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("SEQUENTIAL\n" + "".join(";".join(r) + "\n" for r in rows))
    return path


async def run(args: argparse.Namespace) -> dict:
    import redis.asyncio as aioredis
    from acd.store import Store
    from callcenter import ami

    for tool in ("sipp", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (scripts/setup.sh --test installs it)")
    stack = Stack(args.keep)
    work = stack.home / "sipp"
    work.mkdir()
    for name in SCENARIOS:
        shutil.copy(SIPP_DIR / name, work / name)
    phones = callers = manager = redis = None
    try:
        stack.up()
        stack.cli("trunk", "add", CARRIER, "--host", CARRIER_HOST, "--port", "5060")
        stack.cli("number", "add", NUMBER, "--trunk", CARRIER, "--entry", "main_menu")
        floor = await asyncio.to_thread(seed_floor, stack, args.agents, args.wrapup)
        extensions = [ext for ext, _ in floor]
        await asyncio.to_thread(_write_media, work, args.talk + 60)  # menu, queue and talk
        settings = stack.settings
        target = f"{settings.sip_host}:{settings.sip_port}"
        run_ms = int((args.calls / args.rate + args.max_wait + args.talk + 600) * 1000)

        manager = await ami.connect(stack.ami_login())
        redis = aioredis.from_url(settings.effective_redis_url)
        store = Store(redis)
        phones = Sipp("agents", ["-sf", "agents.xml", "-oocsf", "agent_phone.xml",
                                 "-inf", str(_csv(work / "agents.csv", [[ext, f"[authentication username={ext} password={pw}]"]
                                                                        for ext, pw in floor])),
                                 "-i", PHONE_HOST, "-p", str(free_udp_port(PHONE_HOST)), "-mi", PHONE_HOST,
                                 "-mp", str(free_udp_port(PHONE_HOST)), "-m", str(len(floor)), "-r", "50",
                                 "-l", str(len(floor)), "-set", "hold", str(run_ms),
                                 "-set", "talk", str(int(args.talk * 1000)), target], work)
        wanted = set(extensions)
        await wait_for(lambda: _all_registered(manager, wanted, phones), 60, "every agent's phone registered")
        await make_ready(store, extensions)
        print(f"load: {len(extensions)} agents registered and ready; placing {args.calls} calls at "
              f"{args.rate:g}/s, at most {args.concurrent} at once", flush=True)

        numbers = caller_numbers(args.calls)
        pids = stack.pids()
        pids["sipp_agents"] = phones.process.pid
        cpu_before, started = cpu_snapshot(pids), time.monotonic()
        callers = Sipp("callers", ["-sf", "caller.xml", "-inf", str(_csv(work / "callers.csv", [[n] for n in numbers])),
                                   "-s", NUMBER, "-i", CARRIER_HOST, "-p", str(free_udp_port(CARRIER_HOST)),
                                   "-mi", CARRIER_HOST, "-mp", str(free_udp_port(CARRIER_HOST)),
                                   "-m", str(args.calls), "-r", f"{args.rate:g}", "-rp", "1000",
                                   "-l", str(args.concurrent), "-recv_timeout", str(int(args.max_wait * 1000)),
                                   target], work)
        pids["sipp_callers"] = callers.process.pid
        peak_calls = peak_on_call = 0
        cpu_now = cpu_before
        while callers.process.poll() is None:
            await asyncio.sleep(1)
            up, talking = callers.count("CurrentCall"), await on_call(store, extensions)
            peak_calls, peak_on_call = max(peak_calls, up), max(peak_on_call, talking)
            cpu_now = cpu_snapshot(pids)  # the callers' SIPp is gone once it exits: its last reading
            elapsed = time.monotonic() - started
            if int(elapsed) % 10 == 0:
                print(f"load: {elapsed:4.0f} s  callers up {up:4d}  agents on call {talking:4d}  done "
                      f"{callers.count('SuccessfulCall(C)')}  failed {callers.count('FailedCall(C)')}", flush=True)
        wall = time.monotonic() - started
        # who was where when the last caller left: agents taken off (no answer, phone unreachable
        # to Asterisk's qualify) shrink the floor under load, so say so
        ended_states = collections.Counter(f"{a.state}/{a.reason}" if a.reason else a.state
                                           for a in await agent_states(store, extensions))
        sipp_stats = callers.last_stats()
        sipp_ok = int(sipp_stats.get("SuccessfulCall(C)", "0") or 0)
        sipp_failed = int(sipp_stats.get("FailedCall(C)", "0") or 0)
        cpu_after = cpu_snapshot(pids)
        cpu_after["sipp_callers"] = max(cpu_after.get("sipp_callers", 0.0), cpu_now.get("sipp_callers", 0.0))
        await records_settled(stack, numbers, timeout=90)
        checked = await asyncio.to_thread(check_calls, stack, numbers)
        cpu = {name: round(cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0), 2) for name in pids}
        unplaced = args.calls - sipp_ok - sipp_failed
        result = {
            "concurrent_calls": peak_calls,
            "agents_on_call_max": peak_on_call,
            "calls": args.calls,
            "failed": max(sipp_failed + unplaced, checked["not_served"]),
            "recordings_missing": checked["recordings_missing"],
            "records_missing": checked["records_missing"],
            "sipp_successful": sipp_ok, "sipp_failed": sipp_failed, "not_served": checked["not_served"],
            "menu_key_missed": checked["menu_key_missed"], "surveys_offered": checked["surveys_offered"],
            "surveys_answered": checked["surveys_answered"],
            "agents_at_end": dict(ended_states),
            "cpu_s": cpu,
            "cpu_pct_of_one_core": {name: round(100 * s / wall, 1) for name, s in cpu.items()},
            "wall_s": round(wall, 1),
            "loadavg_1min_at_end": round(os.getloadavg()[0], 1),  # the machine is shared: how busy it was
            "settings": {"rate": args.rate, "concurrent": args.concurrent, "talk_s": args.talk, "agents": args.agents,
                         "wrapup_s": args.wrapup},
        }
        if sipp_failed:
            result["sipp_errors_tail"] = callers.error_tail(400)
        return result
    finally:
        for sipp in (callers, phones):
            if sipp is not None:
                sipp.stop()
        if manager is not None:
            manager.close()
        if redis is not None:
            await redis.aclose()
        stack.down()


async def _all_registered(manager, wanted: set[str], phones: Sipp) -> bool:
    if phones.process.poll() is not None:
        raise RuntimeError(f"the agents' SIPp exited ({phones.process.returncode}): {phones.error_tail()}")
    return await registered(manager, wanted) == wanted


def report(result: dict) -> None:
    for key in ("concurrent_calls", "agents_on_call_max", "calls", "failed", "recordings_missing", "records_missing"):
        print(f"{key}: {result[key]}")
    for name, seconds in sorted(result["cpu_s"].items(), key=lambda kv: -kv[1]):
        print(f"cpu {name}: {seconds:.1f} s ({result['cpu_pct_of_one_core'][name]:.0f}% of one core)")
    print(json.dumps(result, sort_keys=True), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    report(result)
    return 0 if result["failed"] == 0 and result["records_missing"] == 0 and result["recordings_missing"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
