"""From open demand to a stored draft plan, and from a draft to the live plan."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import (
    Coach,
    CoachType,
    County,
    Plan,
    SeatAssignment,
    Site,
    Trip,
    TripStop,
    User,
    Worker,
)
from dispatch.models import trips as t
from dispatch.models.workers import REGISTERED
from dispatch.planner.cost import bus_cost, trip_km_and_cost
from dispatch.planner.model import DEFAULT_ROAD_FACTOR
from dispatch.planner.world.distances import road_km
from dispatch.services import audit, availability, bus_codes
from dispatch.services.scope import covered_counties, in_scope
from dispatch.services.timing import stop_times


class PlanningError(ValueError):
    """A planning request that cannot be carried out."""


@dataclass(frozen=True)
class Scope:
    date_from: date
    date_to: date
    counties: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()


def open_workers(scope: Scope) -> list[Worker]:
    """Registered workers whose departure window meets the range, within the scope."""
    return list(db.session.scalars(_open_demand(select(Worker), scope).order_by(Worker.id)))


def count_open_workers(scope: Scope) -> int:
    """How many workers wait to travel within the scope (one count, no rows loaded)."""
    return db.session.scalar(_open_demand(select(func.count(Worker.id)), scope)) or 0


def _open_demand(query, scope: Scope):
    """``query`` narrowed to registered workers whose departure window meets the scope."""
    query = query.where(
        Worker.status == REGISTERED,
        Worker.earliest_date <= scope.date_to,
        Worker.latest_date >= scope.date_from,
    )
    query = in_scope(query, Worker.county_id, scope.counties or None)  # none chosen: all
    if scope.destinations:
        query = query.where(Worker.destination_site_id.in_(scope.destinations))
    return query


def _groups(workers: list[Worker], scope: Scope) -> tuple[list[dict], list[dict]]:
    """Planner groups (one per travel-group code, singles alone) and those with no common day."""
    by_key: dict[str, list[Worker]] = defaultdict(list)
    for worker in workers:
        by_key[f"g:{worker.group_code}" if worker.group_code else f"w{worker.id}"].append(worker)
    groups, impossible = [], []
    for key, members in by_key.items():
        earliest = max([scope.date_from, *(w.earliest_date for w in members)])
        latest = min([scope.date_to, *(w.latest_date for w in members)])
        group = {
            "id": key,
            "size": len(members),
            "pickup": members[0].pickup_site_id,
            "dropoff": members[0].destination_site_id,
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat(),
            "members": [f"w{w.id}" for w in members],
        }
        (groups if earliest <= latest else impossible).append(group)
    return groups, impossible


def _coach_types(scope: Scope, groups: list[dict], sites: dict[str, Site]) -> list[dict]:
    """The coach types, each with the coaches free per day (none entered yet: no limit)."""
    types = list(db.session.scalars(select(CoachType).order_by(CoachType.id)))
    rows = [
        {
            "id": ct.id,
            "passenger_seats": ct.passenger_seats,
            "fixed_cost": ct.fixed_cost,
            "cost_per_km": ct.cost_per_km,
        }
        for ct in types
    ]
    if not fleet_entered():
        return rows  # a bureau that has not entered its coaches yet still plans (PLANNER_FORMAT: unlimited)
    days = [
        scope.date_from + timedelta(n) for n in range((scope.date_to - scope.date_from).days + 1)
    ]
    km = max((_group_km(g, sites) for g in groups), default=0.0)
    departure = time.fromisoformat(current_app.config.get("DEPARTURE_TIME", "08:00"))
    span = availability.away_span(
        km, datetime.combine(scope.date_from, departure, tzinfo=availability.ZONE)
    )
    free = availability.free_fleet(days, departure, span, availability.drivers_needed(km))
    for day in days:
        counts = _crewed(free.coaches[day], free.crews[day], types)
        for row in rows:
            row.setdefault("available", {})[day.isoformat()] = counts.get(row["id"], 0)
    return rows


def fleet_entered() -> bool:
    """Whether the bureau has entered any coach (before that, plans assume enough coaches)."""
    return db.session.scalar(select(Coach.id).limit(1)) is not None


def _group_km(group: dict, sites: dict[str, Site]) -> float:
    a, b = sites.get(group["pickup"]), sites.get(group["dropoff"])
    return availability.road_km(a, b) if a is not None and b is not None else 0.0


def _crewed(coaches: dict[str, int], crews: int | None, types: list[CoachType]) -> dict[str, int]:
    """Free coaches by type, cut to what the free drivers can crew: the biggest types keep theirs
    first (most people per driver). Conservative: the planner's limit is per type, not per day."""
    if crews is None or sum(coaches.values()) <= crews:
        return dict(coaches)
    out = {}
    for ct in sorted(types, key=lambda c: (-c.passenger_seats, c.id)):
        out[ct.id] = min(coaches.get(ct.id, 0), crews)
        crews -= out[ct.id]
    return out


def _sites(ids: set[str]) -> list[dict]:
    sites = db.session.scalars(select(Site).where(Site.id.in_(ids)).order_by(Site.id))
    return [
        {"id": s.id, "kind": s.kind, "name": s.name_zh, "lat": s.lat, "lon": s.lon} for s in sites
    ]


def _locked_seats(base: Plan | None) -> dict[int, list[SeatAssignment]]:
    """Seats a coordinator locked in ``base`` (a whole locked trip locks all its seats), by trip."""
    if base is None:
        return {}
    locked: dict[int, list[SeatAssignment]] = defaultdict(list)
    for trip in base.trips:
        for seat in trip.seats:
            if trip.locked or seat.locked:
                locked[trip.id].append(seat)
    return locked


def _fixed_trips(base: Plan, locked: dict[int, list[SeatAssignment]], sites: dict[str, Site]):
    """Locked content of ``base`` as the planner's fixed trips, with the groups they carry."""
    trips, groups = [], []
    for trip in base.trips:
        seats = locked.get(trip.id)
        if not seats:
            continue
        by_key: dict[str, list[SeatAssignment]] = defaultdict(list)
        for seat in seats:
            code = seat.worker.group_code
            by_key[f"g:{code}@{trip.code}" if code else f"w{seat.worker_id}"].append(seat)
        trip_groups = [_fixed_group(key, members, trip) for key, members in by_key.items()]
        groups += trip_groups
        trips.append(_fixed_trip(trip, trip_groups, sites))
    return trips, groups


def _fixed_group(key: str, seats: list[SeatAssignment], trip: Trip) -> dict:
    worker = seats[0].worker
    return {
        "id": key,
        "size": len(seats),
        "pickup": worker.pickup_site_id,
        "dropoff": worker.destination_site_id,
        "earliest": trip.date.isoformat(),
        "latest": trip.date.isoformat(),
        "members": [f"w{s.worker_id}" for s in seats],
        "seats": {f"w{s.worker_id}": s.seat_no for s in seats},
    }


def _fixed_trip(trip: Trip, groups: list[dict], sites: dict[str, Site]) -> dict:
    order = [s.site_id for s in trip.stops]
    pickups = sorted({g["pickup"] for g in groups}, key=order.index)
    dropoffs = sorted({g["dropoff"] for g in groups}, key=order.index)
    stops = [
        {"site": p, "pickup": sorted(g["id"] for g in groups if g["pickup"] == p), "dropoff": []}
        for p in pickups
    ]
    stops += [
        {"site": d, "pickup": [], "dropoff": sorted(g["id"] for g in groups if g["dropoff"] == d)}
        for d in dropoffs
    ]
    path = [(sites[s["site"]].lat, sites[s["site"]].lon) for s in stops]
    km = round(
        trip_km_and_cost(trip.coach_type.fixed_cost, trip.coach_type.cost_per_km, path)[0], 1
    )
    seats = {m: n for g in groups for m, n in g.pop("seats").items()}
    cost = round(bus_cost(trip.coach_type, km), 2)
    return {
        "id": trip.code,
        "date": trip.date.isoformat(),
        "coach_type": trip.coach_type_id,
        "stops": stops,
        "seats": seats,
        "km": km,
        "cost": cost,
        "locked": trip.locked,
    }


def build_problem(scope: Scope, base: Plan | None = None) -> dict[str, Any]:
    """The open demand of the scope as a planner problem (PLANNER_FORMAT.md), in file form.

    With ``base`` (an earlier plan), its locked trips and seats go in as fixed trips and
    their workers are not planned again.
    """
    if scope.date_to < scope.date_from:
        raise PlanningError("the end date is before the start date")
    locked = _locked_seats(base)
    kept = {seat.worker_id for seats in locked.values() for seat in seats}
    workers = [w for w in open_workers(scope) if w.id not in kept]
    groups, impossible = _groups(workers, scope)
    site_rows = {s.id: s for s in db.session.scalars(select(Site))}
    fixed, fixed_groups = _fixed_trips(base, locked, site_rows) if base is not None else ([], [])
    groups += fixed_groups
    used = {g["pickup"] for g in groups} | {g["dropoff"] for g in groups}
    return {
        "format": "dispatch-problem/1",
        "sites": _sites(used),
        "distance": {"road_factor": DEFAULT_ROAD_FACTOR},
        "coach_types": _coach_types(scope, groups, site_rows),
        "fleet_entered": fleet_entered(),  # extra key: the plan page says when coaches are not entered
        "groups": groups,
        "rules": {"max_pickup_stops": 3, "max_dropoff_stops": 2, "max_dropoff_spread_km": 150},
        "fixed_trips": fixed,
        "base_plan": base.id if base is not None else None,  # extra key: readers ignore it
        "excluded_groups": impossible,  # extra key: readers ignore it
    }


def start_plan(
    scope: Scope, user: User | None, base: Plan | None = None, time_limit_s: float | None = None
) -> Plan:
    """A plan row in state running, with its problem stored (scripts and tests solve it here)."""
    return add_plan(
        scope, user, base, time_limit_s, status=t.PLAN_RUNNING, problem=build_problem(scope, base)
    )


def add_plan(
    scope: Scope, user: User | None, base: Plan | None, time_limit_s: float | None, **values
) -> Plan:
    """A new plan row for ``scope`` (re-planning ``base`` if given), flushed and audited."""
    plan = Plan(
        date_from=scope.date_from,
        date_to=scope.date_to,
        scope={
            "counties": list(scope.counties),
            "destinations": list(scope.destinations),
            "base_plan": base.id if base is not None else None,
        },
        created_by_id=user.id if user else None,
        time_limit_s=time_limit_s,
        **values,
    )
    db.session.add(plan)
    db.session.flush()
    audit.record(
        user, "plan.run", "plan", plan.id, {"from": str(scope.date_from), "to": str(scope.date_to)}
    )
    return plan


def solve_plan(
    plan: Plan, time_limit_s: float, seed: int = 0, progress: Callable | None = None
) -> dict:
    """Run the planner on the plan's stored problem; returns the plan in file form."""
    problem = planner.load_problem(plan.problem)
    result = planner.solve(problem, time_limit_s=time_limit_s, seed=seed, progress=progress)
    return planner.plan_to_dict(result)


def store_result(plan: Plan, result: dict, departure: time, tz: str) -> None:
    """Write the planner's trips, stops and seats under ``plan`` and mark it a draft."""
    sites = {s["id"]: s for s in plan.problem["sites"]}
    types = {ct.id: ct for ct in db.session.scalars(select(CoachType))}
    fixed = {f["id"]: f for f in plan.problem.get("fixed_trips", [])}
    codes = bus_codes.codes_for(plan, result["trips"], set(fixed))
    for trip in result["trips"]:
        stored = _store_trip(
            plan,
            {**trip, "code": codes[trip["id"]]},
            sites,
            types[trip["coach_type"]],
            departure,
            tz,
        )
        if trip["id"] in fixed:  # what the coordinator locked stays locked
            stored.locked = bool(fixed[trip["id"]].get("locked"))
            for seat in stored.seats:
                seat.locked = f"w{seat.worker_id}" in fixed[trip["id"]]["seats"]
    summary = result["summary"]
    plan.cost, plan.lower_bound_cost, plan.gap = (
        summary["cost"],
        summary["lower_bound_cost"],
        summary["gap"],
    )
    plan.seconds = summary.get("seconds")
    members = {g["id"]: g["members"] for g in plan.problem["groups"]}
    excluded = [
        {
            "group": g["id"],
            "reason": "no common day in the members' departure windows",
            "workers": g["members"],
        }
        for g in plan.problem.get("excluded_groups", [])
    ]
    plan.unassigned = [
        {**u, "workers": members.get(u["group"], [])} for u in result["unassigned"]
    ] + excluded
    plan.status, plan.progress, plan.progress_message = t.PLAN_DRAFT, 1.0, ""
    base = db.session.get(Plan, plan.problem.get("base_plan") or 0)
    if base is not None and base.status == t.PLAN_DRAFT:
        base.status = t.PLAN_SUPERSEDED  # the re-plan replaces the draft it started from
    db.session.flush()


def _store_trip(
    plan: Plan, data: dict, sites: dict, coach_type: CoachType, departure: time, tz: str
) -> Trip:
    day = date.fromisoformat(data["date"])
    start = datetime.combine(day, departure, tzinfo=ZoneInfo(tz))
    kinds = ["pickup" if stop["pickup"] else "dropoff" for stop in data["stops"]]
    legs = [0.0] + [
        planner_distance(sites[a["site"]], sites[b["site"]])
        for a, b in zip(data["stops"], data["stops"][1:], strict=False)
    ]
    times = stop_times(start, legs, kinds)
    trip = Trip(
        code=data["code"],
        date=day,
        departure_at=start,
        coach_type_id=coach_type.id,
        km=data["km"],
        cost=data["cost"],
        manifest_key=secrets.token_hex(8),
    )
    db.session.add(
        trip
    )  # in the session before it joins plan.trips: an autoflush may come any time
    trip.plan = plan
    for seq, (stop, kind, km, eta) in enumerate(
        zip(data["stops"], kinds, legs, times, strict=True)
    ):
        trip.stops.append(
            TripStop(seq=seq, site_id=stop["site"], kind=kind, leg_km=round(km, 1), eta=eta)
        )
    for member, seat_no in sorted(data["seats"].items(), key=lambda kv: kv[1]):
        trip.seats.append(
            SeatAssignment(plan_id=plan.id, seat_no=seat_no, worker_id=int(member[1:]))
        )
    return trip


def planner_distance(a: dict, b: dict) -> float:
    """A leg's km by the planner's own rule when no matrix is given (great circle × road factor)."""
    return road_km(a["lat"], a["lon"], b["lat"], b["lon"])


def may_manage(user: User | None, plan: Plan) -> bool:
    """Whether ``user`` may re-plan, publish or discard ``plan``: every county it covers is theirs."""
    if user is None or not user.can_edit:
        return False
    scope = user.county_ids()
    if scope is None:
        return True
    covered = covered_counties(plan)
    if covered is None:
        covered = set(db.session.scalars(select(County.id)))
    return covered <= scope
