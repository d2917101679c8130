"""acd.call_log: the router process keeps each hold and resume (and each decision) for the
journey, writes them on its tick with duplicates ignored, and keeps what a failed write took."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from acd import call_log
from acd.actions import Actions
from acd.core import Decision
from acd.manager import AgentManager
from acd.protocol import AgentSnapshot, LiveCall, Queue
from callcenter import db
from callcenter.models import CallHold, RoutingDecision
from tests.unit.fakes import FakeAmi, FakeStore

CALL = "1700000000.5"


async def test_holds_through_the_manager_are_kept_then_written_once(migrated_db):
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "on_call", call=CALL)},
                      live_calls={CALL: LiveCall(CALL, channel="Local/10000@hotline-0001;2", agent="1001")})
    clock = iter([1000.0, 1030.0])
    manager = AgentManager(store, Actions(FakeAmi()), {"billing": Queue("billing")}, clock=lambda: next(clock))
    kept = call_log.CallLog()
    manager.on_hold = kept.hold
    await manager.hold("1001", CALL)
    await manager.resume("1001", CALL)
    assert [(h["action"], h["at"].timestamp()) for h in kept.holds] == [("hold", 1000.0), ("resume", 1030.0)]
    kept.decision(Decision(CALL, "1001", "agent 1001: skill billing level 3"), LiveCall(CALL, skill="billing",
                                                                                       transferred=True), 990.0)
    sessions = db.session_factory(migrated_db)
    rows = kept.take()
    assert await call_log.drain(kept, sessions) == 0  # nothing new since
    call_log.flush(sessions, *rows)
    call_log.flush(sessions, *rows)  # a tick run twice writes nothing twice
    with sessions() as s:
        assert [(h.action, h.extension) for h in s.scalars(select(CallHold).order_by(CallHold.at))] == [
            ("hold", "1001"), ("resume", "1001")]
        (decision,) = s.scalars(select(RoutingDecision)).all()
        assert (decision.agent_extension, decision.service_class, decision.reason) == (
            "1001", "transferred", "agent 1001: skill billing level 3")


async def test_a_failed_write_keeps_the_rows_for_the_next_tick():
    kept = call_log.CallLog()
    kept.hold(CALL, "1001", "hold", 1.0)

    def refusing():
        raise RuntimeError("database is locked")
    with pytest.raises(RuntimeError):
        await call_log.drain(kept, refusing)
    assert len(kept.holds) == 1
    with pytest.raises(ValueError):
        kept.hold(CALL, "1001", "mute", 2.0)
