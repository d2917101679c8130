"""What one integration test owns on the shared stack, handed out by the `floor` fixture.

Every test of the session shares one Asterisk, one Redis and one router, so anything a test
leaves behind is there for the next: an agent left ready (or made ready again by the router's
wrap-up timer after a logout that was refused because a call was still up) is rung by the next
test's caller; a caller left waiting is served to the next test's agent. So a test takes from
the floor:

- agents on extensions no other test of the session uses (AGENT_EXTENSIONS, counted out once);
- skills of its own (`skill()`), and changes to a shared queue (`queue()`) that are undone;
- the calls it places (`call()`), and any other call id it wants ended (`own_call()`);

and when it ends, whatever happened, `close()` hangs up its calls and its agents' phone legs,
logs its agents out once the router has let go of them (waiting on their state in Redis, never
forcing a transition the router would refuse), closes the call-back requests its calls left,
removes its skill rows and queues, and fails the test if any of that did not happen in time.
"""
from __future__ import annotations

import asyncio
import itertools
import time

from sqlalchemy import delete, or_, select, update

from acd import agent_state as st
from acd.callbacks import LIVE_PREFIX
from acd.protocol import AcdError
from callcenter import dialplan
from callcenter.models import AgentSkill, CallbackRequest, QueueConfig, User
from callcenter.simulate import place_call
from tests.integration.helpers import add_agent, make_ready, manager, reload

# Agent extensions handed out, one per agent, once per session: the demo's agents are 1001-1004,
# the unit tier's fakes 1001/1002, test_task_supervision's private Redis 19xx.
AGENT_EXTENSIONS = range(1700, 1900)
_extensions = iter(AGENT_EXTENSIONS)
_skills = itertools.count()

POLL_S = 0.1
TEARDOWN_S = 45  # a call's legs go, the router sees it end and puts the agent in wrap-up: seconds


def _letters(n: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": skill names are [a-z_] (the dialplan filters the rest)."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = chr(ord("a") + digit) + out
        if n == 0:
            return out


async def live_channels(ami) -> list[dict]:
    replies = await ami.send_action({"Action": "CoreShowChannels"}, as_list=True)
    return [dict(r) for r in replies if r.get("Event") == "CoreShowChannel"]


class Floor:
    def __init__(self, ami, sessions, store):
        self.ami, self.sessions, self.store = ami, sessions, store
        self.extensions: list[str] = []
        self.call_ids: list[str] = []
        self._queues_before: dict[str, dict | None] = {}  # skill -> its row's values, None: ours

    # ---------------------------------------------------------------- handing out
    def extension(self) -> str:
        """An agent extension no other test of this session has or will have."""
        ext = next(_extensions, None)
        if ext is None:
            raise AssertionError(f"the session used every test extension in {AGENT_EXTENSIONS}")
        self.extensions.append(str(ext))
        return str(ext)

    def agent(self, skills: dict[str, int], ext: str | None = None) -> str:
        """A user with these skills (on a new extension unless given one from extension())."""
        ext = ext or self.extension()
        assert ext in self.extensions, f"agent {ext} was not handed out by this test's floor"
        add_agent(self.sessions, ext, skills)
        return ext

    def skill(self, **queue) -> str:
        """A skill of this test's own, with its queue row (QueueConfig fields as keywords)."""
        name = f"t_{_letters(next(_skills))}"
        self.queue(name, **queue)
        return name

    def queue(self, skill: str, **fields) -> None:
        """Change (or create) a queue's settings; put back as they were when the test ends."""
        with self.sessions() as s:
            row = s.get(QueueConfig, skill)
            if skill not in self._queues_before:
                self._queues_before[skill] = None if row is None else {
                    c.name: getattr(row, c.name) for c in QueueConfig.__table__.columns}
            row = row or QueueConfig(skill=skill)
            for name, value in fields.items():
                setattr(row, name, value)
            s.merge(row)
            s.commit()

    async def call(self, access_number: str, caller: str, **options) -> str:
        """callcenter.simulate.place_call, and the call is this test's to end."""
        uid = await place_call(self.ami, access_number, caller, **options)
        self.call_ids.append(uid)
        return uid

    def own_call(self, uid: str) -> str:
        """A call id made some other way (a call-back request's), ended with the test's calls."""
        self.call_ids.append(uid)
        return uid

    async def ready(self, ext: str, since: float | None = None) -> None:
        assert ext in self.extensions, f"agent {ext} was not handed out by this test's floor"
        await make_ready(self.store, ext, since)

    async def reload(self) -> None:
        await reload(self.store)

    # ---------------------------------------------------------------- taking back
    def _ours(self, channel: dict) -> bool:
        ids = set(self.call_ids) | {uid.removesuffix("-2") for uid in self.call_ids}  # both halves
        return (channel.get("Uniqueid") in ids or channel.get("Linkedid") in ids
                or any(channel.get("Channel", "").startswith(f"Local/{ext}@") for ext in self.extensions))

    async def close(self) -> None:
        problems = []
        try:
            await self._end_calls_and_log_out()
        except AssertionError as exc:
            problems.append(str(exc))
        try:
            await self._close_live_calls()
        except AssertionError as exc:
            problems.append(str(exc))
        self._remove_skills_and_queues()
        await self.reload()
        for ext in self.extensions:  # the phone goes back to a plain SIP phone nobody registered
            await self.ami.send_action({"Action": "Setvar", "Variable": dialplan.simphone_variable(ext),
                                        "Value": ""})
        if problems:
            raise AssertionError("the test's floor was not left clean: " + "; ".join(problems))

    async def _end_calls_and_log_out(self) -> None:
        """Hang up every leg of our calls and our agents' phones; log each agent out as soon as
        their state allows it (ready, not ready, wrap-up). A call still up keeps the agent on it,
        so this goes round until no leg is left and every agent reads logged_out."""
        agents = manager(self.store)
        asked: dict[str, float] = {}
        deadline = time.monotonic() + TEARDOWN_S
        while True:
            legs = [c for c in await live_channels(self.ami) if self._ours(c)]
            for leg in legs:
                name = leg["Channel"]
                if time.monotonic() - asked.get(name, 0) > 2:
                    asked[name] = time.monotonic()
                    await self.ami.send_action({"Action": "Hangup", "Channel": name})
            states = {}
            for ext in self.extensions:
                state = (await self.store.agent(ext)).state
                if state in (st.READY, st.NOT_READY, st.WRAPUP):
                    try:
                        state = await agents.set_state(ext, st.LOGGED_OUT)
                    except AcdError:  # the router moved them meanwhile: round again
                        pass
                states[ext] = state
            if not legs and all(s == st.LOGGED_OUT for s in states.values()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"after {TEARDOWN_S} s, legs still up: {[c['Channel'] for c in legs]}; "
                                     f"agents: {states}")
            await asyncio.sleep(POLL_S)

    async def _close_live_calls(self) -> None:
        """Our calls gone from the router's live queue; a call back one of them became (or a
        request of ours) is closed, so no router dials it to another test's agent later."""
        request_ids = [int(uid.removeprefix(LIVE_PREFIX)) for uid in self.call_ids
                       if uid.startswith(LIVE_PREFIX) and uid.removeprefix(LIVE_PREFIX).isdigit()]
        with self.sessions() as s:
            s.execute(update(CallbackRequest)
                      .where(or_(CallbackRequest.call_uniqueid.in_(self.call_ids), CallbackRequest.id.in_(request_ids)),
                             CallbackRequest.status.in_(("pending", "queued", "no_answer")))
                      .values(status="failed"))
            s.commit()
        deadline = time.monotonic() + TEARDOWN_S
        left = list(self.call_ids)
        while left:
            live = {uid: await self.store.call(uid) for uid in left}
            for uid, call in live.items():
                if call is not None and call.is_callback and call.waiting:
                    await self.store.drop_call(uid)  # no channel to hang up: it only waits in Redis
            left = [uid for uid, call in live.items() if call is not None]
            if left and time.monotonic() > deadline:
                raise AssertionError(f"after {TEARDOWN_S} s the router still holds calls {left}")
            if left:
                await asyncio.sleep(POLL_S)

    def _remove_skills_and_queues(self) -> None:
        with self.sessions() as s:
            users = select(User.id).where(User.agent_extension.in_(self.extensions))
            s.execute(delete(AgentSkill).where(AgentSkill.user_id.in_(users)))
            for skill, before in self._queues_before.items():
                if before is None:
                    s.execute(delete(QueueConfig).where(QueueConfig.skill == skill))
                else:
                    s.merge(QueueConfig(**before))
            s.commit()
