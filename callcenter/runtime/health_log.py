"""The supervisor's health log: a JSON line for each change in a service's health, for the
"system availability" KPI (cdr.availability).

``<home>/log/service_health.jsonl``, appended by the one supervisor of a home folder:

    {"at": 1764400000.0, "event": "start", "services": ["redis", "asterisk", "ivr", ...]}
    {"at": 1764400001.2, "event": "health", "service": "acd", "up": true, "why": "running"}
    {"at": 1764400030.0, "event": "health", "service": "acd", "up": false, "why": "task ticks down"}
    {"at": 1764400060.0, "event": "alive"}
    {"at": 1764409000.0, "event": "stop"}

A service is up while its process runs and none of its supervised tasks is down (its
``run/health/<pid>.json``). "alive" is written every minute: a supervisor killed outright writes
no "stop", and a reader counts the time after its last line (plus a grace) as down, not up.
Only changes are written, so the file grows by a line a minute when nothing happens.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger("callcenter.health_log")

ALIVE_EVERY_S = 60.0
WHY_CHARS = 120


def health_log_path(log_dir: Path) -> Path:
    return log_dir / "service_health.jsonl"


class HealthLog:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path, self.clock = path, clock
        self.last: dict[str, bool] = {}
        self.last_alive = 0.0

    def _write(self, entry: dict) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=True) + "\n")
        except OSError as exc:  # a full disk must not stop the supervisor
            log.warning("could not write %s: %s", self.path, exc)

    def start(self, services: list[str]) -> None:
        self.last = {}
        self.last_alive = self.clock()
        self._write({"at": self.last_alive, "event": "start", "services": list(services)})

    def health(self, service: str, up: bool, why: str = "") -> None:
        """Written only when it changes."""
        if self.last.get(service) == up:
            return
        self.last[service] = up
        why = "".join(c if c.isprintable() else "?" for c in why)[:WHY_CHARS]
        self._write({"at": self.clock(), "event": "health", "service": service, "up": up, "why": why})

    def alive(self) -> None:
        now = self.clock()
        if now - self.last_alive >= ALIVE_EVERY_S:
            self.last_alive = now
            self._write({"at": now, "event": "alive"})

    def stop(self) -> None:
        self._write({"at": self.clock(), "event": "stop"})


def read_health_log(path: Path) -> list[dict]:
    """Every well-formed entry, in file order; a torn last line (a crash mid-write) is skipped."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("at"), (int, float)) and isinstance(entry.get("event"), str):
            entries.append(entry)
    return entries
