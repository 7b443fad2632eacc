"""Drafts laid out by hand (which groups ride which bus), for tests of the plan comparison and the
suggestions: the planner's own pieces build the trips, the planner proves the bound."""

from __future__ import annotations

from datetime import date, time

from dispatch import planner
from dispatch.extensions import db
from dispatch.identity import make_id_number
from dispatch.models import Plan, SeatAssignment, Trip, TripStop, Worker
from dispatch.planner.model import Summary, Unassigned
from dispatch.planner.plan.trips import to_trip
from dispatch.planner.world.buses import Bus, World
from dispatch.services import planning

SERIAL = iter(range(1, 10_000))


def add_worker(
    name: str,
    county: str,
    dropoff: str,
    earliest: date,
    latest: date | None = None,
    group: str | None = None,
) -> Worker:
    """A registered worker waiting for a bus from their county's pickup point."""
    n = next(SERIAL)
    worker = Worker(
        name=name,
        id_number=make_id_number("141024", date(1990, 1, 1 + n % 28), n % 999 + 1),
        phone=f"+86139035{n:05d}",
        birth_date=date(1990, 1, 1 + n % 28),
        sex="M",
        county_id=county,
        pickup_site_id=county,
        destination_site_id=dropoff,
        earliest_date=earliest,
        latest_date=latest or earliest,
        group_code=group,
    )
    db.session.add(worker)
    db.session.flush()
    return worker


def group_of(problem: dict, worker: Worker) -> str:
    """The planner group id of a worker in a built problem."""
    member = f"w{worker.id}"
    return next(g["id"] for g in problem["groups"] if member in g["members"])


def hand_draft(scope: planning.Scope, buses: list[tuple[date, str, list[Worker]]]) -> Plan:
    """A stored draft whose buses carry the given workers' groups (date, coach type, workers);
    the groups left out are unassigned. The bound is the planner's own, proven in one second."""
    plan = planning.start_plan(scope, None, None, 1)
    problem = planner.load_problem(plan.problem)
    world = World(problem)
    trips = []
    for n, (day, coach, workers) in enumerate(buses, start=1):
        groups = sorted({group_of(plan.problem, w) for w in workers})
        trip = to_trip(world, Bus(day, coach, groups), f"T{n}")
        assert trip is not None
        trips.append(trip)
    served = {g for t in trips for g in t.group_ids()}
    left = tuple(Unassigned(g, "left out by the test") for g in problem.groups if g not in served)
    cost = sum(t.cost for t in trips)
    bound = min(planner.solve(problem, time_limit_s=1).summary.lower_bound_cost, cost)
    result = planner.Plan(
        tuple(trips), left, Summary(cost, len(trips), bound, (cost - bound) / cost, 0)
    )
    assert planner.check(problem, result) == []
    planning.store_result(plan, planner.plan_to_dict(result), time(8, 0), "Asia/Shanghai")
    db.session.flush()
    return plan


def copy_as_draft(published: Plan) -> Plan:
    """A top-up draft carrying a published plan's buses and seats as they are, with its problem
    and bound."""
    draft = Plan(
        status="draft",
        date_from=published.date_from,
        date_to=published.date_to,
        scope=dict(published.scope or {}),
        problem=published.problem,
        cost=0,
        lower_bound_cost=published.lower_bound_cost,
    )
    db.session.add(draft)
    db.session.flush()
    for trip in published.trips:
        clone_trip(draft, trip, trip.code)
    draft.gap = (draft.cost - draft.lower_bound_cost) / draft.cost
    # The record a top-up keeps of the live buses it copied (services/topup_publish.info).
    copies = {trip.code: trip.id for trip in published.trips}
    record = {"plans": [published.id], "trips": copies, "left": {}, "was_on": {}}
    record |= {"topped_up": 0, "new_buses": 0, "moved": 0}
    draft.scope = {**draft.scope, "topup": record}
    db.session.flush()
    return draft


def clone_trip(draft: Plan, trip: Trip, code: str, seats: bool = True) -> Trip:
    """A copy of ``trip`` under ``draft`` as bus ``code``: stops, and seats unless told not to."""
    copy = Trip(
        code=code,
        date=trip.date,
        departure_at=trip.departure_at,
        coach_type_id=trip.coach_type_id,
        km=trip.km,
        cost=trip.cost,
    )
    for stop in trip.stops:
        copy.stops.append(
            TripStop(
                seq=stop.seq, site_id=stop.site_id, kind=stop.kind, leg_km=stop.leg_km, eta=stop.eta
            )
        )
    for seat in trip.seats if seats else []:
        copy.seats.append(
            SeatAssignment(plan_id=draft.id, seat_no=seat.seat_no, worker_id=seat.worker_id)
        )
    db.session.add(copy)  # in the session before it joins draft.trips (autoflush)
    copy.plan = draft
    draft.cost = round((draft.cost or 0) + trip.cost, 2)
    return copy


def add_bus(draft: Plan, like: Trip, code: str, workers: list[Worker]) -> Trip:
    """A new bus in ``draft`` over ``like``'s stops, ``workers`` in its first seats."""
    trip = clone_trip(draft, like, code, seats=False)
    for seat_no, worker in enumerate(workers, start=1):
        trip.seats.append(SeatAssignment(plan_id=draft.id, seat_no=seat_no, worker_id=worker.id))
    record = draft.scope.get("topup")
    if record:
        record = {**record, "topped_up": record["topped_up"], "new_buses": record["new_buses"] + 1}
        draft.scope = {**draft.scope, "topup": record}
    if draft.lower_bound_cost is not None:
        draft.gap = (draft.cost - draft.lower_bound_cost) / draft.cost
    db.session.flush()
    return trip


def planned_draft(scope: planning.Scope, base: Plan | None = None) -> Plan:
    """A plan run to a draft in this process (no background thread), committed."""
    plan = planning.start_plan(scope, None, base, time_limit_s=1)
    planning.store_result(plan, planning.solve_plan(plan, 1), time(8, 0), "Asia/Shanghai")
    db.session.commit()
    return plan
