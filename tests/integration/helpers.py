"""Helpers shared by integration tests: database look-ups, what a call heard, agent states.

Every wait here is on a condition (an agent's state in Redis, a router that received a reload),
polled at a short interval with a deadline: never a fixed sleep.
"""
from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from acd.manager import AgentManager
from acd.protocol import RELOAD
from acd.store import Store
from callcenter.models import Account, AgentSkill, Bill, Call, Customer, CustomerPhone, JourneyStep, User

_numbers = iter(range(1, 10_000))


def fresh_number(prefix: str = "1370000") -> str:
    """A caller number no other test uses."""
    return f"{prefix}{next(_numbers):04d}"


def make_customer(sessions, name="测试客户", language="zh", vip_level=0, password="123456",
                  balance_cents=4_250, bill_cents=5_900, number: str | None = None) -> tuple[int, str]:
    from datetime import date
    number = number or fresh_number()
    with sessions() as s:
        customer = Customer(name=name, language=language, vip_level=vip_level, plan="test")
        customer.set_service_password(password)
        customer.phones.append(CustomerPhone(number=number))
        account = Account(number=number, balance_cents=balance_cents)
        account.bills.append(Bill(period="2026-10", amount_cents=bill_cents, due_date=date(2026, 11, 15), paid=False))
        customer.accounts.append(account)
        s.add(customer)
        s.commit()
        return customer.id, number


def call_row(sessions, uniqueid):
    def fetch():
        with sessions() as s:
            return s.scalar(select(Call).where(Call.uniqueid == uniqueid))
    return fetch


def ended_row(sessions, uniqueid):
    def fetch():
        row = call_row(sessions, uniqueid)()
        return row if row is not None and row.ended_at is not None else None
    return fetch


def journey(sessions, uniqueid) -> list[tuple[str, str | None, str | None]]:
    with sessions() as s:
        steps = s.scalars(select(JourneyStep).where(JourneyStep.call_uniqueid == uniqueid).order_by(JourneyStep.seq))
        return [(j.node, j.input, j.outcome) for j in steps]


def streamed(events, uniqueid) -> list[str]:
    """The prompt files the call was played, in order (paths without extension)."""
    out = []
    for e in events.matching(Event="AGIExecStart", Uniqueid=uniqueid):
        command = e.get("Command", "")
        if command.startswith("STREAM FILE "):
            out.append(command.split('"')[1])
    return out


async def prompt_started(events, uniqueid: str, prompt: str, timeout: float = 60) -> None:
    """Until the menu has started playing `prompt` (a file name, no folder) to this call: callers
    key on what they hear, not after a fixed number of seconds, so a prompt played before the menu
    (the recording notice) or a slow machine does not shift the keys."""
    from tests.integration.conftest import wait_until

    def started():
        return any(path.endswith(f"/{prompt}") for path in streamed(events, uniqueid))
    await wait_until(started, timeout=timeout, what=f"prompt {prompt} played to {uniqueid}")


def handoff(events, uniqueid) -> dict[str, str]:
    """Channel variables the IVR set for the router."""
    return {e["Variable"]: e.get("Value", "") for e in events.matching(Event="VarSet", Uniqueid=uniqueid)
            if e.get("Variable", "").startswith(("__CC_", "CC_IVR"))}


def add_agent(sessions, ext: str, skills: dict[str, int]) -> None:
    with sessions() as s:
        user = s.scalar(select(User).where(User.agent_extension == ext))
        if user is None:
            user = User(username=f"t{ext}", display_name=f"Test {ext}", role="agent", agent_extension=ext)
            user.set_password("test-pass")
            s.add(user)
            s.flush()
        for skill, level in skills.items():
            s.merge(AgentSkill(user_id=user.id, skill=skill, level=level))
        s.commit()


async def reload(store: Store, timeout: float = 20.0) -> None:
    """Tell the routers that queues or skills changed in the database, once one has received it.

    A router reads reloads and agent changes from one subscription, in order, and applies a
    reload before it reads on: so every agent change a test makes after this (making an agent
    ready is one) is applied with the new queues and skills. A router that is restarting (a test
    killed it) receives nothing: published again until one does."""
    deadline = time.monotonic() + timeout
    while await store.redis.publish(RELOAD, "test") == 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"no router subscribed to {RELOAD} within {timeout} s")
        await asyncio.sleep(0.1)


def manager(store: Store, clock=time.time) -> AgentManager:
    """Agent states the way the desktop and `callcenter agent` change them (rules, audit)."""
    return AgentManager.for_states(store, clock=clock)


async def make_ready(store: Store, ext: str, since: float | None = None) -> str:
    """Log the agent in if needed and make them ready, idle since `since` (default now)."""
    return await manager(store, clock=time.time if since is None else (lambda: since)).set_state(ext, "ready")


async def wait_for_state(store: Store, ext: str, wanted: str, timeout: float = 20.0) -> None:
    """Until the agent's state in Redis is `wanted`; AssertionError naming the state it stayed in."""
    deadline = time.monotonic() + timeout
    while (state := (await store.agent(ext)).state) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"agent {ext} is {state}, not {wanted}, after {timeout} s")
        await asyncio.sleep(0.1)
