"""Quiet hours as pure time logic: the window may cross midnight and is read in local time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.notify.quiet_hours import in_quiet_hours, next_allowed_time, parse_quiet_hours

TZ = "Asia/Shanghai"
NIGHT = (22 * 60, 7 * 60)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def test_parse_reads_minutes_after_midnight_and_nothing_as_none():
    assert parse_quiet_hours("22:00-07:00") == NIGHT
    assert parse_quiet_hours(" 12:30 - 13:45 ") == (750, 825)
    assert parse_quiet_hours("") is None and parse_quiet_hours(None) is None


@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [(21, 59, False), (22, 0, True), (23, 30, True), (0, 0, True), (6, 59, True), (7, 0, False)],
)
def test_a_window_across_midnight_is_read_in_local_time(hour, minute, inside):
    assert in_quiet_hours(local(1, hour, minute), NIGHT, TZ) is inside


def test_a_daytime_window_an_empty_one_and_none():
    assert in_quiet_hours(local(1, 13), (12 * 60, 14 * 60), TZ)
    assert not in_quiet_hours(local(1, 14), (12 * 60, 14 * 60), TZ)
    assert not in_quiet_hours(local(1, 23), (420, 420), TZ)
    assert not in_quiet_hours(local(1, 23), None, TZ)


def test_next_allowed_time_is_the_end_of_the_window_or_the_moment_itself():
    assert next_allowed_time(local(1, 23, 30), NIGHT, TZ) == local(2, 7)
    assert next_allowed_time(local(2, 3), NIGHT, TZ) == local(2, 7)
    assert next_allowed_time(local(1, 12), NIGHT, TZ) == local(1, 12)
    assert next_allowed_time(local(1, 23), None, TZ) == local(1, 23)
    assert next_allowed_time(local(1, 23, 30), NIGHT, TZ).tzinfo == UTC
