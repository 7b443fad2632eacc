"""When a coach and its drivers are away: from departure until back at the depot, rested.

A coach that leaves Linfen for Kunshan drives about 20 hours out (coach speeds and the rest
rules of DOMAIN.md, services/timing.py), unloads, drives back empty under the same rules and
rests a day: it cannot take the next morning's bus, and neither can its drivers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
