"""Quiet hours as pure time logic: a local window such as "22:00-07:00" (it may cross
midnight) inside which only urgent SMS go out. No database, no Flask."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

Window = tuple[int, int]  # (start, end) in minutes after local midnight


def clock_minutes(hhmm: str) -> int:
    """'07:30' → 450 minutes after midnight."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def parse_quiet_hours(value: str | None) -> Window | None:
    """'22:00-07:00' → (1320, 420) minutes; empty → None."""
    if not value:
        return None
    start, end = (part.strip() for part in value.split("-"))
    return clock_minutes(start), clock_minutes(end)


def in_quiet_hours(moment: datetime, window: Window | None, tz: str) -> bool:
    """Whether local wall-clock ``moment`` lies inside ``window`` (which may cross midnight)."""
    if window is None:
        return False
    local = moment.astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    start, end = window
    if start == end:
        return False
    return start <= minute < end if start < end else minute >= start or minute < end


def next_allowed_time(moment: datetime, window: Window | None, tz: str) -> datetime:
    """``moment`` itself outside quiet hours, else the end of the window it lies in."""
    if window is None or not in_quiet_hours(moment, window, tz):
        return moment
    local = moment.astimezone(ZoneInfo(tz))
    end = local.replace(hour=window[1] // 60, minute=window[1] % 60, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(moment.tzinfo)
