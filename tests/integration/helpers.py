"""Helpers shared by integration tests: database look-ups and what a call heard."""
from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

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


async def reload(store: Store) -> None:
    await store.redis.publish(RELOAD, "1")
    await asyncio.sleep(0.5)


async def logout(store: Store, *exts: str) -> None:
    now = time.time()
    for ext in exts:  # never through ready on the way out: a router would offer them a waiting call
        for event in ("no_answer", "hangup", "not_ready", "logout"):
            await store.transition(ext, event, now, reason="break" if event == "not_ready" else None)


async def hang_up(ami, *uids: str | None) -> None:
    """Hang up simulated calls (by the uniqueid place_call returned) that a test leaves behind."""
    for uid in filter(None, uids):
        for event in ami.events.matching(Event="Newchannel", Uniqueid=uid):
            await ami.send_action({"Action": "Hangup", "Channel": event["Channel"]})
