"""Small fakes of the router's wires: the live store and the AMI connection.

``FakeStore`` has the real ``acd.store.Store``'s methods and answers; the same cases run on both
in tests/integration/test_store_contract.py (a real redis-server and the real Lua), so a unit
test that passes on the fake means what it says about the real thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from acd.agent_state import LOGOUT_AFTER_CALL, next_state
from acd.protocol import AgentChange, AgentSnapshot, LiveCall, call_fields
from acd.store import AGENT_NOT_READY, CALL_GONE, RESERVED


@dataclass
class FakeStore:
    live_agents: dict[str, AgentSnapshot] = field(default_factory=dict)
    live_calls: dict[str, LiveCall] = field(default_factory=dict)
    changes: list[AgentChange] = field(default_factory=list)  # what the real store publishes
    reloads: int = 0
    logout_pending: set[str] = field(default_factory=set)  # seats to log out when free (the real store's flag)

    @classmethod
    def with_agents(cls, **states: str) -> FakeStore:
        """FakeStore.with_agents(a1001="ready") -> agent 1001 ready since 0."""
        return cls(live_agents={ext[1:]: AgentSnapshot(ext[1:], state) for ext, state in states.items()})

    # ---- agents ----
    async def agent(self, ext: str) -> AgentSnapshot:
        return self.live_agents.get(ext) or AgentSnapshot(ext)

    async def agents(self) -> dict[str, AgentSnapshot]:
        return dict(sorted(self.live_agents.items()))

    async def transition(self, ext, event, now, reason=None, call="", misses=None, expect_call=None) -> str | None:
        current = await self.agent(ext)
        if expect_call is not None and current.call != expect_call:
            return None
        try:
            state, why = next_state(current.state, event, reason)
        except ValueError:
            return None
        if state in ("ready", "not_ready") and ext in self.logout_pending:  # as the real store's _CAS
            state, why, call = "logged_out", LOGOUT_AFTER_CALL, ""
        if state == "logged_out":
            self.logout_pending.discard(ext)
        self.live_agents[ext] = AgentSnapshot(ext, state, why or "", now, call,
                                         current.misses if misses is None else misses, current.wrapup_until)
        self.changes.append(AgentChange(ext, state, why or "", call, now))
        return state

    async def logout_when_free(self, ext) -> str:
        state = (await self.agent(ext)).state
        if state not in ("reserved", "ringing", "on_call"):
            return ""
        self.logout_pending.add(ext)
        return state

    async def set_wrapup_until(self, ext, until) -> None:
        current = await self.agent(ext)
        self.live_agents[ext] = AgentSnapshot(ext, current.state, current.reason, current.since, current.call,
                                         current.misses, until)

    async def reserve(self, ext, uid, now) -> int:
        return (await self.reserve_call(ext, uid, now))[0]

    async def reserve_call(self, ext, uid, now):
        agent = await self.agent(ext)
        if agent.state != "ready":
            return AGENT_NOT_READY, None
        call = self.live_calls.get(uid)
        if call is None or call.agent:
            return CALL_GONE, None
        self.live_agents[ext] = AgentSnapshot(ext, "reserved", "", now, uid, agent.misses, agent.wrapup_until)
        self.live_calls[uid] = call.but(agent=ext)
        self.changes.append(AgentChange(ext, "reserved", "", uid, now))
        return RESERVED, self.live_calls[uid]

    # ---- calls ----
    async def put_call(self, call: LiveCall) -> None:
        self.live_calls[call.uniqueid] = call

    async def enqueue(self, call: LiveCall) -> LiveCall:
        kept = self.live_calls.get(call.uniqueid)
        if kept is not None and call.queued_by and kept.queued_by == call.queued_by:
            return kept  # this CallQueued was applied already (by another router)
        stored = call.but(agent="", queued_at=kept.queued_at if kept and kept.queued_at else call.queued_at)
        self.live_calls[call.uniqueid] = stored
        return stored

    async def enqueue_and_reserve(self, call: LiveCall, ext: str, now: float):
        kept = self.live_calls.get(call.uniqueid)
        if kept is not None and call.queued_by and kept.queued_by == call.queued_by:
            return CALL_GONE, kept
        stored = await self.enqueue(call)
        taken, reserved = await self.reserve_call(ext, call.uniqueid, now)
        return (RESERVED, reserved) if taken == RESERVED else (AGENT_NOT_READY, stored)

    async def update_call(self, uid, **fields) -> None:
        call_fields(**fields)  # the same check of names as the real store
        if uid in self.live_calls:  # as the real store: a call no longer live stays gone
            self.live_calls[uid] = self.live_calls[uid].but(**fields)

    async def take_off_hold(self, uid) -> bool:
        call = self.live_calls.get(uid)
        if call is None or not call.held:
            return False
        self.live_calls[uid] = call.but(held=False)
        return True

    async def call(self, uid) -> LiveCall | None:
        return self.live_calls.get(uid)

    async def calls(self) -> dict[str, LiveCall]:
        return dict(self.live_calls)

    async def drop_call(self, uid) -> None:
        self.live_calls.pop(uid, None)

    async def announce_reload(self) -> None:
        self.reloads += 1

    # the reserving router's name, as Store.owner (acd/leases.py); this fake keeps no owners: the
    # router's lease tests wrap it (tests/unit/test_router_leases.py's OwnedStore)
    owner = ""


@dataclass
class FakeAmi:
    """Records every action; answers Success (and a bridge peer for BRIDGEPEER)."""
    actions: list[dict] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # actions answered with an Error

    async def send_action(self, action, as_list=False):
        self.actions.append(action)
        if action["Action"] in self.refuse:
            return {"Response": "Error", "Message": "No such channel"}
        if action["Action"] == "Getvar" and action["Variable"] == "BRIDGEPEER":
            return {"Response": "Success", "Value": "Local/1001@cc-agent-phones-0001;1"}
        if action["Action"] == "Originate":
            return [{"Response": "Success"}, {"Event": "OriginateResponse", "Response": "Success"}]
        if as_list:
            return []
        return {"Response": "Success"}

    def named(self, name: str) -> list[dict]:
        return [a for a in self.actions if a["Action"] == name]


def make_router(store, ami=None, queues=None, skills=None, clock=None):
    """A Router wired as acd/service.py wires it, over fakes."""
    import time

    from acd.actions import Actions
    from acd.manager import AgentManager
    from acd.protocol import Queue
    from acd.router import Router

    ami = ami or FakeAmi()
    clock = clock or time.time
    queues = dict(queues or {"billing": Queue("billing")})
    actions = Actions(ami)
    manager = AgentManager(store, actions, queues, clock=clock)
    return Router(store, actions, manager, skills or {}, clock=clock)
