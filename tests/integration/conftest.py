"""Integration tier: one real stack (Redis, Asterisk, our services) for the whole session,
started by the real entry point (`callcenter up`) in a private home on free ports, on a real
PostgreSQL server started for the session (`CC_TEST_DATABASE=sqlite`: on the stack's own SQLite
file instead). test_sqlite_stack.py runs core flows again on a SQLite stack of its own.

Nothing here skips: a missing Asterisk, Redis or tool is a setup error, so CI goes red.
"""
from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from callcenter import ami as ami_connect
from callcenter import db
from acd.store import Store
from callcenter.config import Settings
from callcenter.runtime.supervisor import pid_alive, read_status
from tests.integration import ami_user, pg_server
from tests.integration.desktop_helpers import CHROMIUM, CHROMIUM_ARGS
from tests.integration.floor import Floor

CALLCENTER = [sys.executable, "-m", "callcenter.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """The session's real PostgreSQL server (tests/integration/pg_server.py), or None with
    CC_TEST_DATABASE=sqlite. A module with a stack of its own asks it for a database of its own."""
    if not pg_server.wanted():
        yield None
        return
    server = pg_server.PgServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres):
    """The session stack's database: on the server above, or None (the stack's own SQLite file)."""
    return postgres.url if postgres else None


def private_stack_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a stack of its own: this home, free ports, its own Redis, and the
    database given (None: the home's SQLite file)."""
    # The post-call survey asks no caller here: a test whose agent hangs up first would otherwise
    # hear it, once a day per number. tests/integration/test_survey.py offers it for its own tests.
    (home / "survey.toml").write_text("share = 0\n")
    env = dict(os.environ)
    env.update({
        "CALLCENTER_HOME": str(home),
        "CC_AMI_PORT": str(free_port()),
        "CC_AGI_PORT": str(free_port()),
        "CC_SIP_PORT": str(free_port()),
        "CC_SIP_WS_PORT": str(free_port()),
        "CC_SIP_TLS": "on",  # SIP over TLS and wss with the demo's self-signed certificate (test_sip_tls.py)
        "CC_SIP_TLS_PORT": str(free_port()),
        "CC_SIP_WSS_PORT": str(free_port()),
        "CC_REDIS_PORT": str(free_port()),
        "CC_WEB_PORT": str(free_port()),
        # the services run as the test process's user (root), as the tier's helpers write and read
        # the home directly; test_service_user.py runs a stack as the unprivileged user (issue 15)
        "CC_SERVICE_USER": "",
    })
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory, postgres_url) -> dict[str, str]:
    return private_stack_env(tmp_path_factory.mktemp("callcenter-home"), postgres_url)


def running_stack(env: dict[str, str], check_nothing_left: bool = False):
    """`callcenter up` with this environment, yielding its settings; `callcenter down` after.
    For a fixture to `yield from`: a failed start fails the test with the services' logs.
    check_nothing_left: `down` must succeed and leave none of the stack's processes running."""
    ami_user.install(Settings.from_env(env))  # the tests' own AMI user, before Asterisk starts
    up = subprocess.run(CALLCENTER + ["up"], env=env, capture_output=True, text=True, timeout=400)
    settings = Settings.from_env(env)
    if up.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(settings.log_dir.glob("*.log")))
        subprocess.run(CALLCENTER + ["down"], env=env, timeout=60)
        pytest.fail(f"callcenter up failed ({up.returncode}):\n{up.stdout}\n{up.stderr}\n{logs}")
    yield settings
    pids = {name: svc["pid"] for name, svc in read_status(settings.run_dir)["services"].items()}
    down = subprocess.run(CALLCENTER + ["down"], env=env, capture_output=True, text=True, timeout=90)
    if check_nothing_left:
        assert down.returncode == 0, down.stdout + down.stderr
        assert {name for name, pid in pids.items() if pid_alive(pid)} == set()  # nothing of it left running


@pytest.fixture(scope="session")
def stack(stack_env) -> Settings:
    """`callcenter up` in a private home; `callcenter down` at the end."""
    yield from running_stack(stack_env)


@pytest.fixture(scope="session")
def sessions(stack):
    return db.session_factory(stack.database_url)


class EventLog:
    """Every AMI event seen since the fixture started, with waiting helpers."""

    def __init__(self):
        self.events: list[dict] = []
        self._changed = asyncio.Event()

    def __call__(self, _manager, event) -> None:
        self.events.append(dict(event))
        self._changed.set()

    def matching(self, **fields) -> list[dict]:
        return [e for e in self.events if all(e.get(k) == v for k, v in fields.items())]

    async def wait_for(self, timeout: float = 20.0, **fields) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(**fields)
            if found:
                return found[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = sorted({e.get("Event", "?") for e in self.events})
                raise AssertionError(f"no AMI event {fields} within {timeout} s; event kinds seen: {seen}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass


@pytest.fixture
async def ami(stack):
    manager = await ami_connect.connect(ami_user.login(stack))  # the tests' user: it reads VarSet, AGIExec ...
    events = EventLog()
    manager.register_event("*", events)
    manager.events = events
    yield manager
    manager.close()


async def wait_until(predicate, timeout: float = 20.0, what: str = "condition", every: float = 0.1):
    """Poll `predicate` until it returns something true, and return that: the tests' one way of
    waiting. A plain function runs in a thread (database, files); an async one is awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate() if inspect.iscoroutinefunction(predicate) else await asyncio.to_thread(predicate)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(every)


def log_size(settings: Settings, name: str) -> int:
    """Where a service's log ends now: read_log(..., since=log_size(...)) is what came after."""
    path: Path = settings.log_dir / f"{name}.log"
    return path.stat().st_size if path.exists() else 0


def read_log(settings: Settings, name: str, since: int = 0) -> str:
    path: Path = settings.log_dir / f"{name}.log"
    if not path.exists():
        return ""
    with open(path, "rb") as f:
        f.seek(since)
        return f.read().decode(errors="replace")


@pytest.fixture
async def store(stack):
    redis = aioredis.from_url(stack.effective_redis_url)
    yield Store(redis)
    await redis.aclose()


@pytest.fixture
async def floor(stack, ami, sessions, store):
    """This test's own agents, skills, queue settings and calls, taken back when it ends
    (tests/integration/floor.py): nothing it leaves reaches the next test."""
    owned = Floor(ami, sessions, store)
    yield owned
    await owned.close()


@pytest.fixture
async def browser():
    """Headless Chromium for the desktop's browser tests (test_softphone has its own: fake media)."""
    assert shutil.which(CHROMIUM), "Chromium is missing: scripts/setup.sh --test installs it"
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


def pytest_collection_modifyitems(items):
    """Every test here is `integration` (pytest -m "not integration" runs the unit tier alone)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.integration)
