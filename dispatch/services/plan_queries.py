"""What the plan, trip and API pages read about plans, buses and who could ride them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from dispatch.extensions import db
from dispatch.ids import batched
from dispatch.models import Plan, SeatAssignment, Trip, TripStop, User, Worker
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.models.workers import REGISTERED
from dispatch.services import scope
from dispatch.services import workers as worker_service


def recent_plans(limit: int = 100) -> list[Plan]:
    """The newest plans first."""
    return list(db.session.scalars(select(Plan).order_by(Plan.id.desc()).limit(limit)))


def plans_over(plan: Plan, status: str) -> list[Plan]:
    """The other plans of ``status`` whose days and counties meet the plan's, oldest first."""
    found = db.session.scalars(
        select(Plan)
        .where(
            Plan.id != plan.id,
            Plan.status == status,
            Plan.date_from <= plan.date_to,
            Plan.date_to >= plan.date_from,
        )
        .order_by(Plan.id)
    )
    mine = scope.covered_counties(plan)
    return [p for p in found if _counties_meet(mine, scope.covered_counties(p))]


def _counties_meet(a: set[str] | None, b: set[str] | None) -> bool:
    return a is None or b is None or bool(a & b)  # None: city-wide, meets every county


def bus_counts(plans: Collection[Plan]) -> dict[int, int]:
    """Buses per plan id, in one count query rather than every plan's trips loaded."""
    query = (
        select(Trip.plan_id, func.count())
        .where(Trip.plan_id.in_([p.id for p in plans]))
        .group_by(Trip.plan_id)
    )
    return dict(db.session.execute(query).all())


def plan_trips(
    plan: Plan, days: Collection[date] | None = None, *, stops: bool = True
) -> list[Trip]:
    """A plan's buses by day and number (of `days` only, when given), with their coach type
    loaded, and their stops and coach unless `stops` is False: the counts and the near-empty
    list of a season's plan page need no stops of 2,000 buses."""
    query = (
        select(Trip)
        .where(Trip.plan_id == plan.id)
        .order_by(Trip.date, Trip.number, Trip.id)
        .options(joinedload(Trip.coach_type))
    )
    if stops:
        query = query.options(
            selectinload(Trip.stops).joinedload(TripStop.site), joinedload(Trip.coach)
        )
    if days is not None:
        query = query.where(Trip.date.in_(days))
    return list(db.session.scalars(query))


def seat_rows(plan: Plan) -> list[tuple[int, str, int]]:
    """(worker, bus code, seat number) of every seat of a plan, read as columns: a season's
    99,344 seats loaded as objects, one bus's list at a time, took 6-10 s a reading."""
    rows = db.session.execute(
        select(SeatAssignment.worker_id, Trip.code, SeatAssignment.seat_no)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .where(Trip.plan_id == plan.id)
    )
    return [tuple(row) for row in rows]


def buses_per_day(plan: Plan) -> dict[date, int]:
    """How many buses a plan runs on each of its days, in one count query."""
    query = select(Trip.date, func.count()).where(Trip.plan_id == plan.id).group_by(Trip.date)
    return dict(db.session.execute(query).all())


def seats_taken(plan: Plan) -> dict[int, int]:
    """Occupied seats per trip id of a plan."""
    query = (
        select(SeatAssignment.trip_id, func.count())
        .where(SeatAssignment.plan_id == plan.id)
        .group_by(SeatAssignment.trip_id)
    )
    return dict(db.session.execute(query).all())


def worker_names(ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """Name and county of workers by id (those that still exist), 500 ids a query: a season
    planned short of coaches leaves tens of thousands unserved, and one IN list of over
    65,535 ids is more than PostgreSQL takes."""
    wanted, out = sorted(set(ids)), {}
    for chunk in batched(wanted):
        rows = db.session.execute(
            select(Worker.id, Worker.name, Worker.county_id).where(Worker.id.in_(chunk))
        )
        out.update({i: (name, county) for i, name, county in rows})
    return out


def trips(plan_id: int | None, day: date | None) -> list[Trip]:
    """A plan's buses, or without ``plan_id`` every published plan's; of one ``day`` if given."""
    query = select(Trip).join(Plan).order_by(Trip.date, Trip.number, Trip.id)
    query = (
        query.where(Trip.plan_id == plan_id)
        if plan_id
        else query.where(Plan.status == PLAN_PUBLISHED)
    )
    if day:
        query = query.where(Trip.date == day)
    # with what the API shows of each bus: loaded lazily, a season's 2,240 buses took 16 s
    query = query.options(
        selectinload(Trip.stops),
        selectinload(Trip.seats),
        selectinload(Trip.coach),
        selectinload(Trip.coach_type),
        selectinload(Trip.plan),
    )
    return list(db.session.scalars(query))


def _stop_sites(trip: Trip) -> tuple[list[str], list[str]]:
    pickups = [s.site_id for s in trip.stops if s.kind == "pickup"]
    dropoffs = [s.site_id for s in trip.stops if s.kind == "dropoff"]
    return pickups, dropoffs


def waiting_workers(trip: Trip, user: User) -> list[Worker]:
    """The user's registered workers who could ride this bus and have no seat in its plan."""
    pickups, dropoffs = _stop_sites(trip)
    seated = select(SeatAssignment.worker_id).where(SeatAssignment.plan_id == trip.plan_id)
    query = worker_service.visible_workers(user).where(
        Worker.status == REGISTERED,
        Worker.earliest_date <= trip.date,
        Worker.latest_date >= trip.date,
        Worker.destination_site_id.in_(dropoffs),
        Worker.pickup_site_id.in_(pickups),
        Worker.id.not_in(seated),
    )
    return list(db.session.scalars(query.order_by(Worker.name).limit(300)))


def other_buses_workers(trip: Trip, user: User) -> list[SeatAssignment]:
    """The user's workers seated on the plan's other buses who could ride this one: its stops,
    and its date within their window (a bus of another day of it too, so that moving a worker
    to a later bus is one step, not freeing the seat and seating them again)."""
    pickups, dropoffs = _stop_sites(trip)
    query = (
        select(SeatAssignment)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .join(Worker, Worker.id == SeatAssignment.worker_id)  # not the captain
        .where(
            SeatAssignment.plan_id == trip.plan_id,
            Trip.id != trip.id,
            Worker.earliest_date <= trip.date,
            Worker.latest_date >= trip.date,
            Worker.destination_site_id.in_(dropoffs),
            Worker.pickup_site_id.in_(pickups),
        )
        .order_by(Trip.date != trip.date, Trip.date, Trip.number, Trip.id, SeatAssignment.seat_no)
    )
    return [s for s in db.session.scalars(query) if scope.may_see(user, s.worker)]


def planned_without_fleet(plan: Plan) -> bool:
    """The plan was made before the bureau entered any coach. Its scope says so
    (`planning.with_problem_facts`); a plan made before it did is asked of its stored problem,
    the database reading the one key: a season's problem is megabytes of JSON."""
    if "fleet_entered" in (plan.scope or {}):
        return plan.scope["fleet_entered"] is False
    flag = db.session.scalar(
        select(Plan.problem["fleet_entered"].as_boolean()).where(Plan.id == plan.id)
    )
    return flag is False
