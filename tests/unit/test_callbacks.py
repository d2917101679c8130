"""acd.callbacks on a real SQLite database: which requests are due, claimed once, tried again
after no answer and given up after the last try."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from acd import callbacks
from callcenter import db
from callcenter.models import Call, CallbackRequest

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(migrated_db):
    return db.session_factory(migrated_db)  # a copy of the session's migrated template


def add(sessions, uid, reason="out_of_hours", status="pending", number="13800000001", **fields) -> int:
    with sessions() as s:
        request = CallbackRequest(number=number, call_uniqueid=uid, reason=reason, status=status, language="zh",
                                  created_at=NOW - timedelta(hours=1), **fields)
        s.add(request)
        s.commit()
        return request.id


def status(sessions, request_id) -> tuple[str, int]:
    with sessions() as s:
        request = s.get(CallbackRequest, request_id)
        return request.status, request.attempts


def test_due_are_out_of_hours_requests_and_unanswered_ones_whose_time_has_come(sessions):
    add(sessions, "oh")  # left out of hours
    add(sessions, "live", reason="queue")  # a waiting caller's call back: already in the live queue
    add(sessions, "retry", reason="queue", status="no_answer", attempts=1, next_try_at=NOW - timedelta(minutes=1))
    add(sessions, "later", status="no_answer", attempts=1, next_try_at=NOW + timedelta(minutes=5))
    add(sessions, "spent", status="no_answer", attempts=callbacks.MAX_ATTEMPTS)
    add(sessions, "done", status="done", attempts=1)
    assert [d.uniqueid for d in callbacks.due_requests(sessions, NOW)] == ["oh", "retry"]


def test_a_request_keeps_the_skill_of_its_call(sessions):
    with sessions() as s:
        s.add(Call(uniqueid="retry", caller_number="13800000001", started_at=NOW, skill="billing"))
        s.commit()
    add(sessions, "retry", reason="queue", status="no_answer", attempts=1)
    add(sessions, "oh")
    assert {d.uniqueid: d.skill for d in callbacks.due_requests(sessions, NOW)} == {"retry": "billing",
                                                                                    "oh": "general"}


def test_a_request_is_claimed_once_only(sessions):
    request_id = add(sessions, "oh")
    due = callbacks.due_requests(sessions, NOW)[0]
    assert callbacks.claim(sessions, due) is True
    assert callbacks.claim(sessions, due) is False  # a second router read it too: it gets nothing
    assert status(sessions, request_id) == ("queued", 0)
    assert callbacks.due_requests(sessions, NOW) == []


def test_a_number_that_cannot_be_dialled_is_failed_not_queued(sessions):
    request_id = add(sessions, "oh", number="138;Dial(x)")
    assert callbacks.claim(sessions, callbacks.due_requests(sessions, NOW)[0]) is False
    assert status(sessions, request_id) == ("failed", 0)


def test_unanswered_is_tried_again_later_then_given_up(sessions):
    request_id = add(sessions, "oh", status="queued")
    assert callbacks.record_outcome(sessions, "oh", answered=False, now=NOW) == "no_answer"
    assert callbacks.due_requests(sessions, NOW) == []  # not before the retry time
    later = NOW + timedelta(seconds=callbacks.RETRY_AFTER_S)
    assert [d.uniqueid for d in callbacks.due_requests(sessions, later)] == ["oh"]
    for attempt in range(2, callbacks.MAX_ATTEMPTS + 1):
        expected = "failed" if attempt == callbacks.MAX_ATTEMPTS else "no_answer"
        later = NOW + timedelta(seconds=callbacks.RETRY_AFTER_S * (attempt - 1))
        assert callbacks.claim(sessions, callbacks.due_requests(sessions, later)[0])  # the next try
        assert callbacks.record_outcome(sessions, "oh", answered=False, now=later) == expected
    assert status(sessions, request_id) == ("failed", callbacks.MAX_ATTEMPTS)
    assert callbacks.due_requests(sessions, later + timedelta(days=1)) == []


def test_a_tries_outcome_heard_by_two_routers_counts_once(sessions):
    request_id = add(sessions, "oh", status="queued")
    assert callbacks.record_outcome(sessions, "oh", answered=False, now=NOW) == "no_answer"
    assert callbacks.record_outcome(sessions, "oh", answered=False, now=NOW) == ""  # the other router
    assert status(sessions, request_id) == ("no_answer", 1)


def test_answered_is_done(sessions):
    request_id = add(sessions, "oh", status="queued")
    assert callbacks.record_outcome(sessions, "oh", answered=True, now=NOW) == "done"
    assert status(sessions, request_id) == ("done", 1)


def test_a_request_without_a_call_is_known_by_its_id(sessions):
    request_id = add(sessions, None)
    due = callbacks.due_requests(sessions, NOW)[0]
    assert due.uniqueid == f"callback-request-{request_id}"
    assert callbacks.record_outcome(sessions, due.uniqueid, answered=True, now=NOW) == "done"
    assert callbacks.record_outcome(sessions, "callback-request-x", answered=True, now=NOW) == ""


def test_queued_requests_lost_with_redis_are_due_again_at_start(sessions):
    lost = add(sessions, "lost", status="queued")
    live = add(sessions, "live", status="queued")
    assert callbacks.requeue_lost(sessions, {"live"}) == 1
    assert status(sessions, lost) == ("no_answer", 0) and status(sessions, live) == ("queued", 0)
    assert [d.uniqueid for d in callbacks.due_requests(sessions, NOW)] == ["lost"]


def test_a_call_back_closed_by_another_router_while_a_start_looks_keeps_its_outcome(sessions, monkeypatch):
    """Issue 15: a router starting (requeue_lost) while the other closes a call back. The close
    lands between the start's read and its write; the request stays done, not due again."""
    closing = add(sessions, "closing", status="queued")
    read_by_start = callbacks.live_id

    def read_while_the_other_router_closes(request):
        if request.call_uniqueid == "closing" and status(sessions, closing)[0] == "queued":
            assert callbacks.record_outcome(sessions, "closing", answered=True, now=NOW) == "done"
        return read_by_start(request)

    monkeypatch.setattr(callbacks, "live_id", read_while_the_other_router_closes)
    assert callbacks.requeue_lost(sessions, set()) == 0  # gone from Redis, but done by then
    assert status(sessions, closing) == ("done", 1)
    assert callbacks.due_requests(sessions, NOW) == []
