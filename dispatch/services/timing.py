"""Estimated stop times of a coach (pure): coach speeds plus the legal rests of DOMAIN.md.

Long-distance rules (《道路旅客运输企业安全管理规范》): a rest of 20 minutes after every
4 hours of driving, and no driving between 02:00 and 05:00 local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

EXPRESSWAY_KMH = 80.0
LOCAL_KMH = 45.0  # between nearby county pickup points
LOCAL_LEG_KM = 120.0  # shorter legs are driven on county roads
PICKUP_DWELL = timedelta(minutes=15)
DROPOFF_DWELL = timedelta(minutes=10)
MAX_CONTINUOUS = timedelta(hours=4)
REST = timedelta(minutes=20)
NIGHT_STOP = (time(2, 0), time(5, 0))


@dataclass
class _Clock:
    now: datetime  # local, aware
    driven: timedelta = timedelta()  # since the last rest

    def drive(self, duration: timedelta) -> None:
        while duration > timedelta():
            self._night_stop()
            step = min(duration, MAX_CONTINUOUS - self.driven, self._until_night())
            self.now += step
            self.driven += step
            duration -= step
            if self.driven >= MAX_CONTINUOUS:
                self.rest(REST)

    def rest(self, duration: timedelta) -> None:
        self.now += duration
        if duration >= REST:
            self.driven = timedelta()

    def _night_stop(self) -> None:
        if NIGHT_STOP[0] <= self.now.time() < NIGHT_STOP[1]:
            self.now = self.now.replace(hour=NIGHT_STOP[1].hour, minute=0, second=0, microsecond=0)
            self.driven = timedelta()

    def _until_night(self) -> timedelta:
        start = self.now.replace(hour=NIGHT_STOP[0].hour, minute=0, second=0, microsecond=0)
        if start <= self.now:
            start += timedelta(days=1)
        return start - self.now


def leg_duration(km: float) -> timedelta:
    """Driving time of one leg at the speed of the roads it likely uses."""
    speed = LOCAL_KMH if km < LOCAL_LEG_KM else EXPRESSWAY_KMH
    return timedelta(hours=km / speed)


def stop_times(departure: datetime, legs_km: list[float], kinds: list[str]) -> list[datetime]:
    """Arrival time at each stop; the first stop's time is the departure itself.

    ``legs_km[i]`` is the distance from stop i-1 to stop i (``legs_km[0]`` is ignored);
    ``kinds[i]`` is "pickup" or "dropoff". Times are aware, in ``departure``'s zone.
    """
    clock = _Clock(departure)
    times = [departure]
    for km, previous_kind in zip(legs_km[1:], kinds, strict=False):
        clock.rest(PICKUP_DWELL if previous_kind == "pickup" and len(times) > 1 else timedelta())
        if previous_kind == "dropoff":
            clock.rest(DROPOFF_DWELL)
        clock.drive(leg_duration(km))
        times.append(clock.now)
    return times
