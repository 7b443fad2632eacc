"""A stored plan as it stands now, as the planner's problem and plan (for checking changes to it).

The problem is rebuilt from the plan's buses and seats, not read back from the problem it was
planned from: seats moved by hand since then count, a travel group is the members of one group
code on one bus, and its window is what its workers' windows share today. The fleet (with the
coaches free per day), the rules and the distance rule are the stored problem's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from dispatch.extensions import db
from dispatch.models import CoachType, Plan, SeatAssignment, Site, Trip, Worker
from dispatch.planner import model as pm
from dispatch.services import topup
from dispatch.services.plan_problem import RULES


@dataclass(frozen=True)
class Snapshot:
    """A plan as the planner sees it, and the stored rows behind each id."""

    problem: pm.Problem
    plan: pm.Plan
    trips: dict[str, Trip]  # by code, with their stops (their seats load when asked for)
    members: dict[str, list[int]]  # group id → the ids of its workers
    seated: int
    locked_seats: frozenset[str]  # codes of the buses with a locked seat
    plan_id: int

    read: dict[str, list[SeatAssignment]] = field(default_factory=dict, repr=False)

    def seats_of(self, group: str) -> list[SeatAssignment]:
        """The seats (with their workers) of one group, read when a suggestion first names it."""
        if group not in self.read:
            self.read[group] = list(
                db.session.scalars(
                    select(SeatAssignment)
                    .where(
                        SeatAssignment.plan_id == self.plan_id,
                        SeatAssignment.worker_id.in_(self.members[group]),
                    )
                    .order_by(SeatAssignment.seat_no)
                )
            )
        return self.read[group]


class _Seat(NamedTuple):
    """A seat as the snapshot reads it: columns of the seat and of its worker."""

    trip_id: int
    seat_no: int
    locked: bool
    worker_id: int
    group_code: str | None
    county: str
    pickup: str
    dropoff: str
    earliest: date
    latest: date


def snapshot(plan: Plan) -> Snapshot:
    """The plan's live buses (not cancelled) and seats as a planner problem and plan.

    The seats are read as columns: a season's 99,344 seats loaded as objects, each with its
    worker, took 9 s of the suggestions page's 17 s."""
    stored = plan.problem or {}
    trips = _running(plan)
    by_trip: dict[int, list[_Seat]] = {t.id: [] for t in trips}
    for row in db.session.execute(_seats(plan)):
        by_trip[row.trip_id].append(_Seat(*row))
    groups: dict[str, list[_Seat]] = {}
    keys: dict[int, list[str]] = {}
    for trip in trips:
        mine: dict[str, list[_Seat]] = {}
        for seat in by_trip[trip.id]:
            key = topup.group_key(seat.group_code, seat.county, seat.worker_id, trip.code)
            mine.setdefault(key, []).append(seat)
        groups.update(mine)
        keys[trip.id] = list(mine)
    problem = pm.Problem(
        sites=_sites(trips, groups),
        coach_types=_coach_types(stored),
        groups={key: _group(key, seats) for key, seats in groups.items()},
        rules=pm.Rules(**{**RULES, **(stored.get("rules") or {})}),
        road_factor=float(
            (stored.get("distance") or {}).get("road_factor", pm.DEFAULT_ROAD_FACTOR)
        ),
        matrix_km=stored.get("matrix_km") or {},
    )
    planned = tuple(
        _trip(trip, [problem.groups[key] for key in keys[trip.id]], by_trip[trip.id])
        for trip in trips
    )
    cost = sum(t.cost for t in planned)
    summary = pm.Summary(cost, len(planned), 0.0, 1.0 if cost > 0 else 0.0, 0.0)
    return Snapshot(
        problem,
        pm.Plan(planned, (), summary),
        {t.code: t for t in trips},
        {key: [s.worker_id for s in seats] for key, seats in groups.items()},
        sum(len(seats) for seats in by_trip.values()),
        frozenset(t.code for t in trips if any(s.locked for s in by_trip[t.id])),
        plan.id,
    )


def _running(plan: Plan) -> list[Trip]:
    """The plan's buses not cancelled, with their stops."""
    query = (
        select(Trip)
        .where(Trip.plan_id == plan.id, Trip.cancelled_at.is_(None))
        .order_by(Trip.date, Trip.number, Trip.id)
        .options(selectinload(Trip.stops))
    )
    return list(db.session.scalars(query))


def _seats(plan: Plan) -> Select:
    """The live buses' seats, in seat order, as the columns of _Seat."""
    return (
        select(
            SeatAssignment.trip_id,
            SeatAssignment.seat_no,
            SeatAssignment.locked,
            SeatAssignment.worker_id,
            Worker.group_code,
            Worker.county_id,
            Worker.pickup_site_id,
            Worker.destination_site_id,
            Worker.earliest_date,
            Worker.latest_date,
        )
        .join(Worker, Worker.id == SeatAssignment.worker_id)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .where(Trip.plan_id == plan.id, Trip.cancelled_at.is_(None))
        .order_by(SeatAssignment.trip_id, SeatAssignment.seat_no)
    )


def _group(key: str, seats: list[_Seat]) -> pm.Group:
    return pm.Group(
        id=key,
        size=len(seats),
        pickup=seats[0].pickup,
        dropoff=seats[0].dropoff,
        earliest=max(s.earliest for s in seats),
        latest=min(s.latest for s in seats),
        members=tuple(f"w{s.worker_id}" for s in seats),
    )


def _sites(trips: list[Trip], groups: dict[str, list[_Seat]]) -> dict[str, pm.Site]:
    ids = {s.site_id for t in trips for s in t.stops}
    for seats in groups.values():
        ids |= {seats[0].pickup, seats[0].dropoff}
    rows = db.session.scalars(select(Site).where(Site.id.in_(ids)))
    return {s.id: pm.Site(s.id, s.kind, s.name_zh, s.lat, s.lon) for s in rows}


def _coach_types(stored: dict) -> dict[str, pm.CoachType]:
    """Every coach type, with the coaches free per day the plan was made with (if limited)."""
    limits = {c["id"]: c.get("available") for c in stored.get("coach_types", [])}
    out = {}
    for ct in db.session.scalars(select(CoachType).order_by(CoachType.id)):
        free = limits.get(ct.id)
        available = {date.fromisoformat(d): int(n) for d, n in free.items()} if free else None
        out[ct.id] = pm.CoachType(
            ct.id, ct.passenger_seats, ct.fixed_cost, ct.cost_per_km, available
        )
    return out


def _trip(trip: Trip, mine: list[pm.Group], seats: list[_Seat]) -> pm.Trip:
    """A stored bus as a planner trip: its stops in order, each group where it boards and leaves."""
    stops = []
    for site, kind in [(stop.site_id, stop.kind) for stop in trip.stops]:
        ups = tuple(g.id for g in mine if g.pickup == site) if kind == "pickup" else ()
        downs = tuple(g.id for g in mine if g.dropoff == site) if kind == "dropoff" else ()
        stops.append(pm.Stop(site, ups, downs))
    return pm.Trip(
        trip.code,
        trip.date,
        trip.coach_type_id,
        tuple(stops),
        {f"w{s.worker_id}": s.seat_no for s in seats},
        trip.km,
        trip.cost,
    )
