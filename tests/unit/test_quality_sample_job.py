"""The scheduled weekly quality draw (quality/sample_job.py, issue 13): the time is passed in, so
no test sleeps. It draws the due week once, spreads the calls among the active inspectors with no
call on two lists, skips (and logs) when there is no inspector, and a second draw lists 0."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callcenter import db
from callcenter.models import AuditEntry, Call, CallTransfer, QualityWorkItem, User
from quality import sample_job
from quality.config import Sampling
from quality.sample_job import Schedule, draw_pass, due_week

CENTER = ZoneInfo("Asia/Shanghai")
LAST_WEEK, THIS_WEEK = "2026-W47", "2026-W48"
# Monday 2026-11-23 on the center's clock; draws are due from 02:00 there (the defaults)
MONDAY = datetime(2026, 11, 23, tzinfo=CENTER)
RULES = Sampling(share=0.0, seed="t")  # no random share: exactly the transferred calls are picked


def at(days: float = 0, hours: float = 0) -> datetime:
    return (MONDAY + timedelta(days=days, hours=hours)).astimezone(timezone.utc)


@pytest.fixture
def sessions(migrated_db):
    return db.session_factory(migrated_db)


def add_inspectors(sessions, *names, active=True):
    with sessions() as s:
        for name in names:
            s.add(User(username=name, display_name=name, role="quality", password_hash="-", active=active))
        s.commit()


def add_calls(sessions, n: int, start: datetime, prefix: str = "c"):
    """n answered, transferred calls (each one picked by the transfer rule) from `start`."""
    with sessions() as s:
        for i in range(n):
            t = start + timedelta(minutes=i)
            uid = f"{prefix}.{i}"
            s.add(Call(uniqueid=uid, caller_number=f"1390000{i:04d}", started_at=t, answered_at=t,
                       ended_at=t + timedelta(minutes=2), agent_extension="1001"))
            s.add(CallTransfer(call_uniqueid=uid, from_extension="1001", to_skill="billing", at=t))
        s.commit()


def listed(sessions) -> dict[str, str]:
    with sessions() as s:
        return dict(s.execute(select(QualityWorkItem.call_uniqueid, QualityWorkItem.inspector)).all())


@pytest.mark.parametrize("rules, when, week", [
    (RULES, at(hours=1), None),  # Monday 01:00: before the draw hour
    (RULES, at(hours=2), LAST_WEEK),  # Monday 02:00: last week is due
    (RULES, at(days=6, hours=23), LAST_WEEK),  # all week long the same week
    (RULES, at(days=7, hours=2), THIS_WEEK),  # next Monday: the week after
    (Sampling(draw_week="current", draw_weekday=7, draw_hour=22), at(days=6, hours=21), None),
    (Sampling(draw_week="current", draw_weekday=7, draw_hour=22), at(days=6, hours=22), THIS_WEEK),
    (Sampling(draw_week="off"), at(days=3), None),
    # the center's clock, not UTC: Sunday 19:00 UTC is already Monday 03:00 in Shanghai
    (RULES, datetime(2026, 11, 22, 19, 0, tzinfo=timezone.utc), LAST_WEEK),
])
def test_the_due_week_follows_the_setting_on_the_centers_clock(rules, when, week):
    assert due_week(when, CENTER, rules) == week


def test_the_job_draws_each_week_once_and_spreads_the_calls_among_inspectors(sessions):
    add_inspectors(sessions, "qa1", "qa2", "qa3")
    add_inspectors(sessions, "qa_gone", active=False)  # an inactive inspector gets nothing
    add_calls(sessions, 7, at(days=-6), prefix="w47")
    schedule = Schedule()
    assert draw_pass(sessions, CENTER, RULES, at(hours=1), schedule) is None  # not yet due
    assert listed(sessions) == {}

    drawn = draw_pass(sessions, CENTER, RULES, at(hours=3), schedule)
    assert (drawn.week, drawn.listed) == (LAST_WEEK, 7)
    assert drawn.per_inspector == {"qa1": 3, "qa2": 2, "qa3": 2}  # fewest open first, ties by name
    owners = listed(sessions)
    assert set(owners) == {f"w47.{i}" for i in range(7)} and set(owners.values()) == {"qa1", "qa2", "qa3"}

    # later that week: already drawn, nothing read again, even with new calls of last week
    add_calls(sessions, 2, at(days=-5), prefix="late")
    assert draw_pass(sessions, CENTER, RULES, at(days=3), schedule) is None
    assert set(listed(sessions)) == set(owners)

    # next week's draw: the week after, given first to whoever has the fewest open entries
    with sessions() as s:  # qa1 scored everything on their list: no open entries left
        for item in s.scalars(select(QualityWorkItem).where(QualityWorkItem.inspector == "qa1")):
            item.status = "scored"
        s.commit()
    add_calls(sessions, 2, at(days=1), prefix="w48")
    drawn = draw_pass(sessions, CENTER, RULES, at(days=7, hours=2), schedule)
    assert (drawn.week, drawn.listed, drawn.per_inspector) == (THIS_WEEK, 2, {"qa1": 2})
    with sessions() as s:
        audited = s.scalars(select(AuditEntry.target).where(AuditEntry.actor == "scheduler",
                                                            AuditEntry.action == "quality_sample")).all()
    assert audited == [LAST_WEEK, THIS_WEEK]


def test_a_second_draw_of_a_week_lists_nothing(sessions):
    """A restarted process (a fresh schedule) or a second push process draws the week again: 0."""
    add_inspectors(sessions, "qa1", "qa2")
    add_calls(sessions, 4, at(days=-6))
    first = draw_pass(sessions, CENTER, RULES, at(hours=2), Schedule())
    before = listed(sessions)
    again = draw_pass(sessions, CENTER, RULES, at(hours=5), Schedule())
    assert (first.listed, again.week, again.listed, again.per_inspector) == (4, LAST_WEEK, 0, {})
    assert listed(sessions) == before  # nothing moved to another list
    with sessions() as s:
        per_call = s.execute(select(QualityWorkItem.call_uniqueid, func.count()).group_by(
            QualityWorkItem.call_uniqueid)).all()
    assert {n for _, n in per_call} == {1}


def test_with_no_inspector_nothing_is_drawn_it_is_logged_once_and_tried_again(sessions, caplog):
    add_inspectors(sessions, "qa_gone", active=False)
    add_calls(sessions, 3, at(days=-6))
    schedule = Schedule()
    with caplog.at_level(logging.WARNING, logger="quality.sample_job"):
        assert draw_pass(sessions, CENTER, RULES, at(hours=2), schedule) is None
        assert draw_pass(sessions, CENTER, RULES, at(hours=3), schedule) is None
    warnings = [r.getMessage() for r in caplog.records if r.name == "quality.sample_job"]
    assert len(warnings) == 1 and "no active inspector" in warnings[0] and LAST_WEEK in warnings[0]
    assert listed(sessions) == {}
    add_inspectors(sessions, "qa1")  # an inspector joins: the next pass draws the week
    drawn = draw_pass(sessions, CENTER, RULES, at(hours=4), schedule)
    assert (drawn.week, drawn.listed, drawn.per_inspector) == (LAST_WEEK, 3, {"qa1": 3})


def test_the_setting_off_never_draws(sessions):
    add_inspectors(sessions, "qa1")
    add_calls(sessions, 2, at(days=-6))
    assert draw_pass(sessions, CENTER, Sampling(share=0.0, draw_week="off"), at(days=2), Schedule()) is None
    assert listed(sessions) == {}


@pytest.mark.parametrize("key, value", [
    ("draw_week", "last"), ("draw_weekday", 0), ("draw_weekday", 8), ("draw_hour", 24), ("draw_hour", True)])
def test_bad_draw_settings_are_refused(key, value):
    import tomllib

    from callcenter.config import ConfigError
    from quality.config import DEFAULT_FILE, QualityConfig
    data = tomllib.loads(DEFAULT_FILE)
    assert QualityConfig.from_mapping(data).sampling.draw_week == "previous"
    data["sampling"][key] = value
    with pytest.raises(ConfigError):
        QualityConfig.from_mapping(data)


def test_the_push_process_runs_the_job_supervised():
    import inspect

    from agent_desktop import push
    assert 'supervise("quality-sample", lambda: sample_job.run(settings)' in inspect.getsource(push.run)


def test_each_pass_reads_the_settings_and_the_centers_zone(tmp_path, migrated_db, monkeypatch):
    """run(): one pass with quality.toml's rules and the business hours' zone, then a sleep (here
    the sleep ends the loop: nothing waits)."""
    import asyncio

    from callcenter.config import Settings
    seen = []
    monkeypatch.setattr(sample_job, "draw_pass", lambda _s, zone, rules, now, schedule: seen.append((zone, rules, now)))

    async def stop(_seconds):
        raise asyncio.CancelledError

    monkeypatch.setattr(sample_job.asyncio, "sleep", stop)
    (tmp_path / "quality.toml").write_text(
        __import__("quality.config", fromlist=["DEFAULT_FILE"]).DEFAULT_FILE.replace('draw_week = "previous"',
                                                                                      'draw_week = "current"'))
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(sample_job.run(Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})))
    [(zone, rules, now)] = seen
    assert (str(zone), rules.draw_week, now.tzinfo is not None) == ("Asia/Shanghai", "current", True)
