"""A departure day as it happens: boarding per bus, no-shows to follow up, welfare packs.

All of it reads the live trips of published plans; a coordinator's county scope limits
whose names appear (the per-bus totals are not personal and show whole buses).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.extensions import db
from dispatch.models import Plan, SeatAssignment, Site, Trip, TripStop, WelfareHandout, Worker
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.services.arrival import BusArrival, bus_arrival
from dispatch.services.manifest import Counts, counts, undo_open
from dispatch.services.notices.journeys import handout_opens  # the welfare reminder's window
from dispatch.services.reply_lists import ReplyCounts, ReplyRow, declined_replies, reply_counts


def live_trips(day: date) -> list[Trip]:
    """The running buses of published plans on ``day``, by departure."""
    query = (
        select(Trip)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(Plan.status == PLAN_PUBLISHED, Trip.date == day, Trip.cancelled_at.is_(None))
        .options(
            selectinload(Trip.seats)
            .selectinload(SeatAssignment.worker)
            .selectinload(Worker.county),
            selectinload(Trip.stops).selectinload(TripStop.site),
            selectinload(Trip.coach),
        )
        .order_by(Trip.departure_at, Trip.number, Trip.id)
    )
    return list(db.session.scalars(query))


def departure_days(around: date) -> list[date]:
    """Days with published buses, nearest to ``around`` first."""
    days = db.session.scalars(
        select(Trip.date)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(Plan.status == PLAN_PUBLISHED, Trip.cancelled_at.is_(None))
        .distinct()
    )
    return sorted(set(days), key=lambda d: (abs((d - around).days), d < around))


@dataclass
class BusProgress:
    trip: Trip
    counts: Counts
    replies: ReplyCounts = field(default_factory=ReplyCounts)  # answers to the departure notice

    @property
    def arrival(self) -> BusArrival:
        """Arrival at the drop-off stops (read from the bus's stops and seats, no query)."""
        return bus_arrival(self.trip)

    @property
    def waiting(self) -> int:
        return self.counts.expected - self.counts.boarded - self.counts.no_show


def progress(trips: Iterable[Trip]) -> list[BusProgress]:
    trips = list(trips)
    answers = reply_counts(trips)
    return [BusProgress(trip, counts(trip), answers[trip.id]) for trip in trips]


def declines(trips: Iterable[Trip], scope: set[str] | None) -> list[ReplyRow]:
    """Workers who answered "2" for these buses (those of the coordinator's counties)."""
    return declined_replies([t.id for t in trips], scope)


def no_shows(trips: Iterable[Trip], scope: set[str] | None) -> list[SeatAssignment]:
    """Passengers marked no-show, to be phoned (those of the coordinator's counties)."""
    found = [s for t in trips for s in t.seats if s.no_show_at is not None]
    return sorted(
        (s for s in found if scope is None or s.worker.county_id in scope),
        key=lambda s: (s.no_show_at, s.trip.number or 0, s.seat_no),
    )


@dataclass
class HandoutPoint:
    """Welfare packs at one pickup point on one day."""

    site: Site
    place: str
    opens: datetime
    closes: datetime
    seats: list[SeatAssignment] = field(default_factory=list)

    @property
    def to_prepare(self) -> int:
        return len(self.seats)

    @property
    def handed_out(self) -> int:
        return sum(1 for s in self.seats if s.pack_given_at is not None)

    @property
    def not_collected(self) -> list[SeatAssignment]:
        return [s for s in self.seats if s.pack_given_at is None]

    def just_handed(self, now: datetime) -> list[SeatAssignment]:
        """Packs handed out recently enough to be taken back (a tap on the wrong name)."""
        return sorted(
            (s for s in self.seats if undo_open(s, now)),
            key=lambda s: s.pack_given_at,
            reverse=True,
        )


def handout_points(day: date, trips: Iterable[Trip], scope: set[str] | None) -> list[HandoutPoint]:
    """Per pickup point: where and when packs are handed out, how many, and to whom.

    A bureau's WelfareHandout for the point and day gives the place and window; without
    one it is the hour before the first bus reaches the point, at the point itself.
    """
    handouts = {
        h.site_id: h
        for h in db.session.scalars(select(WelfareHandout).where(WelfareHandout.date == day))
    }
    points: dict[str, HandoutPoint] = {}
    for trip in trips:
        stops = {s.site_id: s for s in trip.stops if s.kind == "pickup"}
        for seat in trip.seats:
            worker = seat.worker
            if scope is not None and worker.county_id not in scope:
                continue
            stop = stops.get(worker.pickup_site_id)  # the worker's own point even if off the route
            site, eta = (stop.site, stop.eta) if stop else (worker.pickup_site, trip.departure_at)
            point = points.get(site.id)
            if point is None:
                handout = handouts.get(site.id)
                if handout is not None:
                    point = HandoutPoint(site, handout.place, handout.starts_at, handout.ends_at)
                else:
                    point = HandoutPoint(
                        site, site.address or site.name_zh, handout_opens(eta), eta
                    )
                points[site.id] = point
            elif handouts.get(site.id) is None:  # several buses: from before the first to the last
                point.opens = min(point.opens, handout_opens(eta))
                point.closes = max(point.closes, eta)
            point.seats.append(seat)
    for point in points.values():
        point.seats.sort(key=lambda s: (s.trip.code, s.seat_no))
    return sorted(points.values(), key=lambda p: (p.opens, p.site.name_zh))
