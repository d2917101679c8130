"""Run a test SIP user agent (tests/sip/ua.py) as a child process and wait on what it reports."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from tests.sip import audio


class UserAgent:
    def __init__(self, name: str, process: asyncio.subprocess.Process, record: Path):
        self.name, self.process, self.record = name, process, record
        self.events: list[dict] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, name: str, mode: str, record: Path, **options) -> "UserAgent":
        argv = [sys.executable, "-m", "tests.sip.ua", mode, "--record", str(record)]
        for key, value in options.items():
            if value is True:
                argv.append("--" + key.replace("_", "-"))
            elif value is not None and value is not False:  # one word: a value may start with "-"
                argv.append(f"--{key.replace('_', '-')}={value}")
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=open(f"{record}.stderr", "wb"), cwd=Path(__file__).resolve().parents[2])
        agent = cls(name, process, record)
        await agent.wait_for("ready", timeout=15)
        return agent

    async def _read(self) -> None:
        while line := await self.process.stdout.readline():
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.events.append({"event": "noise", "text": line.decode(errors="replace")})
            self._changed.set()
        self.events.append({"event": "exited", "code": await self.process.wait()})
        self._changed.set()

    def seen(self, event: str, **fields) -> list[dict]:
        return [e for e in self.events if e.get("event") == event and all(e.get(k) == v for k, v in fields.items())]

    async def wait_for(self, event: str, timeout: float = 20.0, after: int = 0, **fields) -> dict:
        """The first `event` (with these fields) reported at or after index `after`."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events[after:]:
                if e.get("event") == event and all(e.get(k) == v for k, v in fields.items()):
                    return e
            if self.seen("exited") and event != "exited":
                raise AssertionError(f"{self.name} exited before {event} {fields}: {self.events[-8:]}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: no {event} {fields} within {timeout} s; "
                                     f"last events {self.events[-8:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def offset(self, at: float) -> float:
        """Where wall-clock time `at` falls in what this UA recorded (it records from its first media)."""
        return max(0.0, at - self.seen("media")[0]["at"])

    async def recorded_until(self, at: float, timeout: float = 30.0) -> None:
        """Until this UA's recording holds what it heard up to wall-clock time `at`: a stretch of
        audio to be measured later is waited for by what was recorded, not by a fixed sleep."""
        await self.wait_for("media", timeout=timeout)
        deadline = time.monotonic() + timeout
        while audio.seconds_recorded(self.record) < self.offset(at):
            if self.seen("exited"):
                raise AssertionError(f"{self.name} exited before recording up to {at}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: its recording did not reach {self.offset(at):.1f} s "
                                     f"within {timeout} s (holds {audio.seconds_recorded(self.record):.1f} s)")
            await asyncio.sleep(0.1)

    async def send(self, command: str) -> None:
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()

    async def stop(self) -> None:
        if self.process.returncode is None:
            try:
                await self.send("quit")
                await asyncio.wait_for(self.process.wait(), 10)
            except (asyncio.TimeoutError, ConnectionError, BrokenPipeError):
                self.process.kill()
                await self.process.wait()
        await self._reader
