"""Local search on a plan: empty buses into others, move single groups, trade groups between
buses (swap.py), hand a stop's groups to another bus for a few of its own (exchange.py), give
cheaper coaches; then ruin-and-recreate rounds (related buses, or one stop's groups across a
date's buses), the refilled buses given stop exchanges when that has paid so far (Ruins).

Moves keep every rule: a group only goes to a bus on a date in its window, within the stop rules,
seats (a bigger coach type may be taken when one is free that day) and, for locked trips, their
stops and seats. The search is deterministic for a seed: fixed orders, ties broken by ids, a seeded
random generator and at most MAX_ROUNDS ruin-and-recreate rounds, fewer when MAX_KICKS kicks
have not paid; only a clock that runs out first makes two runs differ.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from dispatch.planner.buses import Bus, World, has_room, to_trip, usage
from dispatch.planner.exchange import exchange_pass
from dispatch.planner.greedy import downsize, insert_groups
from dispatch.planner.model import CoachType, Group
from dispatch.planner.swap import swap_pass

Move = tuple[float, int, str]  # added cost, bus index, coach type id
MAX_ROUNDS = 50_000
STALL_ROUNDS = 1_000  # rounds without a better plan before a kick, or the end after MAX_KICKS
MAX_KICKS = 20
KICK_ROUNDS = 2  # ruin-and-recreate rounds taken regardless of cost in a kick
POLISH_SHARE = 0.1


def improve(world: World, buses: list[Bus], seconds: float, seed: int) -> None:
    """Local search, then ruin-and-recreate rounds while time is left, then local search; in place.

    Rounds are cheap (no local search inside), so thousands fit; a round is kept only when the
    plan gets cheaper. When rounds stop paying, a kick restarts from the best plan shaken by a few
    rounds taken regardless of cost. (A record-to-record threshold was tried instead: worse.)
    """
    deadline = time.monotonic() + seconds
    rng = random.Random(seed)
    descend(world, buses, deadline, rng)
    best = current = plan_cost(world, buses)
    kept, last_best, kicks = copy_buses(buses), 0, 0
    ruins, hopeless = Ruins(), _hopeless(world)
    stop = deadline - POLISH_SHARE * seconds
    for n in range(MAX_ROUNDS):
        if time.monotonic() > stop or not buses:
            break
        if n - last_best > STALL_ROUNDS:
            if kicks == MAX_KICKS:
                break
            kicks, last_best = kicks + 1, n
            current = _kick(world, buses, kept, rng)
            continue
        saved = copy_buses(buses)
        complete = _ruin_recreate(world, buses, rng, stop, current + hopeless, ruins)
        cost = plan_cost(world, buses)
        if complete and cost < best - 1e-6 and swap_pass(world, buses, stop):
            cost = plan_cost(world, buses)
        ruins.record(current - cost if complete else 0.0)
        if complete and cost < current - 1e-6:
            current = cost
            if cost < best - 1e-6:
                best, kept, last_best = cost, copy_buses(buses), n
        else:
            buses[:] = saved
    buses[:] = kept
    descend(world, buses, deadline, rng)


def _hopeless(world: World) -> float:
    """How much dearer than the current plan a recreated plan may come back and still get stop
    exchanges: the fixed cost of the cheapest coach (a plan with a bus more rarely recovers)."""
    return min(c.fixed_cost for c in world.coaches)


def _kick(world: World, buses: list[Bus], kept: list[Bus], rng: random.Random) -> float:
    """The best plan shaken by a few ruin-and-recreate rounds whatever they cost; its cost."""
    buses[:] = copy_buses(kept)
    for _ in range(KICK_ROUNDS):
        saved = copy_buses(buses)
        if not _ruin_recreate(world, buses, rng, math.inf, math.inf, Ruins()):
            buses[:] = saved
    return plan_cost(world, buses)


def copy_buses(buses: list[Bus]) -> list[Bus]:
    """Working copies that later moves cannot change."""
    return [
        Bus(b.date, b.coach, list(b.groups), b.fixed_id, b.locked_seats, b.locked_groups)
        for b in buses
    ]


def plan_cost(world: World, buses: list[Bus]) -> float:
    """Total cost of the working buses."""
    return sum(world.bus_cost(b) for b in buses if b.groups or b.fixed_id)


def descend(world: World, buses: list[Bus], deadline: float, rng: random.Random) -> None:
    """Eliminate and relocate until no move helps."""
    improved = True
    while improved and time.monotonic() < deadline:
        improved = _eliminate_pass(world, buses, deadline, rng)
        improved = _relocate_pass(world, buses, deadline) or improved
        improved = swap_pass(world, buses, deadline) or improved
        improved = exchange_pass(world, buses, deadline) or improved
    buses[:] = [b for b in buses if b.groups or b.fixed_id]


@dataclass
class Ruins:
    """Which ruin to take, and whether stop exchanges follow the recreate.

    The four ways are drawn in proportion to the cost each has saved per round, counted from a
    prior of two average rounds (so all start even and none is ever shut out). Rounds, not
    seconds, so that a seed gives one plan whatever the machine's speed. A search thus spends its
    rounds where they pay; with full buses (rules lifted, 3,000 workers) clearing one stop was
    kept in 1–2 % of its rounds, emptying related buses in 10–15 %.
    """

    tried: list[int] = field(default_factory=lambda: [0] * 4)
    saved: list[float] = field(default_factory=lambda: [0.0] * 4)
    last: int = 0

    def choose(self, rng: random.Random) -> tuple[bool, bool]:
        """(clear one stop rather than empty related buses, exchange stops after)."""
        prior = 2 * max(1.0, sum(self.saved) / max(1, sum(self.tried)))
        rates = [(v + prior) / (n + 2) for v, n in zip(self.saved, self.tried, strict=True)]
        pick, total = rng.random() * sum(rates), 0.0
        for i, rate in enumerate(rates):
            total += rate
            if pick < total or i == len(rates) - 1:
                self.last = i
                break
        return self.last % 2 == 1, self.last >= 2

    def record(self, saved: float) -> None:
        """What the last way chosen saved (0 when its round was undone)."""
        self.tried[self.last] += 1
        self.saved[self.last] += max(0.0, saved)


def _ruin_recreate(
    world: World,
    buses: list[Bus],
    rng: random.Random,
    deadline: float,
    ceiling: float,
    ruins: Ruins,
) -> bool:
    """Take related groups off one date's buses and put them back; False if some found no seat.

    Cheapest insertion alone leaves the refilled buses with stops that full buses cannot shed
    one group at a time, so the buses it touched then get stop exchanges (exchange.py), unless
    the plan came back costing more than `ceiling`.
    """
    free = [b for b in buses if b.fixed_id is None and b.groups]
    if not free:
        return False
    seed_bus = rng.choice(free)
    todays = [b for b in free if b.date == seed_bus.date]
    by_site, exchange = ruins.choose(rng)
    before = {id(b): tuple(b.groups) for b in buses} if exchange else {}
    if by_site:
        loose = _ruin_site(world, seed_bus, todays, rng)
    else:
        loose = _ruin_buses(world, seed_bus, todays, rng)
    buses[:] = [b for b in buses if b.groups or b.fixed_id]
    order = sorted(loose)
    rng.shuffle(order)
    if rng.random() < 0.5:  # biggest first, ties in random order
        order.sort(key=lambda g: -world.groups[g].size)
    missed = insert_groups(world, buses, order, keep_order=True)
    if not missed and exchange and plan_cost(world, buses) <= ceiling:
        touched = [b for b in buses if before.get(id(b)) != tuple(b.groups)]
        exchange_pass(world, buses, deadline, touched)
    downsize(world, buses)
    return not missed


def _ruin_buses(world: World, seed_bus: Bus, todays: list[Bus], rng: random.Random) -> list[str]:
    """Empty the seed bus and the 1–4 buses sharing most stops with it."""
    pickups, drops = world.sites(seed_bus.groups)

    def shared(bus: Bus) -> float:
        p, d = world.sites(bus.groups)
        return -(len(p & pickups) + len(d & drops)) + rng.random()

    others = sorted((b for b in todays if b is not seed_bus), key=shared)
    loose: list[str] = []
    for bus in [seed_bus, *others[: rng.randint(1, 4)]]:
        loose += bus.groups
        bus.groups = []
    return loose


def _ruin_site(world: World, seed_bus: Bus, todays: list[Bus], rng: random.Random) -> list[str]:
    """Take every group boarding or leaving at one of the seed bus's stops off that date's buses."""
    pickups, drops = world.sites(seed_bus.groups)
    site = rng.choice(sorted(pickups | drops))
    loose: list[str] = []
    for bus in todays:
        out = [g for g in bus.groups if site in (world.groups[g].pickup, world.groups[g].dropoff)]
        if out:
            loose += out
            bus.groups = [g for g in bus.groups if g not in out]
    return loose


def _eliminate_pass(world: World, buses: list[Bus], deadline: float, rng: random.Random) -> bool:
    """Try to empty each free bus, least loaded first, into the others."""
    order = sorted(range(len(buses)), key=lambda i: (world.load(buses[i].groups), rng.random()))
    changed = False
    for i in order:
        if time.monotonic() > deadline:
            break
        bus = buses[i]
        if bus.fixed_id is None and bus.groups and _try_empty(world, buses, i, deadline):
            changed = True
    return changed


def _try_empty(world: World, buses: list[Bus], i: int, deadline: float) -> bool:
    """Move all groups of bus i elsewhere when that costs less than the bus; undo otherwise."""
    bus = buses[i]
    saving = world.bus_cost(bus)
    snapshot = [(b.coach, list(b.groups)) for b in buses]
    used = usage(buses)
    used[(bus.coach, bus.date)] -= 1
    groups, bus.groups = sorted(bus.groups, key=lambda g: -world.groups[g].size), []
    for gid in groups:
        move = _best_move(world, buses, world.groups[gid], used, skip=i)
        if move is None or saving <= 0 or time.monotonic() > deadline:
            break
        saving -= move[0]
        _apply(buses[move[1]], gid, move[2], used)
    else:
        if saving > 1e-6:
            return True
    for b, (coach, gs) in zip(buses, snapshot, strict=True):
        b.coach, b.groups = coach, gs
    return False


def _relocate_pass(world: World, buses: list[Bus], deadline: float) -> bool:
    """Move single groups to where they cost less, freeing seats or stops."""
    changed = False
    used = usage(buses)
    for i, bus in enumerate(buses):
        for gid in sorted(bus.groups):
            if time.monotonic() > deadline or gid in bus.locked_groups:
                continue
            gain = _removal_gain(world, bus, gid)
            move = _best_move(world, buses, world.groups[gid], used, skip=i)
            if move is not None and move[0] < gain - 1e-6:
                bus.groups.remove(gid)
                _apply(buses[move[1]], gid, move[2], used)
                changed = True
        _shrink(world, bus, used)
    return changed


def _removal_gain(world: World, bus: Bus, gid: str) -> float:
    """Cost saved by taking one group off a bus (the whole bus when it is the last one)."""
    rest = [g for g in bus.groups if g != gid]
    if not rest and bus.fixed_id is None:
        return world.bus_cost(bus)
    coach = world.problem.coach_types[bus.coach]
    return world.bus_cost(bus) - world.cost(coach, *world.sites(rest or bus.groups))


def _best_move(
    world: World, buses: list[Bus], group: Group, used: Counter[tuple[str, date]], skip: int
) -> Move | None:
    """Cheapest other bus (and coach type) for a group."""
    best: Move | None = None
    for j, other in enumerate(buses):
        if j == skip or not other.groups or not group.earliest <= other.date <= group.latest:
            continue
        for extra, coach in _insertions(world, other, group, used):
            if best is None or extra < best[0] - 1e-9:
                best = (extra, j, coach.id)
    return best


def _insertions(
    world: World, bus: Bus, group: Group, used: Counter[tuple[str, date]]
) -> list[tuple[float, CoachType]]:
    """Added cost of a group on a bus, for each coach type that could seat the result."""
    pickups, drops = world.sites(bus.groups)
    new_p, new_d = pickups | {group.pickup}, drops | {group.dropoff}
    if not world.allowed(new_p, new_d):
        return []
    load = world.load(bus.groups) + group.size
    current = world.problem.coach_types[bus.coach]
    if bus.fixed_id is not None:
        return _locked_insertion(world, bus, group, load, current)
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
    pickups, drops = world.sites(bus.groups)
    if load > coach.passenger_seats or not {group.pickup, group.dropoff} <= pickups | drops:
        return []
    trial = Bus(bus.date, bus.coach, [*bus.groups, group.id], bus.fixed_id, bus.locked_seats)
    return [] if to_trip(world, trial, "x") is None else [(0.0, coach)]


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
