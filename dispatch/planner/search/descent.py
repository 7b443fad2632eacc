"""Descent: local moves until none helps. Empty a bus into the others, move single groups, trade
groups between buses (swap.py), hand a stop's groups to another bus for a few of its own
(exchange.py), give cheaper coaches.

Moves keep every rule: a group only goes to a bus on a date in its window, within the stop rules,
seats (a bigger coach type may be taken when one is free that day) and, for locked trips, their
stops and seats. Fixed orders, ties broken by ids and a seeded random generator make it
deterministic for a seed.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import date

from dispatch.planner.construct.greedy import fixed_takes
from dispatch.planner.model import CoachType, Group
from dispatch.planner.search.exchange import exchange_pass
from dispatch.planner.search.swap import swap_pass
from dispatch.planner.world.buses import Bus, DateIndex, World, has_room, usage

Move = tuple[float, int, str]  # added cost, bus index, coach type id


def descend(world: World, buses: list[Bus], deadline: float, rng: random.Random) -> None:
    """Eliminate and relocate until no move helps."""
    improved = True
    while improved and time.monotonic() < deadline:
        improved = _eliminate_pass(world, buses, deadline, rng)
        improved = _relocate_pass(world, buses, deadline) or improved
        improved = swap_pass(world, buses, deadline) or improved
        improved = exchange_pass(world, buses, deadline) or improved
    buses[:] = [b for b in buses if b.groups or b.fixed_id]


def _eliminate_pass(world: World, buses: list[Bus], deadline: float, rng: random.Random) -> bool:
    """Try to empty each free bus, least loaded first, into the others."""
    order = sorted(range(len(buses)), key=lambda i: (world.load(buses[i].groups), rng.random()))
    changed = False
    index, used = DateIndex(buses), usage(buses)
    for i in order:
        if time.monotonic() > deadline:
            break
        bus = buses[i]
        if (
            bus.fixed_id is None
            and bus.groups
            and _try_empty(world, buses, i, deadline, index, used)
        ):
            changed = True
    return changed


def _try_empty(
    world: World,
    buses: list[Bus],
    i: int,
    deadline: float,
    index: DateIndex,
    used: Counter[tuple[str, date]],
) -> bool:
    """Move all groups of bus i elsewhere when that costs less than the bus; undo otherwise
    (`used`, the pass's buses per coach type and date, is kept either way)."""
    bus = buses[i]
    saving = world.bus_cost(bus)
    touched: dict[int, tuple[str, list[str]]] = {i: (bus.coach, list(bus.groups))}
    used[(bus.coach, bus.date)] -= 1
    groups, bus.groups = sorted(bus.groups, key=lambda g: -world.groups[g].size), []
    for gid in groups:
        move = _best_move(world, buses, world.groups[gid], used, i, index)
        if move is None or saving <= 0 or time.monotonic() > deadline:
            break
        saving -= move[0]
        other = buses[move[1]]
        touched.setdefault(move[1], (other.coach, list(other.groups)))
        _apply(other, gid, move[2], used)
    else:
        if saving > 1e-6:
            return True
    used[(bus.coach, bus.date)] += 1
    for j, (coach, gs) in touched.items():
        _retype(buses[j], coach, used)
        buses[j].groups = gs
    return False


def _relocate_pass(world: World, buses: list[Bus], deadline: float) -> bool:
    """Move single groups to where they cost less, freeing seats or stops."""
    changed = False
    used = usage(buses)
    index = DateIndex(buses)
    for i, bus in enumerate(buses):
        for gid in sorted(bus.groups):
            if time.monotonic() > deadline or gid in bus.locked_groups:
                continue
            gain = _removal_gain(world, bus, gid)
            if gain <= 1e-6:  # its stops stay: no other bus takes it for less than nothing
                continue
            move = _best_move(world, buses, world.groups[gid], used, i, index)
            if move is not None and move[0] < gain - 1e-6:
                bus.groups.remove(gid)
                _apply(buses[move[1]], gid, move[2], used)
                changed = True
        _shrink(world, bus, used)
    return changed


def _removal_gain(world: World, bus: Bus, gid: str) -> float:
    """Cost saved by taking one group off a bus (the whole bus when it is the last one)."""
    rest = [g for g in bus.groups if g != gid]
    if world.route(bus):  # a fixed bus keeps its stops: a group leaving saves nothing
        return 0.0
    if not rest and bus.fixed_id is None:
        return world.bus_cost(bus)
    coach = world.problem.coach_types[bus.coach]
    return world.bus_cost(bus) - world.cost(coach, *world.sites(rest or bus.groups))


def _best_move(
    world: World,
    buses: list[Bus],
    group: Group,
    used: Counter[tuple[str, date]],
    skip: int,
    index: DateIndex,
) -> Move | None:
    """Cheapest other bus (and coach type) for a group, among the buses of its window."""
    best: Move | None = None
    for j in index.within(group):
        other = buses[j]
        if j == skip or not other.groups:
            continue
        for extra, coach in _insertions(world, other, group, used):
            if best is None or extra < best[0] - 1e-9:
                best = (extra, j, coach.id)
    return best


def _insertions(
    world: World, bus: Bus, group: Group, used: Counter[tuple[str, date]]
) -> list[tuple[float, CoachType]]:
    """Added cost of a group on a bus, for each coach type that could seat the result."""
    load = world.load(bus.groups) + group.size
    current = world.problem.coach_types[bus.coach]
    if bus.fixed_id is not None:
        return _locked_insertion(world, bus, group, load, current)
    pickups, drops = world.sites(bus.groups)
    new_p, new_d = pickups | {group.pickup}, drops | {group.dropoff}
    if not world.allowed(new_p, new_d):
        return []
    base = world.cost(current, pickups, drops)
    out = []
    for coach in world.coaches:
        if coach.passenger_seats >= load and (
            coach.id == bus.coach or has_room(world, coach, bus.date, used)
        ):
            out.append((world.cost(coach, new_p, new_d) - base, coach))
    return out


def _locked_insertion(
    world: World, bus: Bus, group: Group, load: int, coach: CoachType
) -> list[tuple[float, CoachType]]:
    """A locked trip takes a group only at its own stops and when everyone can still be seated."""
    if load > coach.passenger_seats or not fixed_takes(world, bus, group):
        return []
    return [(0.0, coach)]


def _apply(bus: Bus, gid: str, coach: str, used: Counter[tuple[str, date]]) -> None:
    """Put a group on a bus, switching its coach type when needed."""
    _retype(bus, coach, used)
    bus.groups.append(gid)


def _retype(bus: Bus, coach: str, used: Counter[tuple[str, date]]) -> None:
    """Switch a bus's coach type, keeping the usage count."""
    if coach != bus.coach:
        used[(bus.coach, bus.date)] -= 1
        used[(coach, bus.date)] += 1
        bus.coach = coach


def _shrink(world: World, bus: Bus, used: Counter[tuple[str, date]]) -> None:
    """The cheapest coach type that seats the bus's load and is free that day."""
    if bus.fixed_id is not None or not bus.groups:
        return
    load, sites = world.load(bus.groups), world.sites(bus.groups)
    fits = [
        c
        for c in world.coaches
        if c.passenger_seats >= load and (c.id == bus.coach or has_room(world, c, bus.date, used))
    ]
    best = min(fits, key=lambda c: (world.cost(c, *sites), c.id))
    _retype(bus, best.id, used)
