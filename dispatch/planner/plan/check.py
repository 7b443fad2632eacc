"""The one evaluator: every violation of the nine rules of PLANNER_FORMAT.md."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from dispatch.planner.cost import bus_cost
from dispatch.planner.model import Plan, Problem, Trip
from dispatch.planner.world.distances import Distances

TOLERANCE = 0.001


def close(value: float, expected: float) -> bool:
    """Equal within 0.1 % (and a cent)."""
    return abs(value - expected) <= TOLERANCE * abs(expected) + 0.01


def check(problem: Problem, plan: Plan, distances: Distances | None = None) -> list[str]:
    """Violations of the rules, one line each; empty when the plan keeps them all."""
    dist = distances or Distances(problem)
    out = _rule_1(problem, plan)
    for trip in plan.trips:
        out += check_trip(problem, trip, dist)
    out += _rule_5(problem, plan) + _rule_6_summary(plan) + _rule_8(problem, plan) + _rule_9(plan)
    ids = Counter(t.id for t in plan.trips)
    out += [f"trip {i}: id used by {n} trips" for i, n in sorted(ids.items()) if n > 1]
    return out


def _rule_1(problem: Problem, plan: Plan) -> list[str]:
    """Every group on exactly one trip or listed once in unassigned with a reason."""
    seen = Counter(g for t in plan.trips for g in t.group_ids())
    seen.update(u.group for u in plan.unassigned)
    out = [
        f"rule 1: group {g} is not in the problem" for g in sorted(seen) if g not in problem.groups
    ]
    for g in problem.groups:
        if seen[g] != 1:
            out.append(f"rule 1: group {g} appears {seen[g]} times (trips and unassigned)")
    out += [
        f"rule 1: unassigned group {u.group} has no reason"
        for u in plan.unassigned
        if not u.reason.strip()
    ]
    return out


def check_trip(problem: Problem, trip: Trip, dist: Distances) -> list[str]:
    """Rules 2, 3, 4, 6 and 7 for one trip."""
    coach = problem.coach_types.get(trip.coach_type)
    if coach is None:
        return [f"trip {trip.id}: unknown coach type {trip.coach_type!r}"]
    if any(s.site not in problem.sites for s in trip.stops):
        return [f"trip {trip.id}: stops at an unknown site"]
    groups = [problem.groups[g] for g in trip.group_ids() if g in problem.groups]
    out = [
        f"rule 2: trip {trip.id} on {trip.date} is outside {g.id}'s window {g.earliest}..{g.latest}"
        for g in groups
        if not g.earliest <= trip.date <= g.latest
    ]
    size = sum(g.size for g in groups)
    if size > coach.passenger_seats:
        out.append(f"rule 3: trip {trip.id} carries {size} people on {coach.passenger_seats} seats")
    out += _rule_4(problem, trip, dist) + _rule_6_trip(problem, trip, dist) + _rule_7(problem, trip)
    return out


def _rule_4(problem: Problem, trip: Trip, dist: Distances) -> list[str]:
    """Stops: each site once, pickups first, right sites, stop limits, drop-off spread."""
    out = []
    sites = [s.site for s in trip.stops]
    if len(set(sites)) != len(sites):
        out.append(f"rule 4: trip {trip.id} visits a site twice")
    kinds = [problem.sites[s].kind for s in sites]
    if "pickup" in kinds[kinds.index("dropoff") :] if "dropoff" in kinds else False:
        out.append(f"rule 4: trip {trip.id} picks up after a drop-off")
    out += _stop_groups(problem, trip)
    out += _stop_limits(
        problem,
        trip,
        kinds.count("pickup"),
        [s for s, k in zip(sites, kinds, strict=True) if k == "dropoff"],
        dist,
    )
    return out


def _stop_groups(problem: Problem, trip: Trip) -> list[str]:
    """Each group boards once at its pickup site and leaves once at its drop-off site."""
    out = []
    ups = Counter(g for s in trip.stops for g in s.pickup)
    downs = Counter(g for s in trip.stops for g in s.dropoff)
    for s in trip.stops:
        kind = problem.sites[s.site].kind
        for g in s.pickup:
            grp = problem.groups.get(g)
            if kind != "pickup" or (grp is not None and grp.pickup != s.site):
                out.append(f"rule 4: trip {trip.id} picks up {g} at {s.site}, not its pickup site")
        for g in s.dropoff:
            grp = problem.groups.get(g)
            if kind != "dropoff" or (grp is not None and grp.dropoff != s.site):
                out.append(f"rule 4: trip {trip.id} drops {g} at {s.site}, not its drop-off site")
    for g in sorted(set(ups) | set(downs)):
        if ups[g] != 1 or downs[g] != 1:
            out.append(
                f"rule 4: trip {trip.id} picks up {g} {ups[g]} times and drops it {downs[g]} times"
            )
    return out


def _stop_limits(
    problem: Problem, trip: Trip, pickups: int, drops: list[str], dist: Distances
) -> list[str]:
    """Stop counts and drop-off spread."""
    rules, out = problem.rules, []
    if rules.max_pickup_stops is not None and pickups > rules.max_pickup_stops:
        out.append(
            f"rule 4: trip {trip.id} has {pickups} pickup stops (max {rules.max_pickup_stops})"
        )
    if rules.max_dropoff_stops is not None and len(drops) > rules.max_dropoff_stops:
        out.append(
            f"rule 4: trip {trip.id} has {len(drops)} drop-off stops (max {rules.max_dropoff_stops})"
        )
    limit = rules.max_dropoff_spread_km
    for a, b in combinations(drops, 2):
        if limit is not None and max(dist.km[a][b], dist.km[b][a]) > limit:
            out.append(f"rule 4: trip {trip.id} drops at {a} and {b}, more than {limit:g} km apart")
    return out


def _rule_6_trip(problem: Problem, trip: Trip, dist: Distances) -> list[str]:
    """km along the stops and cost = fixed + per km × km."""
    coach = problem.coach_types[trip.coach_type]
    km = dist.path_km([s.site for s in trip.stops])
    out = []
    if not close(trip.km, km):
        out.append(f"rule 6: trip {trip.id} km {trip.km:.1f} but its stops measure {km:.1f}")
    cost = bus_cost(coach, km)
    if not close(trip.cost, cost):
        out.append(f"rule 6: trip {trip.id} cost {trip.cost:.2f} but should be {cost:.2f}")
    return out


def _rule_7(problem: Problem, trip: Trip) -> list[str]:
    """Seat numbers: in range, unique, consecutive within a group, one per member."""
    seats_n = problem.coach_types[trip.coach_type].passenger_seats
    out = [
        f"rule 7: trip {trip.id} seat {n} of {m} is outside 1..{seats_n}"
        for m, n in trip.seats.items()
        if not 1 <= n <= seats_n
    ]
    taken = Counter(trip.seats.values())
    out += [
        f"rule 7: trip {trip.id} seat {n} given {c} times"
        for n, c in sorted(taken.items())
        if c > 1
    ]
    members: set[str] = set()
    for gid in trip.group_ids():
        group = problem.groups.get(gid)
        if group is None or not group.members:
            continue
        members.update(group.members)
        out += _group_seats(trip, gid, group.members)
    out += [
        f"rule 7: trip {trip.id} seats {m}, who is not on it"
        for m in sorted(set(trip.seats) - members)
    ]
    return out


def _group_seats(trip: Trip, gid: str, members: tuple[str, ...]) -> list[str]:
    """Every member seated, the group's numbers consecutive."""
    missing = [m for m in members if m not in trip.seats]
    if missing:
        return [f"rule 7: trip {trip.id} has no seat for {', '.join(missing)} of {gid}"]
    nums = sorted(trip.seats[m] for m in members)
    if nums[-1] - nums[0] != len(nums) - 1:
        return [f"rule 7: trip {trip.id} seats of {gid} are not consecutive ({nums})"]
    return []


def _rule_5(problem: Problem, plan: Plan) -> list[str]:
    """Buses of one type on one date within availability."""
    used = Counter((t.coach_type, t.date) for t in plan.trips)
    out = []
    for (ctype, day), n in sorted(used.items()):
        coach = problem.coach_types.get(ctype)
        limit = coach.available_on(day) if coach else None
        if limit is not None and n > limit:
            out.append(f"rule 5: {n} buses of {ctype} on {day}, only {limit} available")
    return out


def _rule_6_summary(plan: Plan) -> list[str]:
    """summary.cost and summary.buses."""
    cost = sum(t.cost for t in plan.trips)
    out = []
    if not close(plan.summary.cost, cost):
        out.append(f"rule 6: summary cost {plan.summary.cost:.2f} but trips add up to {cost:.2f}")
    if plan.summary.buses != len(plan.trips):
        out.append(f"rule 6: summary buses {plan.summary.buses} but {len(plan.trips)} trips")
    return out


def _rule_8(problem: Problem, plan: Plan) -> list[str]:
    """Fixed trips kept: id, date, coach type, stops (sites, order), groups and seats.

    Added groups are allowed: rules 3, 4 and 7 already make them board and alight at the kept
    stops, within the free seats, on consecutive numbers that clash with no kept seat."""
    trips = {t.id: t for t in plan.trips}
    out = []
    for fixed in problem.fixed_trips:
        trip = trips.get(fixed.id)
        if trip is None:
            out.append(f"rule 8: locked trip {fixed.id} is missing")
            continue
        if (trip.date, trip.coach_type) != (fixed.date, fixed.coach_type):
            out.append(f"rule 8: locked trip {fixed.id} changed date or coach type")
        if [s.site for s in trip.stops] != [s.site for s in fixed.stops]:
            out.append(f"rule 8: locked trip {fixed.id} changed its stops")
        out += _kept_groups(fixed, trip)
        if any(trip.seats.get(m) != n for m, n in fixed.seats.items()):
            out.append(f"rule 8: locked trip {fixed.id} changed a seat")
    return out


def _kept_groups(fixed: Trip, trip: Trip) -> list[str]:
    """Each group of a fixed trip still boards and alights at the same stops of it."""
    boards = {g: s.site for s in trip.stops for g in s.pickup}
    alights = {g: s.site for s in trip.stops for g in s.dropoff}
    out = []
    for stop in fixed.stops:
        for g in stop.pickup:
            if g not in boards:
                out.append(f"rule 8: locked trip {fixed.id} lost group {g}")
            elif boards[g] != stop.site:
                out.append(f"rule 8: locked trip {fixed.id} picks up {g} at another stop")
        out += [
            f"rule 8: locked trip {fixed.id} drops {g} at another stop"
            for g in stop.dropoff
            if g in alights and alights[g] != stop.site
        ]
    return out


def _rule_9(plan: Plan) -> list[str]:
    """The bound is not above the cost and the gap matches."""
    s, out = plan.summary, []
    if s.lower_bound_cost > s.cost + TOLERANCE * abs(s.cost) + 0.01:
        out.append(f"rule 9: lower bound {s.lower_bound_cost:.2f} exceeds cost {s.cost:.2f}")
    gap = (s.cost - s.lower_bound_cost) / s.cost if s.cost > 0 else 0.0
    if abs(s.gap - gap) > 1e-4:
        out.append(f"rule 9: gap {s.gap:.6f} but (cost − bound) / cost is {gap:.6f}")
    return out
