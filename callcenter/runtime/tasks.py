"""Long-lived tasks that start again when they fail, and a health file that says which are down.

A service process runs a few tasks for ever (a pub/sub listener, a timer loop, a command loop).
Under a bare ``asyncio.ensure_future`` one that raises ends quietly while the process looks
healthy, so every such task runs under :func:`supervise` instead: when it raises (or returns,
which a for-ever task must not do) it is logged, marked down in the process's :class:`Health`,
and started again after a back-off that doubles up to ``max_backoff`` and falls back to
``min_backoff`` once a run has lasted ``healthy_after`` seconds (the same rule the process
supervisor applies to whole services).

:class:`Health` rewrites ``<run_dir>/health/<pid>.json`` on every change. `callcenter status`
reads the file of each service's current pid (a file left by an earlier process never matches),
and shows the service as degraded, exit 1, naming the task that is down:

    {"pid": 4242, "name": "desktop-push", "updated_at": 1719.2,
     "tasks": {"agent-changes": {"up": false, "since": 1712.0, "restarts": 3,
                                 "last_error": "ConnectionError: Connection closed by server."}}}
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Awaitable, Callable

log = logging.getLogger("callcenter.tasks")

ERROR_CHARS = 200  # a last error is shown on one status line; an exception text can be anything


def health_path(run_dir: Path, pid: int) -> Path:
    return run_dir / "health" / f"{pid}.json"


@dataclass
class TaskState:
    up: bool
    since: float  # when it went up or down
    restarts: int = 0
    last_error: str | None = None


class Health:
    """The up/down of one process's supervised tasks; written to ``path`` (if any) on change."""

    def __init__(self, path: Path | None = None, name: str = "", clock: Callable[[], float] = time.time):
        self.path, self.name, self.clock = path, name, clock
        self.tasks: dict[str, TaskState] = {}

    @classmethod
    def for_process(cls, run_dir: Path, name: str) -> Health:
        """This process's health, where `callcenter status` looks for it."""
        return cls(health_path(run_dir, os.getpid()), name)

    def up(self, task: str) -> None:
        state = self.tasks.get(task)
        if state is None:
            self.tasks[task] = TaskState(up=True, since=self.clock())
        elif not state.up:
            state.up, state.since = True, self.clock()
        else:
            return
        self._write()

    def down(self, task: str, error: str) -> None:
        state = self.tasks.setdefault(task, TaskState(up=False, since=self.clock()))
        state.up, state.since, state.restarts = False, self.clock(), state.restarts + 1
        # one line, bounded, nothing a terminal would act on: it may quote what a message carried
        state.last_error = "".join(c if c.isprintable() else "?" for c in " ".join(error.split()))[:ERROR_CHARS]
        self._write()

    def down_tasks(self) -> list[str]:
        return [name for name, state in self.tasks.items() if not state.up]

    def snapshot(self) -> dict:
        return {"pid": os.getpid(), "name": self.name, "updated_at": self.clock(),
                "tasks": {name: asdict(state) for name, state in self.tasks.items()}}

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.snapshot(), indent=1))
            tmp.replace(self.path)
        except OSError as exc:  # a full disk must not stop the task it reports on
            log.warning("could not write %s: %s", self.path, exc)


def read_health(run_dir: Path, pid: int | None) -> dict[str, dict]:
    """The tasks a live process reported, by name; {} when it reports none (or is not ours)."""
    if not pid:
        return {}
    try:
        data = json.loads(health_path(run_dir, pid).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("pid") != pid or not isinstance(data.get("tasks"), dict):
        return {}
    return {str(k): v for k, v in data["tasks"].items() if isinstance(v, dict)}


async def supervise(name: str, factory: Callable[[], Awaitable[object]], *, health: Health,
                    min_backoff: float = 1.0, max_backoff: float = 10.0, healthy_after: float = 60.0,
                    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                    clock: Callable[[], float] = time.monotonic) -> None:
    """Run ``await factory()`` for ever: log each failure, mark it down, start it again.

    ``factory`` must build what it needs afresh on each call (a new pub/sub subscription, say),
    so a restart after a Redis restart subscribes again. Cancelling this coroutine stops it.
    The cap is lower than the process supervisor's 30 s: a restart in-process is cheap, and a
    listener still waiting out its back-off after Redis is back misses what is published meanwhile.
    """
    backoff = min_backoff
    while True:
        started = clock()
        health.up(name)
        failure: Exception | None = None
        try:
            await factory()
            error = "it returned"
        except Exception as exc:  # noqa: BLE001 - whatever it was, the task must run again
            failure, error = exc, f"{type(exc).__name__}: {exc}"
        if clock() - started >= healthy_after:
            backoff = min_backoff  # it ran well for a while: this is a new trouble, not the same one
        log.error("task %s failed: %s; restarting in %g s", name, error, backoff, exc_info=failure)
        health.down(name, error)
        await sleep(backoff)
        backoff = min(max_backoff, backoff * 2)


def background(coro, what: str) -> asyncio.Task:
    """A one-shot task (a rebuild after a reconnect, one call back's dialling) whose failure is
    logged, not left as "Task exception was never retrieved" at garbage collection."""
    task = asyncio.ensure_future(coro)

    def done(finished: asyncio.Task) -> None:
        if not finished.cancelled() and finished.exception() is not None:
            log.error("%s failed", what, exc_info=finished.exception())
    task.add_done_callback(done)
    return task
