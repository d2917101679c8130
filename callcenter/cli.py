"""`callcenter`: the one command-line entry point.

    callcenter up [--demo]     start Redis, Asterisk and every service, supervised, in the background
    callcenter demo            up + demo data + simulated callers and answering agent phones
    callcenter status [--json] what runs where, healthy or not, and the latest calls
    callcenter down            stop everything
    callcenter db upgrade      apply database migrations
    callcenter call NUMBER     place one simulated call into the hotline (see --help)
    callcenter trunk|number|phone|sip ...   carriers, access numbers, agents' SIP phones

Errors a user can fix (a port in use, no Asterisk root, a bad setting) print one line,
`callcenter: error CODE: message` with a stable CODE, and exit 2; a refused request (an agent
change the rules forbid) prints `error CODE: message` and exits 1.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time

from callcenter.digits import ascii_int_arg
from callcenter.config import ConfigError, Settings
from callcenter.runtime import service_user, supervisor as sup
from callcenter.runtime.files import owner_only
from callcenter.runtime.asterisk import AsteriskSetupError
from callcenter.runtime.ports import PortInUse, is_listening
from callcenter.runtime.redis_server import RedisSetupError
from callcenter.runtime.tasks import read_health
from callcenter.sip import cli as sip_cli
from cdr import staffing_cli
from recordings import cli as recordings_cli
from quality import inspection_cli

from ivr.flow import FlowError
from ivr.prompts import PromptError

#: problems a user can fix, each with its stable code
USER_ERRORS = {ConfigError: "BAD_CONFIG", PortInUse: "PORT_IN_USE", AsteriskSetupError: "ASTERISK_SETUP",
               RedisSetupError: "REDIS_SETUP", FlowError: "BAD_FLOW", PromptError: "PROMPT_FAILED"}
UP_TIMEOUT_S = 180


def _running_pid(settings: Settings) -> int | None:
    status = sup.read_status(settings.run_dir)
    pid = status.get("supervisor_pid") if status else None
    return pid if sup.pid_alive(pid) else None


def prepare(settings: Settings, demo: bool):
    """Everything that must be true before services start; returns the Asterisk install."""
    from callcenter import db
    from callcenter.runtime import asterisk
    from callcenter.services import check_ports
    from ivr import prompts
    from ivr.service import load_hotline, prompt_specs
    from callcenter.business_hours import BusinessHours, hours_file

    check_ports(settings)
    install = asterisk.locate(settings)
    db.upgrade(settings.database_url)
    prompts.generate(prompt_specs(load_hotline()), settings.prompts_dir)
    prompts.generate_moh(settings.moh_dir)
    BusinessHours.load(hours_file(settings.home))  # writes the default file for operators to edit
    if demo:
        from callcenter import demo_data
        from callcenter.sip import demo as sip_demo
        with db.session_factory(settings.database_url)() as session:
            demo_data.seed(session)
            sip_demo.seed(session)  # an example carrier for the hotline's numbers, agents' SIP phones
            session.commit()
    return install


def cmd_up(settings: Settings, demo: bool = False, foreground: bool = False) -> int:
    pid = _running_pid(settings)
    if pid:
        print(f"callcenter: already running (supervisor pid {pid}); see `callcenter status` or `callcenter down`")
        if demo:
            print("\n".join(demo_banner(settings)))
        return 0
    prepare(settings, demo)
    service_user.hand_over_home(settings)  # as root: the home is the service user's before anything starts
    argv = [sys.executable, "-m", "callcenter.cli", "supervise"] + (["--demo"] if demo else [])
    if foreground:
        os.execv(argv[0], argv)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    (settings.run_dir / "status.json").unlink(missing_ok=True)
    with open(settings.log_dir / "supervisor.log", "ab") as out:
        subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + UP_TIMEOUT_S
    while time.monotonic() < deadline:
        report = health(settings)
        if report["healthy"]:
            break
        time.sleep(1)
    code = cmd_status(settings)
    if demo:
        print("\n".join(demo_banner(settings)))
    return code


def demo_banner(settings: Settings) -> list[str]:
    """What `callcenter demo` prints after the status: the desktop and a SIP account to join with."""
    from callcenter import db
    from callcenter.demo_data import DEMO_USER_PASSWORD
    from callcenter.sip import demo as sip_demo

    with db.session_factory(settings.database_url)() as session:
        return sip_demo.banner(settings, session, DEMO_USER_PASSWORD)


def cmd_supervise(settings: Settings, demo: bool) -> int:
    from callcenter.runtime import asterisk
    from callcenter.services import build_services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    install = asterisk.locate(settings, build=False)
    os.environ["CALLCENTER_HOME"] = str(settings.home)  # the services' home is this one, whoever they run as
    services = build_services(settings, install, demo)
    service_user.hand_over_home(settings)  # what build_services wrote (configuration) is the user's too
    sup.Supervisor(services, settings.run_dir, settings.log_dir).run()
    return 0


def cmd_down(settings: Settings) -> int:
    status = sup.read_status(settings.run_dir)
    pid = status.get("supervisor_pid") if status else None
    if sup.pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while sup.pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    # if the supervisor died, its services may still run in its process group
    for name, svc in (status or {}).get("services", {}).items():
        if sup.pid_alive(svc.get("pid")):
            os.kill(svc["pid"], signal.SIGTERM)
    print("callcenter: stopped")
    return 0


def health(settings: Settings) -> dict:
    """What runs and whether it answers: read by `status` and waited on by `up`."""
    from callcenter.runtime.ami_check import ami_login_ok

    status = sup.read_status(settings.run_dir) or {}
    running = sup.pid_alive(status.get("supervisor_pid"))
    services = {}
    for name, svc in status.get("services", {}).items():
        alive = sup.pid_alive(svc.get("pid"))
        port = svc.get("port")
        ok = alive and (port is None or is_listening(port))
        if ok and name == "asterisk":
            ok = ami_login_ok(settings)
        tasks = read_health(settings.run_dir, svc.get("pid")) if alive else {}
        down = sorted(task for task, state in tasks.items() if not state.get("up"))
        # degraded: the process answers but one of its long-lived tasks is down (restarting)
        services[name] = dict(svc, alive=alive, healthy=ok and not down, degraded=ok and bool(down), tasks=tasks,
                              down_tasks=down)
    healthy = running and bool(services) and all(s["healthy"] for s in services.values())
    return {"running": running, "supervisor_pid": status.get("supervisor_pid"), "home": str(settings.home),
            "healthy": healthy, "services": services, "checked_at": time.time()}


def recent_calls(settings: Settings, limit: int = 8) -> dict:
    from callcenter import calls, db

    try:
        with db.session_factory(settings.database_url)() as session:
            return calls.summary(session, limit)
    except Exception as exc:  # status must still print when the database is unreachable
        return {"error": str(exc).splitlines()[0]}


def flagged_recordings(settings: Settings) -> dict:
    """Answered calls without a playable recording, and files whose checksum no longer matches
    (recordings/store.py): counted here so none is silently missing."""
    try:
        return {"flagged": recordings_cli.flagged_count(settings)}
    except Exception as exc:  # status must still print when the database is unreachable
        return {"error": str(exc).splitlines()[0]}


def cmd_status(settings: Settings, as_json: bool = False) -> int:
    report = health(settings)
    report["calls"] = recent_calls(settings)
    report["recordings"] = flagged_recordings(settings)
    if as_json:
        print(json.dumps(report, indent=1, default=str))
    else:
        _print_status(report)
    if not report["running"]:
        return 3
    return 0 if report["healthy"] else 1


def _print_status(report: dict) -> None:
    state = "running" if report["running"] else "not running"
    print(f"callcenter: {state} (home {report['home']})")
    if report["services"]:
        print(f"  {'service':<14}{'pid':>8}  {'state':<9}{'restarts':>9}  health")
        for name, s in report["services"].items():
            where = f"127.0.0.1:{s['port']}" if s.get("port") else ""
            verdict = "ok" if s["healthy"] else "DEGRADED" if s["degraded"] else "DOWN"
            print(f"  {name:<14}{s.get('pid') or '-':>8}  {s['state']:<9}{s['restarts']:>9}  {verdict} {where}")
            for task in s["down_tasks"]:
                print("    " + _task_down_line(task, s["tasks"][task], report["checked_at"]))
    calls = report["calls"]
    if "error" in calls:
        print(f"  calls: database unreachable: {calls['error']}")
        return
    flagged = report.get("recordings", {}).get("flagged")
    if flagged is not None:
        print(f"  recordings: {flagged} flagged (missing, unplayable or altered; `callcenter recordings flagged`)")
    from agent_desktop.i18n import end_reason_words

    print(f"  calls: {calls['total']} in all, {calls['in_progress']} in progress")
    for c in calls["recent"]:
        ended = end_reason_words(c["end_reason"], c["end_detail"], "en") if c["end_reason"] \
            else f"in progress ({c['stage']})"
        print(f"    {c['started_at']}  {c['caller_number'] or '?':>13} -> {c['access_number'] or '?':<6} {ended}")


def _task_down_line(task: str, state: dict, now: float) -> str:
    """One line for a task a service reported down (callcenter.runtime.tasks writes the state)."""
    try:
        down_s = f" for {max(0.0, now - float(state.get('since'))):.0f} s"
    except (TypeError, ValueError):
        down_s = ""
    restarts = state.get("restarts") if isinstance(state.get("restarts"), int) else "?"
    return f"task {task} down{down_s}, {restarts} restart(s): {state.get('last_error') or 'no error recorded'}"


def cmd_db(settings: Settings, action: str) -> int:
    from callcenter import db

    db.upgrade(settings.database_url)
    print(f"database at revision {db.current_revision(settings.database_url)}")
    return 0


def cmd_call(settings: Settings, args: argparse.Namespace) -> int:
    from callcenter.simulate import place_call_sync

    uniqueid = place_call_sync(settings, args.number, caller=args.caller, name=args.name, dtmf=args.dtmf,
                               hold_s=args.hold)
    print(f"call placed: {uniqueid}")
    return 0


def cmd_agent(settings: Settings, args: argparse.Namespace) -> int:
    """Change an agent's state from the command line: the same manager, rules and audit trail as
    the desktop's buttons (acd/manager.py); a refusal prints its stable code."""
    import asyncio
    import getpass

    import redis.asyncio as aioredis

    from acd.manager import AgentManager
    from acd.protocol import AcdError, is_extension
    from acd.store import Store
    from callcenter import audit, db

    if not is_extension(args.extension):
        raise ConfigError(f"agent extension must be 1XXX, got {args.extension!r}")
    actor = f"cli:{getpass.getuser()}"

    async def run() -> str:
        redis = aioredis.from_url(settings.effective_redis_url)
        manager = AgentManager.for_states(Store(redis), audit.recorder(db.session_factory(settings.database_url)))
        ext = args.extension
        try:
            if args.action == "status":
                return json.dumps((await manager.store.agent(ext)).as_dict())
            if args.action == "extend-wrapup":
                await manager.extend_wrapup(ext, args.seconds, actor=actor)
                return f"wrap-up extended by {args.seconds:g} s"
            if args.action == "end-wrapup":
                return f"now {await manager.end_wrapup(ext, actor=actor)}"
            if args.action == "login":
                return f"now {await manager.login(ext, actor=actor)}"
            to = {"ready": "ready", "not-ready": "not_ready", "logout": "logged_out"}[args.action]
            return f"now {await manager.set_state(ext, to, args.reason, actor=actor)}"
        except AcdError as exc:
            return f"error {exc.code}: {exc.message}"
        finally:
            await redis.aclose()

    message = asyncio.run(run())
    print(f"agent {args.extension}: {message}")
    return 1 if message.startswith("error") else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from acd import erlang
    from acd.simulate import as_dict, simulate

    result = simulate(args.agents, args.calls_per_hour, args.aht, args.threshold, args.calls, args.seed,
                      args.patience)
    reference = erlang.figures(args.agents, args.calls_per_hour, args.aht, args.threshold, args.patience)
    report = dict(as_dict(result), model="Erlang A" if args.patience else "Erlang C",
                  reference={k: round(v, 6) for k, v in vars(reference).items()})
    if args.json:
        print(json.dumps(report))
    else:
        for key in ("p_wait", "asa_s", "service_level", "abandon_rate", "occupancy"):
            print(f"{key:<14} simulated {report[key]:>10.4f}   {report['model']} {report['reference'][key]:>10.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    owner_only()  # before any file: the home, database, secrets and logs are created owner-only
    parser = argparse.ArgumentParser(prog="callcenter", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start everything in the background")
    up.add_argument("--demo", action="store_true", help="also load demo data and run simulated callers")
    up.add_argument("--foreground", action="store_true", help="run the supervisor in this terminal")
    sub.add_parser("demo", help="up --demo")
    sub.add_parser("down", help="stop everything")
    st = sub.add_parser("status", help="what runs, health, latest calls")
    st.add_argument("--json", action="store_true")
    dbp = sub.add_parser("db", help="database")
    dbp.add_argument("action", choices=["upgrade"])
    call = sub.add_parser("call", help="place one simulated call")
    call.add_argument("number", help="access number dialled, e.g. 10000")
    call.add_argument("--caller", default="13800000001", help="caller number")
    call.add_argument("--name", default="", help="caller name")
    call.add_argument("--dtmf", default="", help="keys the caller presses (0-9*#, w = 0.5 s pause)")
    call.add_argument("--hold", type=ascii_int_arg, default=30, help="seconds the caller stays on the line")
    agent = sub.add_parser("agent", help="change an agent's state (login, ready, not-ready, logout, wrap-up)")
    agent.add_argument("extension")
    agent.add_argument("action", choices=["login", "ready", "not-ready", "logout", "end-wrapup", "extend-wrapup",
                                          "status"])
    agent.add_argument("--reason", default=None, help="for not-ready: break, meal, training, back_office ...")
    agent.add_argument("--seconds", type=float, default=30, help="for extend-wrapup")
    sim = sub.add_parser("simulate", help="discrete-event simulation of one skill group with the routing core")
    sim.add_argument("--agents", type=ascii_int_arg, required=True)
    sim.add_argument("--calls-per-hour", type=float, required=True)
    sim.add_argument("--aht", type=float, required=True, help="mean handle time, seconds (exponential)")
    sim.add_argument("--patience", type=float, default=None, help="mean patience, seconds (none: never abandon)")
    sim.add_argument("--threshold", type=float, default=20, help="service-level threshold, seconds")
    sim.add_argument("--calls", type=ascii_int_arg, default=100_000)
    sim.add_argument("--seed", type=ascii_int_arg, default=1)
    sim.add_argument("--json", action="store_true")
    sip_cli.add_parsers(sub)
    staffing_cli.add_parsers(sub)
    recordings_cli.add_parsers(sub)
    inspection_cli.add_parsers(sub)
    sv = sub.add_parser("supervise", help=argparse.SUPPRESS)
    sv.add_argument("--demo", action="store_true")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env(service_user.with_home(os.environ))  # as root: the service user's home
        if args.command == "up":
            return cmd_up(settings, demo=args.demo, foreground=args.foreground)
        if args.command == "demo":
            return cmd_up(settings, demo=True)
        if args.command == "down":
            return cmd_down(settings)
        if args.command == "status":
            return cmd_status(settings, as_json=args.json)
        if args.command == "db":
            return cmd_db(settings, args.action)
        if args.command == "call":
            return cmd_call(settings, args)
        if args.command == "agent":
            return cmd_agent(settings, args)
        if args.command == "simulate":
            return cmd_simulate(args)
        if args.command in inspection_cli.COMMANDS:
            return inspection_cli.run(settings, args)
        if args.command in recordings_cli.COMMANDS:
            return recordings_cli.run(settings, args)
        if args.command in staffing_cli.COMMANDS:
            return staffing_cli.run(settings, args)
        if args.command in sip_cli.COMMANDS:
            return sip_cli.run(settings, args)
        if args.command == "supervise":
            return cmd_supervise(settings, demo=args.demo)
    except tuple(USER_ERRORS) as exc:
        code = next(code for kind, code in USER_ERRORS.items() if isinstance(exc, kind))
        print(f"callcenter: error {code}: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
