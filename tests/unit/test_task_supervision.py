"""A supervised task that fails is logged, shown down, and started again with a growing back-off;
`callcenter status` names a task a service reports down."""
import asyncio
import json
import logging
import os
import time

from callcenter import cli
from callcenter.config import Settings
from callcenter.runtime.tasks import Health, health_path, read_health, supervise


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_task_that_fails_twice_is_restarted_logged_and_shown_down_then_up(tmp_path, caplog):
    health = Health(tmp_path / "health" / "1.json", name="test")
    running = asyncio.Event()
    calls = 0
    seen_while_waiting = []  # (back-off, what the health file said during it)

    async def factory():
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ConnectionError(f"Redis went away\n(attempt {calls})")
        running.set()
        await asyncio.Event().wait()  # runs for ever, healthy

    async def sleep(delay: float):
        seen_while_waiting.append((delay, json.loads(health.path.read_text())["tasks"]["listener"]))
        await asyncio.sleep(delay)

    with caplog.at_level(logging.ERROR, logger="callcenter.tasks"):
        task = asyncio.create_task(supervise("listener", factory, health=health, min_backoff=0.01,
                                             max_backoff=1.0, sleep=sleep))
        try:
            await asyncio.wait_for(running.wait(), 5)
            on_disk = json.loads(health.path.read_text())["tasks"]["listener"]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert calls == 3
    assert [delay for delay, _ in seen_while_waiting] == [0.01, 0.02]  # it grows
    assert [state["up"] for _, state in seen_while_waiting] == [False, False]
    assert seen_while_waiting[1][1]["restarts"] == 2
    assert seen_while_waiting[1][1]["last_error"] == "ConnectionError: Redis went away (attempt 2)"  # one line
    assert on_disk["up"] is True and on_disk["restarts"] == 2
    assert health.down_tasks() == []
    failures = [r for r in caplog.records if r.getMessage().startswith("task listener failed")]
    assert [r.getMessage() for r in failures] == [
        "task listener failed: ConnectionError: Redis went away\n(attempt 1); restarting in 0.01 s",
        "task listener failed: ConnectionError: Redis went away\n(attempt 2); restarting in 0.02 s"]
    assert all(r.exc_info and r.exc_info[0] is ConnectionError for r in failures)  # with the traceback


async def test_back_off_doubles_to_the_cap_and_resets_after_a_healthy_stretch():
    clock, delays, runs = Clock(), [], []
    done = asyncio.Event()
    # how long each run lasts before it fails, by the clock; a long one then a quick one again
    lasting = [0, 0, 0, 0, 0, 120, 0]

    async def factory():
        runs.append(clock.now)
        clock.now += lasting[len(runs) - 1]
        if len(runs) == len(lasting):
            done.set()
            await asyncio.Event().wait()
        return None  # a for-ever task that returns has failed too

    async def sleep(delay: float):
        delays.append(delay)

    task = asyncio.create_task(supervise("timer", factory, health=Health(), min_backoff=1.0, max_backoff=8.0,
                                         healthy_after=60.0, sleep=sleep, clock=clock))
    try:
        await asyncio.wait_for(done.wait(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 1.0]  # capped, then back to the start after 120 s of health


def test_a_health_file_of_another_pid_is_not_read(tmp_path):
    health = Health(health_path(tmp_path, 4242), name="old")
    health.down("listener", "boom")
    assert read_health(tmp_path, 4242) == {}  # it says pid = this process's, not 4242
    (tmp_path / "health" / f"{os.getpid()}.json").write_text("{not json")
    assert read_health(tmp_path, os.getpid()) == {}


def test_status_names_the_task_that_is_down_and_exits_1(tmp_path, capsys):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    run_dir = settings.run_dir
    run_dir.mkdir(parents=True)
    me = os.getpid()  # stands for the supervisor and a service: a live pid
    (run_dir / "status.json").write_text(json.dumps({
        "supervisor_pid": me, "pgid": os.getpgid(0), "updated_at": time.time(),
        "services": {"desktop-push": {"pid": me, "state": "running", "restarts": 0, "last_exit": None,
                                      "started_at": time.time(), "next_start": 0, "log": "", "port": None}}}))
    health = Health.for_process(run_dir, "desktop-push")
    health.up("wallboards")
    health.up("agent-changes")
    health.down("agent-changes", "ConnectionError: Error 111 connecting to 127.0.0.1:6390. Connection refused.\x1b[2J")

    assert cli.cmd_status(settings) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.strip().startswith("desktop-push"))
    assert row.split()[-1] == "DEGRADED"
    assert ("    task agent-changes down for 0 s, 1 restart(s): ConnectionError: Error 111 connecting to "
            "127.0.0.1:6390. Connection refused.?[2J") in out.splitlines()
    assert "wallboards" not in out

    report = cli.health(settings)
    assert report["healthy"] is False
    assert report["services"]["desktop-push"]["down_tasks"] == ["agent-changes"]

    health.up("agent-changes")
    assert cli.cmd_status(settings) == 0
    assert "DEGRADED" not in capsys.readouterr().out
