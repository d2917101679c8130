"""Business hours and the center's own day (its time zone decides where 'today' starts)."""
from __future__ import annotations

from datetime import datetime, timezone

from callcenter.business_hours import BusinessHours, start_of_today


def hours(tmp_path, text: str) -> BusinessHours:
    path = tmp_path / "business_hours.toml"
    path.write_text(text)
    return BusinessHours.load(path)


def test_today_starts_at_the_centers_midnight_not_utcs(tmp_path):
    shanghai = hours(tmp_path, 'timezone = "Asia/Shanghai"\n')
    # 23:00 UTC on the 22nd is already 07:00 on the 23rd in Shanghai: its day began at 16:00 UTC
    assert shanghai.start_of_day(datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)
    assert shanghai.start_of_day(datetime(2026, 11, 22, 15, 59, tzinfo=timezone.utc)) == \
        datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc)


def test_start_of_today_reads_the_homes_file(tmp_path):
    (tmp_path / "business_hours.toml").write_text('timezone = "Europe/London"\n')
    now = datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc).timestamp()  # 00:30 on the 2nd in summer time
    assert start_of_today(tmp_path, now) == datetime(2026, 7, 1, 23, 0, tzinfo=timezone.utc)


def test_open_hours_and_holidays(tmp_path):
    center = hours(tmp_path, 'timezone = "Asia/Shanghai"\nopen = "08:00"\nclose = "20:00"\n'
                             'holidays = ["2026-10-01"]\n')
    assert center.is_open(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))  # 09:00 local
    assert not center.is_open(datetime(2026, 11, 23, 12, 30, tzinfo=timezone.utc))  # 20:30 local
    assert not center.is_open(datetime(2026, 10, 1, 3, 0, tzinfo=timezone.utc))  # a holiday
