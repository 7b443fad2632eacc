"""A re-plan never comes back dearer than the draft it replaces (issue 17 §2).

A top-up (a plan around the period's published buses) is compared like with like: the draft it
re-plans is recast with its copies of published buses as the problem fixes them now (every stop
kept, the seats the live bus holds plus those the draft gave); when one of those buses has left
or was cancelled since, the two plans are not comparable and the re-plan stands.

The search is time-limited and chaotic: re-planning the same demand under the same locks can
land on a dearer plan than the one the coordinator already had. Before a re-plan is stored, the
plan it started from is recast onto the re-plan's problem (its buses, stops and seats, the
locked ones as the problem fixes them); when the planner's checker finds that recast plan valid
and it serves as many groups for less, it is stored instead.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

from dispatch import planner
from dispatch.models import Plan, Trip
from dispatch.planner.cost import bus_cost
from dispatch.planner.model import Plan as PlannerPlan
from dispatch.planner.model import Stop, Summary, Unassigned
from dispatch.planner.model import Trip as PlannerTrip
from dispatch.planner.world.distances import Distances
from dispatch.services import topup_publish

log = logging.getLogger("dispatch.planning")


def better_of(problem_data: dict, result: dict, base: Plan | None) -> dict:
    """``result``, or ``base`` recast onto the same problem when that serves as many for less."""
    if base is None or not base.trips:
        return result
    problem = planner.load_problem(problem_data)
    recast = _recast(problem, base, result["summary"]["lower_bound_cost"])
    if recast is None:
        return result
    faults = planner.check(problem, recast)
    if faults:  # the demand changed since (a withdrawal, a new registrant): nothing to keep
        log.info("plan %s not comparable to the re-plan: %s", base.id, faults[0])
        return result
    served = len(result["unassigned"]), result["summary"]["cost"]
    kept = len(recast.unassigned), recast.summary.cost
    if kept >= served:
        return result
    log.info(
        "re-plan of plan %s came back dearer (%.0f > %.0f): kept it", base.id, served[1], kept[1]
    )
    return planner.plan_to_dict(recast)


def _recast(problem, base: Plan, bound: float) -> PlannerPlan | None:
    """The base plan's buses as trips of ``problem``; None when a worker is not in it."""
    group_of = {m: g.id for g in problem.groups.values() for m in g.members}
    fixed = {t.id: t for t in problem.fixed_trips}
    dist = Distances(problem)
    copies = topup_publish.copies(base)
    trips = []
    for trip in base.trips:
        if trip.code in copies and trip.code not in fixed:
            return None  # a published bus it topped up has left or was cancelled since
        kept = fixed.get(trip.code)
        groups, seats = _carried(trip, kept, group_of)
        if groups is None:
            return None
        if groups or kept is not None:
            trips.append(_trip(problem, dist, trip, kept, groups, seats))
    served = {g for t in trips for g in t.group_ids()}
    unassigned = tuple(
        Unassigned(g, "not served by the plan it replaces")
        for g in sorted(problem.groups)
        if g not in served
    )
    cost = sum(t.cost for t in trips)
    gap = (cost - bound) / cost if cost > 0 else 0.0
    return PlannerPlan(tuple(trips), unassigned, Summary(cost, len(trips), bound, gap, 0.0))


def _carried(trip: Trip, fixed, group_of: dict[str, str]):
    """The problem's groups a stored bus carries, and their seats; (None, None) if unknown."""
    seats = dict(fixed.seats) if fixed is not None else {}
    groups = set(fixed.group_ids()) if fixed is not None else set()
    for seat in trip.seats:
        member = f"w{seat.worker_id}"
        if member in seats:
            continue
        if member not in group_of:
            return None, None
        groups.add(group_of[member])
        seats[member] = seat.seat_no
    return groups, seats


def _trip(
    problem, dist: Distances, trip: Trip, fixed, groups: set[str], seats: dict
) -> PlannerTrip:
    """A stored bus as a planner trip: its stops in their stored order, only where it serves."""
    by_site: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for gid in sorted(groups):
        group = problem.groups[gid]
        by_site[group.pickup][0].append(gid)
        by_site[group.dropoff][1].append(gid)
    if fixed is not None:  # a fixed trip keeps every stop, in order (rule 8)
        stops = tuple(
            Stop(s.site, tuple(by_site[s.site][0]), tuple(by_site[s.site][1])) for s in fixed.stops
        )
    else:
        stops = _served_stops(trip, by_site)
    km = dist.path_km([s.site for s in stops])
    coach = problem.coach_types[trip.coach_type_id]
    return PlannerTrip(
        trip.code,
        date.fromisoformat(str(trip.date)),
        coach.id,
        stops,
        seats,
        km,
        bus_cost(coach, km),
    )


def _served_stops(trip: Trip, by_site: dict[str, tuple[list[str], list[str]]]) -> tuple[Stop, ...]:
    """A re-planned bus's stops: only where it serves, in the stored order."""
    order = [s.site_id for s in trip.stops]
    ranked = sorted(by_site, key=lambda s: order.index(s) if s in order else len(order))
    pickups = [Stop(s, tuple(by_site[s][0])) for s in ranked if by_site[s][0]]
    dropoffs = [Stop(s, (), tuple(by_site[s][1])) for s in ranked if by_site[s][1]]
    return tuple(pickups + dropoffs)
