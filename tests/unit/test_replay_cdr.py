"""The CDR listener replayed on recorded AMI transcripts: Asterisk's events in, the call row out,
in a real (pre-migrated) SQLite database. Replaying a whole call again changes nothing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from callcenter import db
from callcenter.models import Call
from cdr.listener import CdrListener
from tests.unit.transcripts import call_id, load

# transcript -> the row it leaves. A time is named by the event that set it: its Timestamp (the
# first such event: a caller back in the queue keeps its first queued time, answered_at the answer).
ROWS = {
    "answered_agent_hangs_up": dict(
        stage="connected", skill="consult", agent_extension="1601", end_reason="agent_hangup", hangup_cause=16,
        started_at="CallEntered", queued_at="CallQueued", answered_at="AgentAnswered", ended_at="CallEnded"),
    "abandoned_waiting": dict(
        stage="waiting", skill="complaint", agent_extension=None, end_reason="abandoned_waiting", hangup_cause=16,
        started_at="CallEntered", queued_at="CallQueued", answered_at=None, ended_at="CallEnded"),
    "no_answer_then_next_agent": dict(
        stage="connected", skill="consult", agent_extension="1603", end_reason="agent_hangup", hangup_cause=16,
        started_at="CallEntered", queued_at="CallQueued", answered_at="AgentAnswered", ended_at="CallEnded"),
}
TIMES = ("started_at", "queued_at", "answered_at", "ended_at")
COLUMNS = [c.name for c in Call.__table__.columns if c.name != "id"]


@pytest.fixture
def listener(migrated_db) -> CdrListener:
    return CdrListener(db.session_factory(migrated_db))


def epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def row(listener: CdrListener, uniqueid: str) -> dict:
    with listener.session_factory() as s:
        call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
        assert call is not None, f"no row for {uniqueid}"
        return {name: getattr(call, name) for name in COLUMNS}


def replay(listener: CdrListener, transcript: str) -> list[dict]:
    """Every event of the transcript (the listener ignores all but our UserEvents)."""
    events = load(transcript)
    for event in events:
        listener.apply(event)
    return events


def first_stamp(events: list[dict], user_event: str) -> float:
    return float(next(e for e in events if e.get("UserEvent") == user_event)["Timestamp"])


@pytest.mark.parametrize("transcript", ROWS)
def test_replayed_call_leaves_this_row(listener, transcript):
    events = replay(listener, transcript)
    got = row(listener, call_id(transcript))
    want = dict(ROWS[transcript])
    for name in TIMES:
        want[name] = None if want[name] is None else first_stamp(events, want[name])
    assert {k: epoch(got[k]) if k in TIMES else got[k] for k in want} == want
    entered = next(e for e in events if e.get("UserEvent") == "CallEntered")
    assert (got["caller_number"], got["access_number"], got["linkedid"]) == \
        ("13900001111", "10000", entered["Linkedid"])
    assert got["recording_path"].endswith(f"/{call_id(transcript)}.wav")


@pytest.mark.parametrize("transcript", ROWS)
def test_replaying_the_whole_call_again_changes_nothing(listener, transcript):
    replay(listener, transcript)
    once = row(listener, call_id(transcript))
    replay(listener, transcript)
    assert row(listener, call_id(transcript)) == once
    with listener.session_factory() as s:
        assert len(s.scalars(select(Call)).all()) == 1


def test_an_ami_clients_user_event_naming_no_agent_of_ours_changes_no_row(listener):
    """'1٣00' and a repeated Agent header (recorded from Asterisk) are not agent events of ours."""
    transcript = "no_answer_then_next_agent"
    replay(listener, transcript)
    before = row(listener, call_id(transcript))
    for event in load("ami_client_user_events"):
        if event["Agent"] != "1601":  # the malformed ones; the third is well-formed
            listener.apply(event)
    assert row(listener, call_id(transcript)) == before


def test_events_arriving_after_the_end_leave_the_ended_call_as_it_was(listener):
    """Asterisk's events reach us in order, but a replay after a reconnect may bring an agent's
    ringing again after the call ended: the ended call keeps the stage it ended in."""
    transcript = "answered_agent_hangs_up"
    events = replay(listener, transcript)
    ended = row(listener, call_id(transcript))
    for name in ("AgentRinging", "CallQueued"):
        listener.apply(next(e for e in events if e.get("UserEvent") == name))
    assert row(listener, call_id(transcript)) == ended
