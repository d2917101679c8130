"""Deadlines on the business calendar (hours, weekdays, holidays), their flags and the policy file.

Times in the tables are the center's local time (Asia/Shanghai, UTC+8); the office opens 09:00-18:00
Monday to Friday, 2026-10-01 (a Thursday) is a holiday and Saturday 2026-10-10 is worked instead.
"""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from callcenter.orders.calendar import BusinessCalendar, CalendarError
from callcenter.orders.deadlines import Policy, PolicyError, Span, escalation_level, flag, order_flags, resumed

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = """timezone = "Asia/Shanghai"
open = "09:00"
close = "18:00"
holidays = ["2026-10-01"]
[back_office]
workdays = [1, 2, 3, 4, 5]
extra_workdays = ["2026-10-10"]
"""


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


def shown(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %a %H:%M")


@pytest.fixture
def calendar(tmp_path) -> BusinessCalendar:
    path = tmp_path / "business_hours.toml"
    path.write_text(HOURS)
    return BusinessCalendar.load(path)


# start (local)      | business time | deadline (local)
ADD = """
2026-11-20 10:00 | 4h   | 2026-11-20 Fri 14:00
2026-11-20 16:00 | 4h   | 2026-11-23 Mon 11:00
2026-11-21 11:00 | 1h   | 2026-11-23 Mon 10:00
2026-11-20 20:00 | 0m   | 2026-11-23 Mon 09:00
2026-11-20 08:00 | 9h   | 2026-11-20 Fri 18:00
2026-11-20 10:00 | 1d   | 2026-11-23 Mon 10:00
2026-11-20 10:00 | 15d  | 2026-12-11 Fri 10:00
2026-09-30 17:00 | 2h   | 2026-10-02 Fri 10:00
2026-09-30 10:00 | 24h  | 2026-10-05 Mon 16:00
2026-10-09 17:30 | 1h   | 2026-10-10 Sat 09:30
"""


@pytest.mark.parametrize("row", ADD.strip().splitlines())
def test_business_time_skips_nights_weekends_and_holidays(calendar, row):
    start, amount, expected = [c.strip() for c in row.split("|")]
    assert shown(calendar.add(local(start), Span.parse(amount, "t").length(calendar))) == expected


# from (local)      | to (local)       | business time between
BETWEEN = """
2026-11-20 10:00 | 2026-11-20 12:30 | 2:30:00
2026-11-20 17:00 | 2026-11-23 10:00 | 2:00:00
2026-09-30 17:00 | 2026-10-02 09:30 | 1:30:00
2026-11-23 10:00 | 2026-11-20 10:00 | 0:00:00
"""


@pytest.mark.parametrize("row", BETWEEN.strip().splitlines())
def test_business_time_between_two_moments(calendar, row):
    start, end, expected = [c.strip() for c in row.split("|")]
    assert str(calendar.between(local(start), local(end))) == expected


def test_add_and_between_agree(calendar):
    start = local("2026-09-29 15:20")
    for hours in (1, 5, 9, 30, 100):
        assert calendar.between(start, calendar.add(start, timedelta(hours=hours))) == timedelta(hours=hours)


def test_the_hotline_files_defaults_make_a_24_hour_weekday_office(tmp_path):
    path = tmp_path / "business_hours.toml"
    path.write_text('timezone = "Asia/Shanghai"\n')
    calendar = BusinessCalendar.load(path)
    assert calendar.day_length == timedelta(hours=24)
    assert shown(calendar.add(local("2026-11-20 20:00"), timedelta(hours=24))) == "2026-11-23 Mon 20:00"


@pytest.mark.parametrize("office, words", [
    ("workdays = []\n", "no working day"),
    ("workdays = [0, 8]\n", "ISO weekdays"),
    ('open = "18:00"\nclose = "09:00"\n', "after open"),
    ('open = "nine"\n', "back_office"),
])
def test_a_broken_calendar_says_what_is_wrong(tmp_path, office, words):
    path = tmp_path / "business_hours.toml"
    path.write_text('timezone = "Asia/Shanghai"\n[back_office]\n' + office)
    with pytest.raises(CalendarError, match=words):
        BusinessCalendar.load(path)


def test_an_office_closed_on_every_date_stops_instead_of_looping(tmp_path):
    calendar = BusinessCalendar(SHANGHAI, datetime.min.time(), None, frozenset(), frozenset(), frozenset({"2000-01-01"}))
    with pytest.raises(CalendarError, match="no working time"):
        calendar.add(local("2026-11-20 10:00"), timedelta(hours=1))


# type           | priority | opened (local)   | reply due            | resolve due
# (complaint: 24h / 15d, urgent a quarter of it; fault_phone: 4h / 2d, high half; biz_suspend 8h / 1d, low x1.5)
DEADLINES = """
complaint        | normal   | 2026-11-20 10:00 | 2026-11-24 Tue 16:00 | 2026-12-11 Fri 10:00
complaint        | urgent   | 2026-11-20 10:00 | 2026-11-20 Fri 16:00 | 2026-11-25 Wed 16:45
fault_phone      | normal   | 2026-11-20 16:00 | 2026-11-23 Mon 11:00 | 2026-11-24 Tue 16:00
fault_phone      | high     | 2026-11-20 16:00 | 2026-11-20 Fri 18:00 | 2026-11-23 Mon 16:00
biz_suspend      | low      | 2026-09-30 17:00 | 2026-10-05 Mon 11:00 | 2026-10-05 Mon 12:30
"""


@pytest.mark.parametrize("row", DEADLINES.strip().splitlines())
def test_default_deadlines_per_type_and_priority(calendar, row):
    code, priority, opened, reply, resolve = [c.strip() for c in row.split("|")]
    due = Policy().deadlines(code, priority, local(opened), calendar)
    assert (shown(due.reply_due), shown(due.resolve_due)) == (reply, resolve)
    assert due.reply_warn < due.reply_due and due.resolve_warn < due.resolve_due


def test_the_policy_file_overrides_a_type_and_one_of_its_priorities(calendar):
    policy = Policy.from_mapping({
        "warn_fraction": 0.5, "close_after": "2d",
        "deadlines": {"complaint": {"reply": "2h", "resolve": "10d", "urgent": {"reply": "30m"}}}})
    opened = local("2026-11-20 10:00")
    normal = policy.deadlines("complaint", "normal", opened, calendar)
    assert shown(normal.reply_due) == "2026-11-20 Fri 12:00" and shown(normal.reply_warn) == "2026-11-20 Fri 11:00"
    assert shown(normal.resolve_due) == "2026-12-04 Fri 10:00"
    urgent = policy.deadlines("complaint", "urgent", opened, calendar)
    assert shown(urgent.reply_due) == "2026-11-20 Fri 10:30"  # exact, not scaled
    assert shown(urgent.resolve_due) == "2026-11-24 Tue 14:30"  # 10d scaled by a quarter: 22.5 h
    assert shown(policy.close_due(opened, calendar)) == "2026-11-24 Tue 10:00"


@pytest.mark.parametrize("data, words", [
    ({"warn_fraction": 1}, "warn_fraction"),
    ({"warn_fraction": "0.2"}, "warn_fraction"),
    ({"close_after": "3 days"}, "close_after"),
    ({"priority_factor": {"vip": 2}}, "priority_factor.vip"),
    ({"priority_factor": {"high": 0}}, "priority_factor.high"),
    ({"deadlines": {"fault_tv": {"reply": "1h"}}}, "deadlines.fault_tv"),
    ({"deadlines": {"complaint": {"reply": "-1h"}}}, "deadlines.complaint.reply"),
    ({"deadlines": {"complaint": {"answer": "1h"}}}, "unknown key 'answer'"),
    ({"deadlines": {"complaint": {"asap": {"reply": "1h"}}}}, "deadlines.complaint.asap"),
])
def test_a_broken_policy_names_its_key(data, words):
    with pytest.raises(PolicyError, match=words):
        Policy.from_mapping(data)


def test_the_policy_file_is_optional_and_read_as_toml(tmp_path):
    assert Policy.load(tmp_path / "work_orders.toml") == Policy()
    (tmp_path / "work_orders.toml").write_text('close_after = "5d"\n[deadlines.billing]\nresolve = "2d"\n')
    assert Policy.load(tmp_path / "work_orders.toml").close_after == Span(5, "d")
    (tmp_path / "work_orders.toml").write_text("close_after = \n")
    with pytest.raises(PolicyError, match="work_orders.toml"):
        Policy.load(tmp_path / "work_orders.toml")


# now (local)      | due (local)      | warn (local)     | done | flag
FLAGS = """
2026-11-20 10:00 | 2026-11-20 14:00 | 2026-11-20 13:00 | no   | ok
2026-11-20 13:00 | 2026-11-20 14:00 | 2026-11-20 13:00 | no   | near
2026-11-20 14:00 | 2026-11-20 14:00 | 2026-11-20 13:00 | no   | overdue
2026-11-21 14:00 | 2026-11-20 14:00 | 2026-11-20 13:00 | yes  | -
"""


@pytest.mark.parametrize("row", FLAGS.strip().splitlines())
def test_flags(row):
    now, due, warn, done, expected = [c.strip() for c in row.split("|")]
    assert (flag(local(now), local(due), local(warn), done == "yes") or "-") == expected


def test_order_flags_and_escalation_levels():
    now = local("2026-11-20 15:00")
    times = dict(reply_due=local("2026-11-20 14:00"), reply_warn=local("2026-11-20 13:00"),
                 resolve_due=local("2026-11-25 14:00"), resolve_warn=local("2026-11-24 14:00"))
    late = order_flags(now, **times, replied=False, paused=False, open_=True)
    assert late == {"reply": "overdue", "resolve": "ok", "worst": "overdue"} and escalation_level(late) == 2
    replied = order_flags(now, **times, replied=True, paused=False, open_=True)
    assert replied["worst"] == "ok" and escalation_level(replied) == 0
    waiting = order_flags(local("2026-11-26 10:00"), **times, replied=True, paused=True, open_=True)
    assert waiting["worst"] is None  # the customer's time does not count against us
    assert order_flags(now, **times, replied=False, paused=False, open_=False)["worst"] is None


def test_waiting_for_the_customer_moves_the_deadline_by_the_business_time_waited(calendar):
    due = local("2026-11-20 16:00")
    # paused Friday 15:00 with one business hour left; resumed Monday 11:00: due Monday 12:00
    assert shown(resumed(calendar, local("2026-11-20 15:00"), local("2026-11-23 11:00"), due)) == "2026-11-23 Mon 12:00"
    # already past when paused: stays where it was
    assert resumed(calendar, local("2026-11-20 17:00"), local("2026-11-23 11:00"), due) == due


def test_the_file_written_on_first_use_gives_a_weekday_calendar(tmp_path):
    calendar = BusinessCalendar.load(tmp_path / "new" / "business_hours.toml")
    assert "[back_office]" in (tmp_path / "new" / "business_hours.toml").read_text()
    assert calendar.workdays == frozenset({1, 2, 3, 4, 5}) and calendar.day_length == timedelta(hours=24)
