"""When a coach and its drivers are away: from departure until back at the depot, rested.

A coach that leaves Linfen for Kunshan drives about 20 hours out (coach speeds and the rest
rules of DOMAIN.md, services/timing.py), unloads, drives back empty under the same rules and
rests a day: it cannot take the next morning's bus, and neither can its drivers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from dispatch.extensions import db
from dispatch.models import Coach, Driver, Plan, Site, Trip
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.services.timing import stop_times

ROAD_FACTOR = 1.27  # road km per great-circle km on expressways (DOMAIN.md)
UNLOADING = timedelta(hours=1)  # hand-over at the last gate before the empty return
REST_DAY = timedelta(days=1)
LOOK_AROUND = timedelta(days=8)  # no trip of the season lasts longer, return and rest included
ZONE = ZoneInfo("Asia/Shanghai")  # the rest rules' night stop is local time in Linfen


@dataclass(frozen=True)
class Window:
    """A trip's time away: from departure until its coach and crew are free again."""

    trip_id: int
    code: str
    date: date
    start: datetime
    end: datetime

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end


def road_km(a: Site, b: Site) -> float:
    """Estimated road distance between two sites."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h)) * ROAD_FACTOR


def busy_window(trip: Trip, depot: Site | None = None) -> Window:
    """The trip's time away; the coach returns to ``depot`` (default: its depot, else the first stop)."""
    start = trip.departure_at.astimezone(ZONE)
    if not trip.stops:
        return Window(trip.id, trip.code, trip.date, start, start + REST_DAY)
    last = trip.stops[-1]
    home = depot or _depot(trip) or trip.stops[0].site
    unloaded = last.eta.astimezone(ZONE) + UNLOADING
    back = stop_times(unloaded, [0.0, road_km(last.site, home)], ["pickup", "pickup"])[-1]
    return Window(trip.id, trip.code, trip.date, start, back + REST_DAY)


def _depot(trip: Trip) -> Site | None:
    coach = trip.coach
    return db.session.get(Site, coach.depot_site_id) if coach and coach.depot_site_id else None


def coach_clash(trip: Trip, coach: Coach) -> Window | None:
    """Another live trip whose time away overlaps this one's with the same coach, or None."""
    return _clash(trip, Trip.coach_id == coach.id, coach.depot_site_id)


def driver_clash(trip: Trip, driver: Driver, depot_site_id: str | None = None) -> Window | None:
    """Another live trip whose time away overlaps this one's with this driver, or None."""
    return _clash(
        trip, or_(Trip.driver1_id == driver.id, Trip.driver2_id == driver.id), depot_site_id
    )


def _clash(trip: Trip, holds, depot_site_id: str | None) -> Window | None:
    depot = db.session.get(Site, depot_site_id) if depot_site_id else None
    mine = busy_window(trip, depot)
    for other in _live_trips_around(trip, holds):
        theirs = busy_window(other)
        if mine.overlaps(theirs):
            return theirs
    return None


def _live_trips_around(trip: Trip, holds) -> list[Trip]:
    """Trips that really run (published plans, or the trip's own draft), near the trip's dates."""
    query = (
        select(Trip)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(holds, Trip.id != trip.id, Trip.cancelled_at.is_(None))
        .where(or_(Plan.status == PLAN_PUBLISHED, Trip.plan_id == trip.plan_id))
        .where(Trip.date >= trip.date - LOOK_AROUND, Trip.date <= trip.date + LOOK_AROUND)
        .order_by(Trip.departure_at)
    )
    return list(db.session.scalars(query))


def busy_around(trip: Trip) -> tuple[set[int], set[int]]:
    """Coaches and drivers away on other live trips overlapping this one (its own depot assumed)."""
    mine = busy_window(trip)
    coaches: set[int] = set()
    drivers: set[int] = set()
    for other in _live_trips_around(trip, Trip.id.is_not(None)):
        crewed = other.coach_id or other.driver1_id or other.driver2_id
        if crewed and mine.overlaps(busy_window(other)):
            coaches |= {other.coach_id} - {None}
            drivers |= {other.driver1_id, other.driver2_id} - {None}
    return coaches, drivers


def lock_crew(coach_id: int | None, driver_ids: list[int]) -> None:
    """Hold the coach's and drivers' rows until commit, so two assignments at once are decided
    one after the other (PostgreSQL; SQLite lets one writer at a time anyway)."""
    if coach_id:
        db.session.execute(select(Coach.id).where(Coach.id == coach_id).with_for_update())
    for driver_id in sorted(set(driver_ids)):  # one order everywhere: no deadlock
        db.session.execute(select(Driver.id).where(Driver.id == driver_id).with_for_update())


def return_date(trip: Trip) -> date:
    """The local date the trip's last stop is reached (certificates must be valid until then)."""
    when = trip.stops[-1].eta if trip.stops else trip.departure_at
    return when.astimezone(ZONE).date()


# --- The fleet the planner may use: coaches and drivers free for a trip leaving on a day ---


@dataclass(frozen=True)
class FreeFleet:
    """Per day: coaches free by type, and how many buses the free drivers can crew (None: no limit)."""

    coaches: dict[date, dict[str, int]]
    crews: dict[date, int | None]


def away_span(km: float, start: datetime) -> timedelta:
    """Time away for a bus leaving at ``start`` for a stop ``km`` away: out, unloading, back, rest."""
    arrived = stop_times(start, [0.0, km], ["pickup", "dropoff"])[-1] + UNLOADING
    back = stop_times(arrived, [0.0, km], ["pickup", "pickup"])[-1]
    return back + REST_DAY - start


def drivers_needed(km: float) -> int:
    """Drivers a bus needs: two over 400 km (DOMAIN.md)."""
    return 2 if km > 400 else 1


def free_fleet(days: list[date], departure: time, span: timedelta, per_bus: int) -> FreeFleet:
    """Coaches and crews free for a bus leaving on each day and away for ``span``.

    Busy means on a bus of a published plan (not cancelled) whose time away overlaps; a
    published bus with no coach or too few drivers yet holds one coach of its type and the
    drivers it lacks. Certificates must be valid on the day.
    """
    trips = _published_trips(days[0] - LOOK_AROUND, days[-1] + LOOK_AROUND) if days else []
    windows = [(trip, busy_window(trip)) for trip in trips]
    coaches = list(db.session.scalars(select(Coach).where(Coach.active.is_(True))))
    drivers = list(db.session.scalars(select(Driver).where(Driver.active.is_(True))))
    any_driver = db.session.scalar(select(Driver.id).limit(1)) is not None
    fleet = FreeFleet({}, {})
    for day in days:
        start = datetime.combine(day, departure, tzinfo=ZONE)
        away = [(trip, w) for trip, w in windows if w.start < start + span and start < w.end]
        fleet.coaches[day] = _free_coaches(coaches, away, day)
        fleet.crews[day] = _free_crews(drivers, away, day, per_bus) if any_driver else None
    return fleet


def _published_trips(first: date, last: date) -> list[Trip]:
    query = (
        select(Trip)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(Plan.status == PLAN_PUBLISHED, Trip.cancelled_at.is_(None))
        .where(Trip.date >= first, Trip.date <= last)
    )
    return list(db.session.scalars(query))


def _free_coaches(coaches: list[Coach], away: list, day: date) -> dict[str, int]:
    busy = {trip.coach_id for trip, _ in away if trip.coach_id}
    free: dict[str, int] = {}
    for coach in coaches:
        if coach.id not in busy and (
            coach.certificate_expires is None or coach.certificate_expires >= day
        ):
            free[coach.coach_type_id] = free.get(coach.coach_type_id, 0) + 1
    for trip, _ in away:  # a published bus still without a coach will take one of its type
        if not trip.coach_id:
            free[trip.coach_type_id] = max(0, free.get(trip.coach_type_id, 0) - 1)
    return free


def _free_crews(drivers: list[Driver], away: list, day: date, per_bus: int) -> int:
    busy = {i for trip, _ in away for i in (trip.driver1_id, trip.driver2_id) if i}
    free = sum(
        1
        for d in drivers
        if d.id not in busy and (d.qualification_expires is None or d.qualification_expires >= day)
    )
    lacking = sum(
        max(0, drivers_needed(trip.km) - len([i for i in (trip.driver1_id, trip.driver2_id) if i]))
        for trip, _ in away
    )  # published buses not yet fully crewed will take drivers too
    return max(0, free - lacking) // per_bus
