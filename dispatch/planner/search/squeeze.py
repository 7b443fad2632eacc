"""Fewer buses: take one bus off and seat its groups on the others by ruin and recreate.

After the fleet minimisation of SISR (Christiaens and Vanden Berghe, "Slack induction by string
removals for vehicle routing problems", 2020): the removed bus's groups are left *absent*; each
step takes a few groups off buses near an absent group (one stop's groups, or a few groups) and
puts every loose and absent group back by cheapest insertion, opening no bus. A step is kept
when fewer groups stay absent, or when the absent ones have been absent less often (every group
counts the steps it spent absent, so groups that are hard to seat are seated first and others
make room for them). When none is left the plan runs a bus fewer; it is kept when it also costs
less after a short descent, else undone, as is an attempt still short after
tuning.SQUEEZE_STEPS steps.

Local moves (descent.py) and ruin-and-recreate at equal bus count (ruin.py) rarely take a bus off
a plan whose buses all use their stops: each group of the emptied bus needs a bus with free seats
*and* a free stop at once. Column-generation dives at 1,000 workers often end one or two buses
above the LP's count that way (bench/RESULTS.md).
"""

from __future__ import annotations

import random
import time
from collections import Counter

from dispatch.planner import tuning
from dispatch.planner.construct.greedy import best_insertion, downsize
from dispatch.planner.search.descent import descend
from dispatch.planner.world.buses import (
    Bus,
    DateIndex,
    World,
    copy_buses,
    has_room,
    plan_cost,
    usage,
)

Touched = dict[int, tuple[Bus, list[str]]]  # id(bus): the bus and its groups before a step


def worth_squeezing(world: World) -> bool:
    """Stop rules present: that is where the search left buses that could go (bench/RESULTS.md);
    under lifted rules the rounds keep all their time (they beat VROOM by 0.05 % at 3,000)."""
    r = world.rules
    return r.max_pickup_stops is not None or r.max_dropoff_stops is not None


def squeeze(world: World, buses: list[Bus], deadline: float, rng: random.Random) -> bool:
    """Take buses off, least loaded first, while time is left and until tuning.SQUEEZE_MISSES
    buses in a row stayed; True when any went. In place."""
    absence: Counter[str] = Counter()
    failed: set[tuple[str, ...]] = set()
    changed, missed = False, 0
    while time.monotonic() < deadline and missed < tuning.SQUEEZE_MISSES:
        free = [
            b for b in buses if b.fixed_id is None and b.groups and tuple(b.groups) not in failed
        ]
        if not free:
            break
        bus = min(free, key=lambda b: (world.load(b.groups), tuple(b.groups)))
        if _take_off(world, buses, bus, deadline, rng, absence):
            changed, missed = True, 0
            failed.clear()
        else:
            failed.add(tuple(bus.groups))
            missed += 1
    return changed


def _take_off(
    world: World,
    buses: list[Bus],
    bus: Bus,
    deadline: float,
    rng: random.Random,
    absence: Counter[str],
) -> bool:
    """Seat `bus`'s groups on the others; keep the result when it costs less, else undo."""
    saved, before = copy_buses(buses), plan_cost(world, buses)
    buses[:] = [b for b in buses if b is not bus]  # by identity: buses compare by value
    _upsize(world, buses)
    index = DateIndex(buses)
    absent = _recreate(world, buses, index, list(bus.groups), rng, {})
    for _ in range(tuning.SQUEEZE_STEPS):
        if not absent or time.monotonic() > deadline:
            break
        touched: Touched = {}
        loose = _ruin_near(world, buses, index, rng.choice(absent), rng, touched)
        again = _recreate(world, buses, index, absent + loose, rng, touched)
        if len(again) < len(absent) or _absence(again, absence) < _absence(absent, absence):
            absent = again
        else:
            for b, groups in touched.values():
                b.groups = groups
        absence.update(absent)
    buses[:] = [b for b in buses if b.groups or b.fixed_id]
    downsize(world, buses)
    if not absent:
        descend(world, buses, min(deadline, time.monotonic() + tuning.SQUEEZE_DESCENT_SECONDS), rng)
        if plan_cost(world, buses) < before - 1e-6:
            return True
    buses[:] = saved
    return False


def _absence(groups: list[str], absence: Counter[str]) -> int:
    """How often these groups have been absent so far."""
    return sum(absence[g] for g in groups)


def _ruin_near(
    world: World,
    buses: list[Bus],
    index: DateIndex,
    gid: str,
    rng: random.Random,
    touched: Touched,
) -> list[str]:
    """Take groups off 1–3 free buses of `gid`'s window, those sharing its stops first: one
    stop's groups, or 1–3 groups, from each; never a bus's last group. The groups taken (each
    bus changed is noted in `touched` with its groups before)."""
    group = world.groups[gid]
    mine = {group.pickup, group.dropoff}

    def shared(i: int) -> tuple[int, float]:
        pickups, drops = world.sites(buses[i].groups)
        return (-len(mine & (pickups | drops)), rng.random())

    near = sorted((i for i in index.within(group) if buses[i].fixed_id is None), key=shared)
    loose: list[str] = []
    for i in near[: rng.randint(1, 3)]:
        bus = buses[i]
        movable = [g for g in bus.groups if g not in bus.locked_groups]
        if rng.random() < 0.5:
            pickups, drops = world.sites(bus.groups)
            site = rng.choice(sorted(pickups | drops))
            out = [g for g in movable if site in (world.groups[g].pickup, world.groups[g].dropoff)]
        else:
            out = rng.sample(movable, min(len(movable), rng.randint(1, 3)))
        if out and len(out) < len(bus.groups):
            touched.setdefault(id(bus), (bus, list(bus.groups)))
            loose += out
            bus.groups = [g for g in bus.groups if g not in out]
    return loose


def _recreate(
    world: World,
    buses: list[Bus],
    index: DateIndex,
    groups: list[str],
    rng: random.Random,
    touched: Touched,
) -> list[str]:
    """Cheapest insertion, biggest groups first (ties in random order), opening no bus; the
    groups left without a seat (each bus changed is noted in `touched`)."""
    order = sorted(groups)
    rng.shuffle(order)
    order.sort(key=lambda g: -world.groups[g].size)
    left: list[str] = []
    for gid in order:
        target = best_insertion(world, buses, gid, None, index)
        if target is None:
            left.append(gid)
        else:
            touched.setdefault(id(target), (target, list(target.groups)))
            target.groups.append(gid)
    return left


def _upsize(world: World, buses: list[Bus]) -> None:
    """The largest coach type with room that day on every free bus (downsize gives it back)."""
    used = usage(buses)
    for bus in sorted(buses, key=lambda b: -world.load(b.groups)):
        if bus.fixed_id is not None:
            continue
        used[(bus.coach, bus.date)] -= 1
        for coach in reversed(world.coaches):
            if coach.passenger_seats >= world.load(bus.groups) and (
                coach.id == bus.coach or has_room(world, coach, bus.date, used)
            ):
                bus.coach = coach.id
                break
        used[(bus.coach, bus.date)] += 1
