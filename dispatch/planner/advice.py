"""Changes that take a near-empty bus off a plan, or make it cheaper, each built as a whole plan.

Pure, like the rest of the planner. For one bus of a plan, ``changes_for`` tries:

- ``move``: its groups onto other buses of the same or a neighbouring day, each within its
  departure window, where the stop rules allow the stops it needs;
- ``consent``: the same, where a bus one day outside a group's window may take it (the worker
  must agree first: the groups moved outside their window are named);
- ``third_drop``: all its groups onto one other bus that then stops at one more drop-off site
  than the rules allow (an exception for that bus only, within the drop-off spread);
- ``smaller``: a cheaper coach type with enough seats (the bus stays).

Each change is a whole plan, proven by the checker (``check``) on the problem the change needs
(windows widened by the agreed day for ``consent``; the one drop-off over the limit for
``third_drop``): the change may add no violation the plan did not have already. The saving is
what the checker's cost (``cost.bus_cost`` on the trips' km) says it is.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from dispatch.planner.cost import bus_cost
from dispatch.planner.model import Group, Plan, Problem, Summary, Trip
from dispatch.planner.plan.check import check
from dispatch.planner.plan.seats import assign_seats
from dispatch.planner.plan.trips import stops_at
from dispatch.planner.world.buses import World

MOVE, CONSENT, THIRD_DROP, SMALLER = "move", "consent", "third_drop", "smaller"
KINDS = (MOVE, CONSENT, THIRD_DROP, SMALLER)


@dataclass(frozen=True)
class Move:
    """A group moved onto another bus; ``outside`` when that bus leaves outside its window."""

    group: str
    trip: str
    day: date
    outside: bool = False


@dataclass(frozen=True)
class Change:
    """One change for one bus: the changed plan, what it saves and what it takes."""

    kind: str
    trip: str  # the bus it is about
    plan: Plan  # the whole plan once changed
    saving: float  # CNY, of the trips' own costs
    moves: tuple[Move, ...] = ()
    coach_type: str | None = None  # SMALLER: the new coach type
    touched: tuple[str, ...] = ()  # trips whose stops, seats or coach change (besides `trip`)
    removed: bool = False  # the bus is taken off the plan


def changes_for(
    problem: Problem,
    plan: Plan,
    trip_id: str,
    frozen: Collection[str] = (),
    world: World | None = None,
    routes: Collection[str] = (),
) -> list[Change]:
    """The proven changes for one bus, each kind's cheapest, most saving first; ``frozen`` trips
    (locked) are never changed; ``routes`` trips (published buses a top-up carries) keep their
    stops and coach and may only take groups that board and alight at their stops.

    Changes reach the bus's day and the days next to it only, so the plans compared and checked
    are those days' trips and groups: every rule the checker applies to a plan is a rule of one
    trip, of one date (coaches per type) or of each group once, so the rest of the plan, left as
    it is, keeps whatever it had.
    """
    world = world or World(problem)
    bus = next(t for t in plan.trips if t.id == trip_id)
    near = tuple(t for t in plan.trips if abs((t.date - bus.date).days) <= 1)
    part = _part(problem, near)
    local = replace_trips(plan, near)
    known = set(check(part, local, world.dist))
    found = [
        _move(world, local, bus, frozen, routes, widen=0),
        _move(world, local, bus, frozen, routes, widen=1),
        _merge(world, local, bus, [*frozen, *routes]),
        None if bus.id in routes else _smaller(world, local, bus),
    ]
    proven = [
        c for c in found if c is not None and c.saving > 0.005 and _proven(world, part, c, known)
    ]
    return sorted(proven, key=lambda c: (-c.saving, KINDS.index(c.kind)))


def _part(problem: Problem, trips: tuple[Trip, ...]) -> Problem:
    """The problem of some trips: their groups only, nothing fixed."""
    groups = {g: problem.groups[g] for t in trips for g in t.group_ids() if g in problem.groups}
    return dataclasses.replace(problem, groups=groups, fixed_trips=())


def _proven(world: World, part: Problem, change: Change, known: set[str]) -> bool:
    """The checker finds no violation in the changed plan that the plan did not have before."""
    problem = _agreed(part, change.moves)
    faults = set(check(problem, change.plan, world.dist)) - known
    if change.kind == THIRD_DROP:
        limit = world.rules.max_dropoff_stops
        over = f"has {(limit or 0) + 1} drop-off stops (max {limit})"
        faults = {f for f in faults if not (f.startswith("rule 4: trip ") and over in f)}
    return not faults


def _agreed(problem: Problem, moves: tuple[Move, ...]) -> Problem:
    """The problem with each group moved outside its window given the day it agreed to."""
    outside = {m.group: m.day for m in moves if m.outside}
    if not outside:
        return problem
    groups = dict(problem.groups)
    for gid, day in outside.items():
        g = groups[gid]
        groups[gid] = dataclasses.replace(
            g, earliest=min(g.earliest, day), latest=max(g.latest, day)
        )
    return dataclasses.replace(problem, groups=groups)


def _move(
    world: World,
    plan: Plan,
    bus: Trip,
    frozen: Collection[str],
    routes: Collection[str],
    widen: int,
) -> Change | None:
    """Each group of ``bus``, largest first, onto the other bus it adds least cost to."""
    targets = {t.id: t for t in plan.trips if _may_take(t, bus, frozen)}
    moves = []
    for gid in sorted(bus.group_ids(), key=lambda g: (-world.groups[g].size, g)):
        best = _best_insert(world, targets.values(), gid, widen, routes)
        if best is None:
            return None
        trip, outside = best
        targets[trip.id] = trip
        moves.append(Move(gid, trip.id, trip.date, outside))
    if widen and not any(m.outside for m in moves):
        return None  # the same as a move within the windows
    changed = {m.trip: targets[m.trip] for m in moves}
    return _change(CONSENT if widen else MOVE, plan, bus, changed, tuple(moves))


def _may_take(trip: Trip, bus: Trip, frozen: Collection[str]) -> bool:
    """Another bus, not locked, on the same or a neighbouring day."""
    return trip.id != bus.id and trip.id not in frozen and abs((trip.date - bus.date).days) <= 1


def _best_insert(
    world: World, targets: Collection[Trip], gid: str, widen: int, routes: Collection[str]
) -> tuple[Trip, bool] | None:
    """The cheapest bus to take one group, rebuilt with it, and whether it is outside the window."""
    group = world.groups[gid]
    best: tuple[float, bool, str, Trip] | None = None
    for trip in targets:
        outside = not group.earliest <= trip.date <= group.latest
        if outside and not _near(group, trip.date, widen):
            continue
        rebuilt = with_groups(world, trip, [gid])
        if rebuilt is None or (trip.id in routes and _sites(rebuilt) != _sites(trip)):
            continue
        key = (round(rebuilt.cost - trip.cost, 2), outside, trip.id, rebuilt)
        if best is None or key[:3] < best[:3]:
            best = key
    return (best[3], best[1]) if best is not None else None


def _sites(trip: Trip) -> list[str]:
    return [s.site for s in trip.stops]


def _near(group: Group, day: date, widen: int) -> bool:
    return group.earliest - timedelta(widen) <= day <= group.latest + timedelta(widen)


def _merge(world: World, plan: Plan, bus: Trip, frozen: Collection[str]) -> Change | None:
    """All of ``bus``'s groups onto one bus that then has one drop-off more than the rules allow."""
    limit = world.rules.max_dropoff_stops
    if limit is None:
        return None
    gids = list(bus.group_ids())
    best: Trip | None = None
    for trip in plan.trips:
        if not _may_take(trip, bus, frozen) or not world.fits_window(gids, trip.date):
            continue
        rebuilt = with_groups(world, trip, gids, spare_drops=1)
        if rebuilt is None or sum(1 for s in rebuilt.stops if s.dropoff) <= limit:
            continue  # within the rules: a plain move
        if best is None or rebuilt.cost - trip.cost < best.cost - _cost_of(plan, best.id):
            best = rebuilt
    if best is None:
        return None
    moves = tuple(Move(g, best.id, best.date) for g in gids)
    return _change(THIRD_DROP, plan, bus, {best.id: best}, moves)


def _cost_of(plan: Plan, trip_id: str) -> float:
    return next(t.cost for t in plan.trips if t.id == trip_id)


def _smaller(world: World, plan: Plan, bus: Trip) -> Change | None:
    """The cheapest coach type with seats enough for the bus's people, and free that day."""
    load = world.load(bus.group_ids())
    used = Counter((t.coach_type, t.date) for t in plan.trips)
    best: Trip | None = None
    for coach in world.problem.coach_types.values():
        limit = coach.available_on(bus.date)
        if coach.id == bus.coach_type or coach.passenger_seats < load:
            continue
        if limit is not None and used[(coach.id, bus.date)] >= limit:
            continue
        cost = round(bus_cost(coach, bus.km), 2)
        if cost < bus.cost and (best is None or cost < best.cost):
            seats = _reseat(world, bus, coach.passenger_seats)
            if seats is not None:
                best = dataclasses.replace(bus, coach_type=coach.id, seats=seats, cost=cost)
    if best is None:
        return None
    return _change(SMALLER, plan, bus, {bus.id: best}, (), coach_type=best.coach_type)


def _reseat(world: World, bus: Trip, seats_n: int) -> dict[str, int] | None:
    """Seats on a smaller coach: groups already within its numbers keep theirs."""
    groups = [world.groups[g] for g in bus.group_ids()]
    kept = {
        m: bus.seats[m]
        for g in groups
        if all(bus.seats.get(m, seats_n + 1) <= seats_n for m in g.members)
        for m in g.members
    }
    by_drop = [[world.groups[g] for g in s.dropoff] for s in bus.stops if s.dropoff]
    return assign_seats(by_drop, seats_n, kept)


def with_groups(world: World, trip: Trip, gids: list[str], spare_drops: int = 0) -> Trip | None:
    """``trip`` carrying ``gids`` too: stops in best order (kept as they are when no site is new),
    the seats it had kept; None when seats, stop limits (``spare_drops`` drop-offs over the rule
    allowed) or spread do not allow it."""
    coach = world.problem.coach_types[trip.coach_type]
    groups = [*trip.group_ids(), *gids]
    if world.load(groups) > coach.passenger_seats:
        return None
    pickups, drops = world.sites(groups)
    if not world.allowed(pickups, drops, spare_drops):
        return None
    old = [s.site for s in trip.stops]
    order = old if set(old) == pickups | drops else list(world.dist.order.best(pickups, drops)[0])
    stops = stops_at(world, order, groups)
    by_drop = [[world.groups[g] for g in s.dropoff] for s in stops if s.dropoff]
    seats = assign_seats(by_drop, coach.passenger_seats, trip.seats)
    if seats is None:
        return None
    km = trip.km if order == old else round(world.dist.path_km(order), 3)
    cost = trip.cost if order == old else round(bus_cost(coach, km), 2)
    return dataclasses.replace(trip, stops=stops, seats=seats, km=km, cost=cost)


def _change(
    kind: str,
    plan: Plan,
    bus: Trip,
    changed: Mapping[str, Trip],
    moves: tuple[Move, ...],
    coach_type: str | None = None,
) -> Change:
    """The plan with ``changed`` trips replaced and, unless the bus itself changed, the bus gone."""
    removed = bus.id not in changed
    trips = tuple(changed.get(t.id, t) for t in plan.trips if not (removed and t.id == bus.id))
    before = sum(t.cost for t in plan.trips if t.id in changed or t.id == bus.id)
    after = sum(t.cost for t in changed.values())
    touched = tuple(sorted(i for i in changed if i != bus.id))
    return Change(
        kind,
        bus.id,
        replace_trips(plan, trips),
        round(before - after, 2),
        moves,
        coach_type,
        touched,
        removed,
    )


def replace_trips(plan: Plan, trips: tuple[Trip, ...]) -> Plan:
    """``plan`` with other trips; its summary's cost and bus count follow, its bound is dropped
    (a bound belongs to the problem that was solved, not to a hand-made change)."""
    cost = sum(t.cost for t in trips)
    summary = Summary(cost, len(trips), 0.0, 1.0 if cost > 0 else 0.0, plan.summary.seconds)
    return Plan(trips, plan.unassigned, summary)


def under_half(problem: Problem, plan: Plan) -> list[str]:
    """The buses whose people fill fewer than half their passenger seats."""
    return [
        t.id
        for t in plan.trips
        if 2 * sum(problem.groups[g].size for g in t.group_ids())
        < problem.coach_types[t.coach_type].passenger_seats
    ]
