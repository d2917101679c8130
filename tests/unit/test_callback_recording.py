"""A call back's leg becomes a call row of its own with its recording (issue 11): built from the
CallbackEnded event cc-callback-hangup sends, so the push process registers that file."""
from __future__ import annotations

from datetime import datetime, timezone

from cdr.listener import fields_for_event


def callback_ended(**extra) -> dict:
    event = {"Event": "UserEvent", "UserEvent": "CallbackEnded", "Channel": "Local/1001@cc-agent-phones-0001;1",
             "Context": "cc-callback-hangup", "Uniqueid": "1790000000.77", "CallId": "1790000000.12",
             "DialStatus": "ANSWER", "Agent": "1001", "Number": "13800000001", "Started": "1790000100",
             "Recording": "/rec/2026/11/29/1790000000.77.wav", "Timestamp": "1790000160.5"}
    event.update(extra)
    return event


def test_an_answered_call_back_is_its_own_row_with_its_recording_linked_to_the_call_that_asked():
    uid, fields = fields_for_event(callback_ended())
    assert uid == "1790000000.77"  # the leg's own uniqueid: the asking call keeps its own recording
    assert fields["linkedid"] == "1790000000.12"
    assert fields["recording_path"] == "/rec/2026/11/29/1790000000.77.wav"
    assert fields["started_at"] == fields["answered_at"] == datetime.fromtimestamp(1790000100, tz=timezone.utc)
    assert fields["ended_at"] == datetime.fromtimestamp(1790000160.5, tz=timezone.utc)
    assert (fields["agent_extension"], fields["caller_number"], fields["stage"]) == ("1001", "13800000001", "callback")
    assert fields["end_reason"] == "caller_hangup"


def test_a_call_back_nobody_answered_still_has_the_recording_of_what_the_agent_heard():
    _, fields = fields_for_event(callback_ended(DialStatus="NOANSWER"))
    assert fields["recording_path"] and fields["started_at"] is not None
    assert fields["answered_at"] is None  # the customer never answered: no recording owed, none flagged
    assert fields["end_reason"] == "callback_not_answered"


def test_a_call_back_event_without_its_leg_or_start_makes_no_row():
    # the agent hung up before cc-callback-dial set its start (no recording was begun either)
    assert fields_for_event(callback_ended(Started="")) is None
    assert fields_for_event(callback_ended(Uniqueid="")) is None
    # not sent from the call back's hangup handler: not ours
    assert fields_for_event(callback_ended(Context="hotline")) is None


def test_the_call_back_agents_answer_leaves_the_asking_calls_row_alone():
    """Its AgentAnswered names the call that asked (ended long ago, maybe without an answer): an
    answer set there would have the push process flag that call's recording missing."""
    answered = {"Event": "UserEvent", "UserEvent": "AgentAnswered", "Channel": "Local/1001@cc-agent-phones-0001;1",
                "Context": "cc-callback-dial", "Uniqueid": "1790000000.77", "CallId": "1790000000.12",
                "Agent": "1001", "Timestamp": "1790000100"}
    assert fields_for_event(answered) is None
    from_the_queue = {**answered, "Context": "cc-agent-answered", "Uniqueid": "1790000000.12"}
    assert fields_for_event(from_the_queue)[1]["answered_at"] is not None


def test_the_reports_count_the_call_that_asked_not_the_call_backs_own_row(migrated_db):
    """The leg's row is the center calling out: the inbound figures (cdr/load.py) leave it out."""
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    from callcenter import db
    from callcenter.models import Call
    from cdr import load
    from cdr.periods import Period

    sessions = db.session_factory(migrated_db)
    now = datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)
    with sessions() as s:
        s.add(Call(uniqueid="asked", caller_number="13800000001", started_at=now, ended_at=now + timedelta(minutes=1),
                   stage="ivr", end_reason="ivr_ended"))
        s.add(Call(**{"uniqueid": "leg", **fields_for_event(callback_ended(
            Started=str(int((now + timedelta(minutes=5)).timestamp())),
            Timestamp=str((now + timedelta(minutes=6)).timestamp())))[1]}))
        s.commit()
        loaded = load.load(s, Period.local_days(date(2026, 11, 29), date(2026, 11, 29), ZoneInfo("Asia/Shanghai")),
                           now + timedelta(hours=1), 5)
    assert [f.uniqueid for f in loaded.facts] == ["asked"]
