"""One journey per call: the recorded Asterisk events through the real router (over the fake
store and AMI) and the CDR listener, the router's decisions and the agents' state log written as
the router process writes them; then the timeline. Taking everything a second time (a replayed
AMI stream, the state log drained again from its start) leaves every table and the journey as
they were. And every source of the timeline, table-driven, in its order."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from acd import call_log
from acd.protocol import Queue
from callcenter import db
from callcenter.models import (AgentStateLog, Call, CallbackRequest, CallHold, CallTransfer, CallWrapup, JourneyStep,
                               RoutingDecision, WorkOrder)
from cdr.journey import KINDS, SOURCES, journey
from cdr.listener import CdrListener
from tests.unit import report_tables as t
from tests.unit.test_replay_router import Replay
from tests.unit.transcripts import call_id

TRANSCRIPT = "no_answer_then_next_agent"
AGENTS = {"1602": {"consult": 5}, "1603": {"consult": 1}}
TABLES = (Call, AgentStateLog, RoutingDecision, CallHold)


async def take_the_call(sessions) -> None:
    """Everything the processes write for the transcript's call: the CDR listener's row, the
    router's decisions (CallLog, as its tick flushes them) and the state log (as drained)."""
    replay = Replay.of(TRANSCRIPT, AGENTS, (Queue("consult", ring_time_s=4, no_answer_limit=1),))
    kept = call_log.CallLog()
    replay.router.on_decision = kept.decision
    try:
        await replay.feed()
    finally:
        replay.close()
    listener = CdrListener(sessions)
    for event in replay.events:
        listener.apply(event)
    call_log.flush(sessions, *kept.take())
    # the stream's entries (Redis ids are the time they were added, so a drain from the start
    # hands the same ids again)
    rows = [{"stream_id": f"{int(c.since * 1000)}-{i}", "extension": c.ext, "state": c.state,
             "reason": c.reason or None, "call_uniqueid": c.call or None,
             "started_at": datetime.fromtimestamp(c.since, tz=timezone.utc)} for i, c in enumerate(replay.store.changes)]
    with sessions() as s:
        db.insert_ignoring_duplicates(s, AgentStateLog, rows)
        s.commit()


def dump(sessions) -> dict[str, list[tuple]]:
    with sessions() as s:
        return {m.__tablename__: [tuple(getattr(r, c.name) for c in m.__table__.columns)
                                  for r in s.scalars(select(m).order_by(m.id))] for m in TABLES}


def timeline(sessions, uid: str) -> list[tuple]:
    with sessions() as s:
        return [(step.kind, step.agent) for step in journey(s, uid)]


async def test_the_journey_of_a_recorded_call_and_its_replay(migrated_db):
    sessions = db.session_factory(migrated_db)
    await take_the_call(sessions)
    uid = call_id(TRANSCRIPT)
    assert timeline(sessions, uid) == [
        ("entered", None), ("queued", None),
        ("routed", "1602"), ("ringing", "1602"), ("no_answer", "1602"),
        ("routed", "1603"), ("ringing", "1603"), ("answered", "1603"),
        ("ended", None), ("recording", None), ("wrapup", "1603")]
    with sessions() as s:
        steps = journey(s, uid)
    first = next(step for step in steps if step.kind == "routed")
    # the core's own reason, as the router logged it (ready 60 s before the call entered, 8.5 s in the menu)
    assert first.detail["reason"] == "agent 1602: skill consult level 5, idle 68 s; 1 others eligible; call waited 0 s"
    assert steps[-3].detail["end_reason"] == "agent_hangup" and steps[0].detail["access_number"] == "10000"
    once, steps_once = dump(sessions), [s.as_dict() for s in steps]
    await take_the_call(sessions)  # everything again
    assert dump(sessions) == once
    with sessions() as s:
        assert [s.as_dict() for s in journey(s, uid)] == steps_once


def test_an_unknown_call_has_no_journey(migrated_db):
    with db.session_factory(migrated_db)() as s:
        assert journey(s, "no-such-call") is None


# every source at once, each row at its time: the timeline is in time order, a cause before its
# effect when two share a time (the answer before the hold that starts in the same second)
ROWS = """
kind       | at       | ext  | detail
entered    | 08:00:00 |      |
menu       | 08:00:02 |      | main_menu
menu       | 08:00:05 |      | handoff
queued     | 08:00:06 |      | billing
routed     | 08:00:07 | 1001 |
ringing    | 08:00:07 | 1001 |
no_answer  | 08:00:22 | 1001 |
routed     | 08:00:23 | 1002 |
ringing    | 08:00:23 | 1002 |
answered   | 08:00:25 | 1002 |
hold       | 08:00:25 | 1002 |
resume     | 08:01:00 | 1002 |
work_order | 08:01:30 |      |
transfer   | 08:02:00 | 1002 |
wrapup     | 08:02:00 | 1002 |
disposition| 08:02:10 | 1002 |
callback   | 08:02:30 |      |
survey     | 08:02:40 |      |
ended      | 08:03:00 |      |
recording  | 08:03:00 |      |
"""  # (a hang-up and the wrap-up it starts share a time: the end first)


def test_every_source_lands_in_the_timeline_in_order(migrated_db):
    sessions = db.session_factory(migrated_db)
    rows = t.table(ROWS)
    when = {(r["kind"], r["ext"], r["detail"]): t.at(r["at"]) for r in rows}

    def at(kind, ext=None, detail=None):
        return when[(kind, ext, detail)]
    uid = "1795957949.77"
    with sessions() as s:
        s.add(Call(uniqueid=uid, started_at=at("entered"), queued_at=at("queued", detail="billing"), skill="billing",
                   answered_at=at("answered", "1002"), ended_at=at("ended"), end_reason="agent_hangup",
                   access_number="10000", caller_number="13800000001", recording_path=f"/var/rec/{uid}.wav",
                   survey_offered=True, survey_offered_at=at("survey"), survey_answer=3))
        for seq, node in enumerate(("main_menu", "handoff")):
            s.add(JourneyStep(call_uniqueid=uid, seq=seq, at=at("menu", detail=node), node=node,
                              input="8800123456781234" if node == "main_menu" else None, outcome=None))
        for ext in ("1001", "1002"):
            s.add(RoutingDecision(call_uniqueid=uid, decided_at=at("routed", ext), agent_extension=ext, skill="billing",
                                  service_class="normal", reason=f"agent {ext}: ..."))
        log = [("1001", "reserved", "routed", uid), ("1001", "ringing", "ringing", uid),
               ("1001", "not_ready", "no_answer", None), ("1002", "reserved", "routed", uid),
               ("1002", "ringing", "ringing", uid), ("1002", "on_call", "answered", uid),
               ("1002", "wrapup", "wrapup", uid)]
        for i, (ext, state, kind, call) in enumerate(log):
            s.add(AgentStateLog(stream_id=f"{i}-0", extension=ext, state=state, call_uniqueid=call,
                                reason="no_answer" if state == "not_ready" else None, started_at=at(kind, ext)))
        s.add(CallHold(call_uniqueid=uid, extension="1002", action="hold", at=at("hold", "1002")))
        s.add(CallHold(call_uniqueid=uid, extension="1002", action="resume", at=at("resume", "1002")))
        s.add(CallTransfer(call_uniqueid=uid, from_extension="1002", to_skill="fault", note="line noise",
                           at=at("transfer", "1002")))
        s.add(CallWrapup(call_uniqueid=uid, extension="1002", disposition="order_created", notes="ok",
                         at=at("disposition", "1002")))
        s.add(WorkOrder(number="WO1", category="fault_phone", call_uniqueid=uid, created_at=at("work_order")))
        s.add(CallbackRequest(number="13800000001", call_uniqueid=uid, reason="queue", status="done",
                              created_at=at("callback")))
        s.commit()
        steps = journey(s, uid)
    assert [(step.kind, step.agent) for step in steps] == [(r["kind"], r["ext"]) for r in rows]
    menu = [step for step in steps if step.kind == "menu"]
    assert menu[0].detail["input"] == "8800********1234"  # a long number is never shown whole
    assert next(step for step in steps if step.kind == "recording").detail == {"file": f"{uid}.wav"}
    assert next(step for step in steps if step.kind == "survey").detail == {"answer": "3"}
    assert {step.kind for step in steps} <= set(KINDS)
    assert len(SOURCES) == 11  # a new table (monitoring, survey, quality score) is one more @source
