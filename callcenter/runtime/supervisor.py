"""Keeps every service of the call center running: starts them in order, restarts a crashed
one with a growing back-off (and logs it), and stops them all, last started first.

The supervisor is one process per home folder; it writes what it runs to
``<home>/run/status.json`` for `callcenter status`; each Python service adds the health of its
long-lived tasks in ``<home>/run/health/<pid>.json`` (callcenter.runtime.tasks). Services are
plain child processes in the supervisor's process group, so `callcenter down` can still clean up
if the supervisor itself died.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from callcenter.runtime.health_log import HealthLog, health_log_path
from callcenter.runtime.ports import is_listening
from callcenter.runtime.tasks import health_path, read_health

log = logging.getLogger("callcenter.supervisor")

MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0  # a service that ran this long has its back-off reset


@dataclass
class Service:
    name: str
    argv: list[str]
    port: int | None = None  # healthy when something listens here
    env: dict[str, str] = field(default_factory=dict)
    wait_ready_s: float = 0.0  # wait this long for `port` before starting the next service
    popen: dict = field(default_factory=dict)  # extra Popen arguments: the user it runs as (service_user.py)


@dataclass
class ServiceState:
    pid: int | None = None
    state: str = "starting"  # starting | running | backoff | stopped
    restarts: int = 0
    last_exit: int | None = None
    started_at: float | None = None
    next_start: float = 0.0
    log: str = ""


class Supervisor:
    def __init__(self, services: list[Service], run_dir: Path, log_dir: Path):
        self.services = services
        self.run_dir = run_dir
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.states = {s.name: ServiceState(log=str(log_dir / f"{s.name}.log")) for s in services}
        self.stopping = False
        self.health_log = HealthLog(health_log_path(log_dir))  # for the availability KPI

    @property
    def status_path(self) -> Path:
        return self.run_dir / "status.json"

    # ------------------------------------------------------------ lifecycle
    def run(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.health_log.start([s.name for s in self.services])
        for service in self.services:
            if self.stopping:
                break
            self._start(service)
            self._wait_ready(service)
        while not self.stopping:
            self._check()
            self._log_health()
            time.sleep(0.5)
        self._stop_all()

    def _on_signal(self, signum, _frame) -> None:
        log.info("signal %s: stopping every service", signum)
        self.stopping = True

    def _start(self, service: Service) -> None:
        st = self.states[service.name]
        out = open(self.log_dir / f"{service.name}.log", "ab")
        env = dict(os.environ, **service.env)
        try:
            proc = subprocess.Popen(service.argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, **service.popen)
        except OSError as exc:
            log.error("%s: cannot start: %s", service.name, exc)
            st.state, st.next_start = "backoff", time.monotonic() + MAX_BACKOFF_S
            self._write_status()
            return
        finally:
            out.close()
        self.procs[service.name] = proc
        st.pid, st.state, st.started_at = proc.pid, "running", time.time()
        log.info("%s: started (pid %d)", service.name, proc.pid)
        self._write_status()

    def _wait_ready(self, service: Service) -> None:
        deadline = time.monotonic() + service.wait_ready_s
        while service.port and time.monotonic() < deadline and not self.stopping:
            if is_listening(service.port):
                return
            if self.procs.get(service.name) and self.procs[service.name].poll() is not None:
                return
            time.sleep(0.2)

    def _check(self) -> None:
        now = time.monotonic()
        for service in self.services:
            st = self.states[service.name]
            proc = self.procs.get(service.name)
            if st.state == "running" and proc is not None and proc.poll() is not None:
                ran = time.time() - (st.started_at or time.time())
                if ran > STABLE_AFTER_S:
                    backoff = 1.0
                else:
                    backoff = min(MAX_BACKOFF_S, 2.0 ** min(st.restarts, 5))
                st.restarts += 1
                health_path(self.run_dir, proc.pid).unlink(missing_ok=True)  # its tasks died with it
                st.last_exit, st.pid, st.state = proc.returncode, None, "backoff"
                st.next_start = now + backoff
                log.error("%s: exited with code %s after %.0f s; restart %d in %.0f s",
                          service.name, proc.returncode, ran, st.restarts, backoff)
                self._write_status()
            elif st.state == "backoff" and now >= st.next_start:
                self._start(service)

    def _stop_all(self) -> None:
        for service in reversed(self.services):
            proc = self.procs.get(service.name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in 10 s; killing it", service.name)
                proc.kill()
                proc.wait()
            health_path(self.run_dir, proc.pid).unlink(missing_ok=True)
            self.states[service.name].state = "stopped"
            log.info("%s: stopped", service.name)
        self._write_status(running=False)
        self.health_log.stop()

    def _log_health(self) -> None:
        """Each service up (running, no supervised task down) or not, into the health log."""
        for service in self.services:
            st = self.states[service.name]
            if st.state != "running" or st.pid is None:
                self.health_log.health(service.name, False, st.state)
                continue
            down = [task for task, state in read_health(self.run_dir, st.pid).items() if not state.get("up", True)]
            self.health_log.health(service.name, not down, f"task {', '.join(sorted(down))} down" if down else "running")
        self.health_log.alive()

    # ------------------------------------------------------------ status file
    def _write_status(self, running: bool = True) -> None:
        data = {
            "supervisor_pid": os.getpid() if running else None,
            "pgid": os.getpgid(0),
            "updated_at": time.time(),
            "services": {
                s.name: dict(asdict(self.states[s.name]), port=s.port) for s in self.services
            },
        }
        tmp = self.status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.status_path)


def read_status(run_dir: Path) -> dict | None:
    path = run_dir / "status.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False
