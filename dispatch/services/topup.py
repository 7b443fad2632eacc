"""Planning around what is published (issue 17 §1): the period's live buses as fixed trips.

Every published bus of the period that is not cancelled and has not left goes into the problem
as a fixed trip with its real stops (sites and order; times unchanged) and its seated workers.
Waiting workers take its free seats first when it already stops at their pickup and drop-off
(joining is free: its route, km and cost do not change); new buses come only for the rest.

Nobody seated moves, unless the coordinator allows it (``Scope.allow_moves``): then the seated
workers of their own counties who have not boarded (and whose seat or bus is not locked) are
planned again like waiting workers. Another county's workers never move. A published bus that
keeps nobody fixed is left out of the problem: if the top-up moves all its passengers away,
publishing cancels it (services/topup_publish.py).

A county coordinator's top-up may seat their workers on any published bus that passes their
pickup points (point-to-point sharing); it lists only the buses that matter to it: those that
carry a worker of their counties or stop at a pickup where one of their waiting workers boards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from dispatch.extensions import db
from dispatch.models import Plan, SeatAssignment, Site, Trip, Worker
from dispatch.models import trips as t
from dispatch.models.workers import ASSIGNED, NOTIFIED
from dispatch.planner.cost import trip_km_and_cost


class Scope(Protocol):
    """What a top-up reads of the planning scope (plan_problem.Scope)."""

    date_from: date
    date_to: date
    counties: tuple[str, ...]
    destinations: tuple[str, ...]
    allow_moves: bool


MOVABLE_STATUSES = (ASSIGNED, NOTIFIED)  # seated, told at most: not boarded, not gone


@dataclass
class Live:
    """The period's published buses as the problem's fixed trips, and who may be planned again."""

    trips: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    movable: list[Worker] = field(default_factory=list)
    plans: list[int] = field(default_factory=list)
    was_on: dict[str, str] = field(default_factory=dict)  # movable member → the bus code now
    left: dict[str, int] = field(default_factory=dict)  # buses left out: everyone on them may move

    def workers(self) -> set[int]:
        """Workers kept on the fixed trips."""
        return {int(m[1:]) for g in self.groups for m in g["members"]}


def live_buses(scope: Scope, now: datetime) -> list[Trip]:
    """Published buses of the scope's days, not cancelled and not yet left, by day and number."""
    query = (
        select(Trip)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(
            Plan.status == t.PLAN_PUBLISHED,
            Trip.cancelled_at.is_(None),
            Trip.date >= scope.date_from,
            Trip.date <= scope.date_to,
            Trip.departure_at > now,
        )
        .order_by(Trip.date, Trip.number, Trip.id)
        # A season's published buses: their stops and seats in two queries, not two per bus.
        .options(selectinload(Trip.stops), selectinload(Trip.seats), joinedload(Trip.coach_type))
    )
    return list(db.session.scalars(query))


def live_problem(
    scope: Scope, now: datetime, waiting: Collection[Worker], sites: dict[str, Site]
) -> Live:
    """The published buses that matter to ``scope`` as fixed trips, their groups, the movable."""
    may_move = _mover(scope)
    pickups = {w.pickup_site_id for w in waiting}
    live = Live()
    for trip in live_buses(scope, now):
        live.plans += [] if trip.plan_id in live.plans else [trip.plan_id]
        if not _matters(trip, scope, pickups):
            continue
        kept = [s for s in trip.seats if not may_move(trip, s)]
        moving = [s.worker for s in trip.seats if may_move(trip, s)]
        live.movable += moving
        live.was_on.update({f"w{w.id}": trip.code for w in moving})
        pickups |= {w.pickup_site_id for w in moving}
        if not kept and trip.seats:
            live.left[trip.code] = trip.id  # everyone on it may move: cancelled if all do
            continue
        groups = fixed_groups(trip, kept)
        live.groups += groups
        live.trips.append(_fixed_trip(trip, groups, sites))
    return live


def _mover(scope: Scope) -> Callable[[Trip, SeatAssignment], bool]:
    """Whether a seat's worker may be planned again under ``scope`` (only with allow_moves)."""

    def may_move(trip: Trip, seat: SeatAssignment) -> bool:
        worker = seat.worker
        return (
            scope.allow_moves
            and not (trip.locked or seat.locked)
            and seat.boarded_at is None
            and seat.no_show_at is None
            and worker.status in MOVABLE_STATUSES
            and (not scope.counties or worker.county_id in scope.counties)
            and (not scope.destinations or worker.destination_site_id in scope.destinations)
        )

    return may_move


def _matters(trip: Trip, scope: Scope, pickups: set[str]) -> bool:
    """A bus a scoped top-up may use: it carries one of the scope's workers or passes its pickups."""
    if not scope.counties and not scope.destinations:
        return True
    if any(s.kind == "pickup" and s.site_id in pickups for s in trip.stops):
        return True
    return any(
        (not scope.counties or s.worker.county_id in scope.counties)
        and (not scope.destinations or s.worker.destination_site_id in scope.destinations)
        for s in trip.seats
    )


def seat_groups(trip: Trip, seats: Iterable[SeatAssignment]) -> dict[str, list[SeatAssignment]]:
    """Seats of a bus by travel group: one per group code on that bus, each single worker alone."""
    by_key: dict[str, list[SeatAssignment]] = defaultdict(list)
    for seat in seats:
        worker = seat.worker
        by_key[group_key(worker.group_code, worker.county_id, worker.id, trip.code)].append(seat)
    return by_key


def group_key(
    group_code: str | None, county: str, worker_id: int, trip_code: str | None = None
) -> str:
    """A worker's travel group, as the planner's problems name it: the others of their county
    with their group code (on that bus, when ``trip_code``: a seated group), or the worker
    alone. A code is a county's: two counties' families may choose the same one."""
    if not group_code:
        return f"w{worker_id}"
    return f"g:{group_code}@{county}" + (f"@{trip_code}" if trip_code else "")


def group_code_of(key: str) -> str:
    """The group code a planner's group id (group_key, without a bus) carries; '' for one
    worker alone."""
    return key[2:].rsplit("@", 1)[0] if key.startswith("g:") else ""


def fixed_groups(trip: Trip, seats: Iterable[SeatAssignment]) -> list[dict]:
    """Seated workers of a bus as the problem's fixed groups, each with the seats they keep."""
    by_key = seat_groups(trip, seats)
    ups = [s.site_id for s in trip.stops if s.kind == "pickup"]
    downs = [s.site_id for s in trip.stops if s.kind == "dropoff"]
    groups = []
    for key, members in by_key.items():
        worker = members[0].worker
        groups.append(
            {
                "id": key,
                "size": len(members),
                # A worker whose pickup or destination changed after publishing still rides this
                # bus until moved: the group boards and alights where the bus actually stops.
                "pickup": worker.pickup_site_id if worker.pickup_site_id in ups else ups[0],
                "dropoff": worker.destination_site_id
                if worker.destination_site_id in downs
                else downs[-1],
                "earliest": trip.date.isoformat(),
                "latest": trip.date.isoformat(),
                "members": [f"w{s.worker_id}" for s in members],
                "seats": {f"w{s.worker_id}": s.seat_no for s in members},
            }
        )
    return groups


def _fixed_trip(trip: Trip, groups: list[dict], sites: dict[str, Site]) -> dict:
    """A published bus in the plan's trip form: every stop kept, in order, with who uses it."""
    stops = [
        {
            "site": stop.site_id,
            "pickup": sorted(g["id"] for g in groups if g["pickup"] == stop.site_id),
            "dropoff": sorted(g["id"] for g in groups if g["dropoff"] == stop.site_id),
        }
        for stop in trip.stops
    ]
    path = [(sites[s["site"]].lat, sites[s["site"]].lon) for s in stops]
    km, cost = trip_km_and_cost(trip.coach_type.fixed_cost, trip.coach_type.cost_per_km, path)
    return {
        "id": trip.code,
        "date": trip.date.isoformat(),
        "coach_type": trip.coach_type_id,
        "stops": stops,
        "seats": {m: n for g in groups for m, n in g.pop("seats").items()},
        "km": round(km, 3),
        "cost": round(cost, 2),
        "locked": trip.locked,
        "published_trip": trip.id,  # extra keys: readers ignore them; storing links the copy
        "published_plan": trip.plan_id,
    }


def summary(problem: dict, result: dict) -> dict | None:
    """What a top-up did: workers newly seated on published buses, new buses, workers moved."""
    if not problem.get("topup"):
        return None
    live = {f["id"]: f for f in problem.get("fixed_trips", []) if f.get("published_trip")}
    was_on = dict(problem["topup"].get("was_on", {}))  # the movable: where they sit now
    was_on.update({m: code for code, m in _seated(live)})
    topped = moved = new = 0
    for trip in result["trips"]:
        fixed = live.get(trip["id"])
        new += fixed is None
        for member in trip["seats"]:
            before = was_on.get(member)
            if before is None:
                topped += fixed is not None
            elif before != trip["id"]:
                moved += 1
    return {
        "plans": problem["topup"]["plans"],
        "trips": {code: f["published_trip"] for code, f in live.items()},
        "left": problem["topup"].get("left", {}),
        "was_on": problem["topup"].get("was_on", {}),
        "topped_up": topped,
        "new_buses": new,
        "moved": moved,
    }


def _seated(live: dict[str, dict]):
    for code, fixed in live.items():
        for member in fixed["seats"]:
            yield code, member
