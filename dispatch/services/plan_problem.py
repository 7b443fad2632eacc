"""The open demand of a scope as a planner problem (PLANNER_FORMAT.md), with what stays fixed.

Fixed trips come from two places: every published bus of the period that has not left
(services/topup.py: waiting workers take their free seats first, nobody seated moves), and what a
coordinator locked in the draft being re-planned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import Coach, CoachType, Plan, SeatAssignment, Site, Trip, Worker, utcnow
from dispatch.models import trips as t
from dispatch.models.workers import REGISTERED
from dispatch.planner.cost import bus_cost, trip_km_and_cost
from dispatch.planner.model import DEFAULT_ROAD_FACTOR
from dispatch.services import availability, topup, topup_publish
from dispatch.services.scope import in_scope

# The bureau's stop rules (PLANNER_FORMAT.md rules): every problem it plans is under them.
RULES = {"max_pickup_stops": 3, "max_dropoff_stops": 2, "max_dropoff_spread_km": 150}


class PlanningError(ValueError):
    """A planning request that cannot be carried out."""


# The longest period one plan covers: a quarter holds the longest season (the 99k-33 benchmark
# season runs 33 dates). Beyond it, building the problem walks the fleet's availability day by
# day, so a mistyped year (2026-03-01 to 2062-03-01) would tie a worker up for nothing.
MAX_PERIOD_DAYS = 92


def period_error(date_from: date, date_to: date) -> str | None:
    """What is wrong with a plan's first and last day, in the user's language; None if nothing."""
    if date_to < date_from:
        return _("The last day must be on or after the first day.")
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        return _(
            "A plan covers at most %(days)d days: choose a later first day or an earlier last day.",
            days=MAX_PERIOD_DAYS,
        )
    return None


@dataclass(frozen=True)
class Scope:
    date_from: date
    date_to: date
    counties: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    # Seated workers who have not boarded may be planned again (services/topup.py).
    allow_moves: bool = False


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
    """Planner groups (one per travel-group code of a county, singles alone) and those with no
    common day. A code is a county's: two families of two counties may choose the same."""
    by_key: dict[str, list[Worker]] = defaultdict(list)
    for worker in workers:
        by_key[topup.group_key(worker.group_code, worker.county_id, worker.id)].append(worker)
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
    """Seats a coordinator locked in ``base`` (a whole locked trip locks all its seats), by trip.

    A top-up draft's copies of published buses are left out: the live buses stand for them."""
    if base is None or base.status == t.PLAN_PUBLISHED:
        return {}
    copies = topup_publish.copies(base)
    locked: dict[int, list[SeatAssignment]] = defaultdict(list)
    for trip in base.trips:
        for seat in trip.seats:
            if (trip.locked or seat.locked) and trip.code not in copies:
                locked[trip.id].append(seat)
    return locked


def _fixed_trips(base: Plan, locked: dict[int, list[SeatAssignment]], sites: dict[str, Site]):
    """Locked content of ``base`` as the planner's fixed trips, with the groups they carry."""
    trips, groups = [], []
    for trip in base.trips:
        seats = locked.get(trip.id)
        if not seats:
            continue
        trip_groups = topup.fixed_groups(trip, seats)
        groups += trip_groups
        trips.append(_fixed_trip(trip, trip_groups, sites))
    return trips, groups


def _fixed_trip(trip: Trip, groups: list[dict], sites: dict[str, Site]) -> dict:
    """A draft's bus with locked seats, every stop kept where it is (also those where no locked
    passenger boards or alights), so that the re-plan may seat the others it carried again at no
    cost: with only the locked passengers' stops, they needed new buses, and the draft replaced
    was no longer a plan of the re-plan's problem to fall back on (38,281 → 50,541 CNY)."""
    stops = [
        {
            "site": s.site_id,
            "pickup": sorted(g["id"] for g in groups if g["pickup"] == s.site_id)
            if s.kind == "pickup"
            else [],
            "dropoff": sorted(g["id"] for g in groups if g["dropoff"] == s.site_id)
            if s.kind != "pickup"
            else [],
        }
        for s in trip.stops
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


def build_problem(
    scope: Scope, base: Plan | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The open demand of the scope as a planner problem (PLANNER_FORMAT.md), in file form.

    The period's published buses that have not left go in as fixed trips (services/topup.py);
    with ``base`` (an earlier draft), its locked trips and seats do too. Their workers are not
    planned again (except, with ``scope.allow_moves``, the unboarded of the scope's counties).
    """
    refusal = period_error(scope.date_from, scope.date_to)
    if refusal:
        raise PlanningError(refusal)
    site_rows = {s.id: s for s in db.session.scalars(select(Site))}
    locked = _locked_seats(base)
    kept = {seat.worker_id for seats in locked.values() for seat in seats}
    waiting = [w for w in open_workers(scope) if w.id not in kept]
    live = topup.live_problem(scope, now or utcnow(), waiting, site_rows)
    kept |= live.workers()
    groups, impossible = _groups([*waiting, *(w for w in live.movable if w.id not in kept)], scope)
    fixed, fixed_groups = _fixed_trips(base, locked, site_rows) if locked else ([], [])
    fixed, groups = live.trips + fixed, groups + live.groups + fixed_groups
    used = {g["pickup"] for g in groups} | {g["dropoff"] for g in groups}
    used |= {stop["site"] for trip in fixed for stop in trip["stops"]}
    return {
        "format": "dispatch-problem/1",
        "sites": _sites(used),
        "distance": {"road_factor": DEFAULT_ROAD_FACTOR},
        "coach_types": _with_live_coaches(_coach_types(scope, groups, site_rows), live.trips),
        "fleet_entered": fleet_entered(),  # extra key: the plan page says when coaches are not entered
        "groups": groups,
        "rules": dict(RULES),
        "fixed_trips": fixed,
        "base_plan": base.id if base is not None else None,  # extra key: readers ignore it
        "excluded_groups": impossible,  # extra key: readers ignore it
        # extra key: the published plans this one tops up, and where the movable sit now
        "topup": {"plans": live.plans, "was_on": live.was_on, "left": live.left}
        if live.plans
        else None,
    }


def _with_live_coaches(rows: list[dict], live_trips: list[dict]) -> list[dict]:
    """Free coaches plus one per published bus kept: each holds a coach of its type already."""
    for trip in live_trips:
        for row in rows:
            counts = row.get("available")
            if row["id"] == trip["coach_type"] and counts is not None and trip["date"] in counts:
                counts[trip["date"]] += 1
    return rows
