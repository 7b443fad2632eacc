"""A stored plan as it stands now, as the planner's problem and plan (for checking changes to it).

The problem is rebuilt from the plan's buses and seats, not read back from the problem it was
planned from: seats moved by hand since then count, a travel group is the members of one group
code on one bus, and its window is what its workers' windows share today. The fleet (with the
coaches free per day), the rules and the distance rule are the stored problem's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.extensions import db
from dispatch.models import CoachType, Plan, SeatAssignment, Site, Trip
from dispatch.planner import model as pm
from dispatch.services import topup
from dispatch.services.plan_problem import RULES


@dataclass(frozen=True)
class Snapshot:
    """A plan as the planner sees it, and the stored rows behind each id."""

    problem: pm.Problem
    plan: pm.Plan
    trips: dict[str, Trip]  # by code
    seats: dict[str, SeatAssignment]  # by member id ("w17")
    groups: dict[str, list[SeatAssignment]]  # group id → its seats


def snapshot(plan: Plan) -> Snapshot:
    """The plan's live buses (not cancelled) and seats as a planner problem and plan."""
    stored = plan.problem or {}
    trips = _running(plan)
    by_trip = {trip.code: topup.seat_groups(trip, trip.seats) for trip in trips}
    groups = {key: seats for found in by_trip.values() for key, seats in found.items()}
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
        _trip(trip, [problem.groups[key] for key in by_trip[trip.code]]) for trip in trips
    )
    cost = sum(t.cost for t in planned)
    summary = pm.Summary(cost, len(planned), 0.0, 1.0 if cost > 0 else 0.0, 0.0)
    return Snapshot(
        problem,
        pm.Plan(planned, (), summary),
        {t.code: t for t in trips},
        {f"w{s.worker_id}": s for t in trips for s in t.seats},
        groups,
    )


def _running(plan: Plan) -> list[Trip]:
    """The plan's buses not cancelled, their stops and seats in two queries (not two per bus)."""
    query = (
        select(Trip)
        .where(Trip.plan_id == plan.id, Trip.cancelled_at.is_(None))
        .order_by(Trip.date, Trip.number, Trip.id)
        .options(selectinload(Trip.stops), selectinload(Trip.seats))
    )
    return list(db.session.scalars(query))


def _group(key: str, seats: list[SeatAssignment]) -> pm.Group:
    workers = [s.worker for s in seats]
    return pm.Group(
        id=key,
        size=len(seats),
        pickup=workers[0].pickup_site_id,
        dropoff=workers[0].destination_site_id,
        earliest=max(w.earliest_date for w in workers),
        latest=min(w.latest_date for w in workers),
        members=tuple(f"w{w.id}" for w in workers),
    )


def _sites(trips: list[Trip], groups: dict[str, list[SeatAssignment]]) -> dict[str, pm.Site]:
    ids = {s.site_id for t in trips for s in t.stops}
    for seats in groups.values():
        ids |= {seats[0].worker.pickup_site_id, seats[0].worker.destination_site_id}
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


def _trip(trip: Trip, mine: list[pm.Group]) -> pm.Trip:
    """A stored bus as a planner trip: its stops in order, each group where it boards and leaves."""
    stops = tuple(
        pm.Stop(
            stop.site_id,
            tuple(g.id for g in mine if stop.kind == "pickup" and g.pickup == stop.site_id),
            tuple(g.id for g in mine if stop.kind == "dropoff" and g.dropoff == stop.site_id),
        )
        for stop in trip.stops
    )
    return pm.Trip(
        trip.code,
        trip.date,
        trip.coach_type_id,
        stops,
        {f"w{s.worker_id}": s.seat_no for s in trip.seats},
        trip.km,
        trip.cost,
    )
