"""Record the AMI transcripts in this folder from a real stack (not run by the tests).

    env CALLCENTER_HOME=/tmp/rec-home CC_AMI_PORT=... CC_AGI_PORT=... CC_SIP_PORT=... \\
        CC_REDIS_PORT=... CC_WEB_PORT=... .venv/bin/python -m tests.integration.ami_user
    env <the same> .venv/bin/callcenter up
    env <the same> .venv/bin/python -m tests.unit.transcripts.record /tmp/recorded
    env <the same> .venv/bin/callcenter down

Each scenario drives one simulated call through the real hotline dialplan, IVR and router (the
stack's own), and writes every AMI event of that call's hotline channel, in arrival order, as
AMI text (``Key: Value`` lines, a blank line between events). The files committed here are those,
trimmed by hand to the UserEvents and a few neighbours, with the call's ids and times kept as
Asterisk gave them.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import redis.asyncio as aioredis

from acd import protocol as p
from acd.manager import AgentManager
from acd.store import Store
from callcenter import ami as ami_connect
from callcenter import db
from callcenter.config import Settings
from callcenter.models import Account, AgentSkill, Customer, CustomerPhone, QueueConfig, User
from callcenter.simulate import place_call, set_sim_phone
from tests.integration import ami_user

ACCESS = "10000"
CONSULT = "w" * 10 + "5"  # greeting, then main menu key 5: skill consult
COMPLAINT = "w" * 10 + "6"  # key 6: skill complaint


def as_text(event) -> str:
    """One event as AMI text (a repeated header as repeated lines, as Asterisk sent it)."""
    lines = []
    for key, value in event.items():
        if key == "content":
            continue  # panoramisk's body slot, not a header
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key}: {item}")
    return "\n".join(lines) + "\n"


class Recorder:
    def __init__(self):
        self.events: list = []
        self.changed = asyncio.Event()

    def __call__(self, _manager, event) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, timeout=60.0, **fields):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if all(e.get(k) == v for k, v in fields.items()):
                    return e
            if time.monotonic() > deadline:
                raise AssertionError(f"no {fields} in {timeout} s")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    def of_call(self, uid: str) -> list:
        return [e for e in self.events if e.get("Uniqueid") == uid or e.get("CallId") == uid]


def setup(sessions, number: str) -> None:
    with sessions() as s:
        for ext, skill, level in (("1601", "consult", 5), ("1602", "consult", 5), ("1603", "consult", 1)):
            user = User(username=f"rec{ext}", display_name=f"Rec {ext}", role="agent", agent_extension=ext)
            user.set_password("rec-pass")
            s.add(user)
            s.flush()
            s.add(AgentSkill(user_id=user.id, skill=skill, level=level))
        s.merge(QueueConfig(skill="consult", ring_time_s=4, wrapup_s=5, no_answer_limit=1))
        customer = Customer(name="Rec Caller", language="en", vip_level=0, plan="rec")
        customer.phones.append(CustomerPhone(number=number))
        customer.accounts.append(Account(number=number, balance_cents=100))
        s.add(customer)
        s.commit()


async def main(out: Path) -> None:
    settings = Settings.from_env(os.environ)
    sessions = db.session_factory(settings.database_url)
    number = "13900001111"
    setup(sessions, number)
    redis = aioredis.from_url(settings.effective_redis_url)
    await redis.publish(p.RELOAD, "1")  # the router reads the new agents and queue
    await asyncio.sleep(1)
    store = Store(redis)
    agents = AgentManager.for_states(store)
    ami = await ami_connect.connect(ami_user.login(settings))  # it sends UserEvents: the services' user may not
    rec = Recorder()
    ami.register_event("*", rec)
    out.mkdir(parents=True, exist_ok=True)

    async def save(name: str, uid: str) -> None:
        await rec.wait_for(Event="Hangup", Uniqueid=uid)
        await asyncio.sleep(0.5)
        (out / f"{name}.txt").write_text("\n".join(as_text(e) for e in rec.of_call(uid)))

    # 1. queued, 1601 rings and answers, talks 2 s and hangs up (End: agent)
    await set_sim_phone(ami, "1601", answer_after=1, talk_s=2)
    await agents.set_state("1601", "ready")
    uid = await place_call(ami, ACCESS, number, dtmf=CONSULT, hold_s=40)
    await rec.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid)
    await save("answered_agent_hangs_up", uid)
    await asyncio.sleep(1)  # the router has put 1601 in wrap-up
    await agents.set_state("1601", "logged_out")

    # 2. nobody serves complaint: the caller waits, then hangs up
    uid = await place_call(ami, ACCESS, number, dtmf=COMPLAINT, hold_s=12)
    await rec.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid)
    await save("abandoned_waiting", uid)

    # 3. 1602 (level 5) never answers: not ready (no answer), the caller waits again; 1603 answers
    await set_sim_phone(ami, "1602", answer_after=None)
    await set_sim_phone(ami, "1603", answer_after=1, talk_s=2)
    await agents.set_state("1602", "ready")
    await agents.set_state("1603", "ready")
    uid = await place_call(ami, ACCESS, number, dtmf=CONSULT, hold_s=40)
    await rec.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid)
    await save("no_answer_then_next_agent", uid)

    # 4. an AMI client's own UserEvents (Action: UserEvent): no channel, forged headers
    for headers in ({"UserEvent": "AgentRinging", "CallId": uid, "Agent": "1\u0663" + "00"},
                    {"UserEvent": "AgentRinging", "CallId": uid, "Agent": ["1601", "1602"]},
                    {"UserEvent": "AgentRinging", "CallId": uid, "Agent": "1601"}):
        await ami.send_action({"Action": "UserEvent", **headers})
    await asyncio.sleep(1)
    forged = [e for e in rec.events if e.get("Event") == "UserEvent" and not e.get("Channel")]
    (out / "ami_client_user_events.txt").write_text("\n".join(as_text(e) for e in forged))

    for ext in ("1601", "1602", "1603"):
        try:
            await agents.set_state(ext, "logged_out")
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"{ext}: {exc}", file=sys.stderr)
    ami.close()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/recorded")))
