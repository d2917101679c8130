"""What the SIP tests share: a carrier's trunk on the stack, access numbers and agent phones of
their own, and the real user agents (tests/sip/ua.py) that play the carrier's callers and the
agents' desk phones.

Addresses on loopback (all of 127/8 is this machine's): the carrier sends from 127.0.0.3 (its
trunk's identify matches that address), agents' phones register from 127.0.0.4, and a stranger
calls from 127.0.0.2, which no trunk matches.
"""
from __future__ import annotations

import itertools
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis as sync_redis
from sqlalchemy import delete, select

from callcenter.config import Settings
from callcenter.models import AgentPhone, Call
from callcenter.sip import phones, store
from callcenter.sip.service import announce
from tests.sip.driver import UserAgent

CARRIER_HOST, PHONE_HOST, STRANGER_HOST = "127.0.0.3", "127.0.0.4", "127.0.0.2"
CARRIER = "tstcarrier"
_numbers = itertools.count(1)


def cli(env: dict, *args: str, stdin: str = "") -> str:
    import sys
    done = subprocess.run([sys.executable, "-m", "callcenter.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"callcenter {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


@dataclass
class SipWorld:
    """One test's access numbers, phones and user agents, taken back when it ends."""
    settings: Settings
    env: dict
    sessions: object
    tmp: Path
    numbers: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    agents: list[UserAgent] = field(default_factory=list)

    @property
    def redis(self):
        return sync_redis.Redis.from_url(self.settings.effective_redis_url)

    def uri(self, user: str) -> str:
        return f"sip:{user}@{self.settings.sip_host}:{self.settings.sip_port}"

    def number(self, skill: str | None = None, entry: str | None = None) -> str:
        """A new access number of the test carrier, through the CLI (stored, then applied live)."""
        number = f"2{next(_numbers):04d}"
        target = ["--skill", skill] if skill else ["--entry", entry] if entry else []
        out = cli(self.env, "number", "add", number, "--trunk", CARRIER, *target)
        assert "applied to the running Asterisk" in out, out
        self.numbers.append(number)
        return number

    def phone(self, ext: str, device: str | None = "sip") -> str:
        """The agent's desk-phone password (provisioned and applied now); their calls ring there."""
        with self.sessions() as s:
            password = store.phone(s, ext).sip_password
            s.commit()
        applied = announce(self.redis)
        assert applied and applied.get("ok"), applied
        self.extensions.append(ext)
        if device:
            phones.choose(self.redis, ext, device)
        return password

    async def desk_phone(self, ext: str, password: str, tone: float, **options) -> UserAgent:
        agent = await UserAgent.start(f"phone {ext}", "phone", self.tmp / f"phone-{ext}.wav", bind=PHONE_HOST,
                                      registrar=f"{self.settings.sip_host}:{self.settings.sip_port}", user=ext,
                                      password=password, tone=tone, **options)
        self.agents.append(agent)
        return agent

    async def carrier_side(self, tone: float, **options) -> UserAgent:
        """The carrier's own end of the trunk: what the center dials out to (its address and port)."""
        agent = await UserAgent.start("carrier", "phone", self.tmp / "carrier.wav", bind=CARRIER_HOST, port=5060,
                                      tone=tone, **options)
        self.agents.append(agent)
        return agent

    async def caller(self, name: str, to: str, tone: float, bind: str = CARRIER_HOST, **options) -> UserAgent:
        agent = await UserAgent.start(name, "call", self.tmp / f"{name}.wav", bind=bind, to=to, tone=tone, **options)
        self.agents.append(agent)
        return agent

    def call_uniqueid(self, caller_number: str) -> str | None:
        with self.sessions() as s:
            return s.scalar(select(Call.uniqueid).where(Call.caller_number == caller_number)
                            .order_by(Call.id.desc()).limit(1))

    async def close(self) -> None:
        for agent in self.agents:
            await agent.stop()
        redis = self.redis
        for ext in self.extensions:
            redis.delete(phones.phone_key(ext))
            redis.srem(phones.PHONES, ext)
        for number in self.numbers:
            cli(self.env, "number", "remove", number)
        with self.sessions() as s:
            s.execute(delete(AgentPhone).where(AgentPhone.extension.in_(self.extensions)))
            s.commit()
        announce(redis)


@pytest.fixture(scope="module")
def carrier(stack, stack_env):
    """The carrier's trunk, declared as an operator does (`callcenter trunk add`), applied live."""
    out = cli(stack_env, "trunk", "add", CARRIER, "--host", CARRIER_HOST, "--port", "5060")
    assert "applied to the running Asterisk" in out, out
    yield CARRIER
    cli(stack_env, "trunk", "remove", CARRIER)


@pytest.fixture
async def sip(stack, stack_env, sessions, carrier, tmp_path):
    world = SipWorld(stack, stack_env, sessions, tmp_path)
    yield world
    await world.close()
