"""LP-guided plans for full days: the column-generation LP dived to whole buses, packed, filled.

Used where the stop rules leave too many patterns for the covering MIP of rebuild/cover.py (a full
Linfen day). Column generation (lp/colgen.py) runs once per date block on the greedy plan's
groups; its proven bound is kept for the final summary. On a single-date block without locked
trips its LP is then dived to whole buses (lp/dive.py, once with the bus count capped and
once without when time allows); for each dive the packing MIP seats whole groups on its buses,
the rest is inserted greedily and a short local search tidies up; the cheapest result replaces
the greedy block when it is cheaper still.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.bound.lower import column_pattern_bound
from dispatch.planner.budget import Clock
from dispatch.planner.construct.greedy import downsize, insert_groups
from dispatch.planner.lp.columns import Seed
from dispatch.planner.lp.packing import PackTask, pack
from dispatch.planner.lp.patterns import Pattern, count_patterns
from dispatch.planner.model import Unassigned
from dispatch.planner.search.descent import descend
from dispatch.planner.world.blocks import blocks, demand
from dispatch.planner.world.buses import Bus, World


def worth_guiding(world: World, groups: list[str]) -> bool:
    """Stop rules present and a pattern space column generation can price in time."""
    r = world.rules
    if not groups or r.max_pickup_stops is None or r.max_dropoff_stops is None:
        return False
    return count_patterns(world, demand(world, groups)) <= tuning.COLUMN_PATTERN_LIMIT


def rebuild_by_dives(
    world: World, buses: list[Bus], missed: list[Unassigned], clock: Clock, share: float
) -> tuple[list[Bus], list[Unassigned], dict[frozenset[str], float]]:
    """Bound every block by column generation; rebuild single dates from the LP when cheaper."""
    known: dict[frozenset[str], float] = {}
    served = [g for b in buses for g in b.groups]
    total = clock.share(share)
    for days, groups in blocks(world, served):
        seconds = total * world.load(groups) / world.load(served)
        block = [b for b in buses if b.date in days]
        spent = sum(world.bus_cost(b) for b in block)
        start = time.monotonic()
        rebuild = len(days) == 1 and not any(b.fixed_id for b in block)
        result = column_pattern_bound(
            world,
            days,
            groups,
            seconds * (1 - tuning.DIVE_PACK_SHARE),
            spent,
            _seeds(world, block),
            dive_seconds=tuning.DIVE_SHARE * seconds if rebuild else 0.0,
        )
        if math.isfinite(result.bound):
            known[groups] = result.bound
        if not rebuild:
            continue
        best, left = (
            spent,
            min(seconds - (time.monotonic() - start), tuning.DIVE_PACK_SHARE * seconds),
        )
        for dived in result.dives:
            cand = _rebuild(world, days[0], sorted(groups), dived, left / len(result.dives))
            cost = math.inf if cand is None else _cost(world, cand)
            if cand is not None and cost < best - 1e-6:
                best, buses = cost, [b for b in buses if b.date not in days] + cand
    return buses, missed, known


def _seeds(world: World, block: list[Bus]) -> tuple[Seed, ...]:
    """The block's buses as starting columns."""
    out = []
    for bus in block:
        seats: Counter[tuple[str, str]] = Counter()
        for g in bus.groups:
            grp = world.groups[g]
            seats[(grp.pickup, grp.dropoff)] += grp.size
        out.append((*world.sites(bus.groups), bus.coach, seats, bus.date))
    return tuple(out)


def _rebuild(
    world: World, day: date, groups: list[str], chosen: list[tuple[Pattern, str]], seconds: float
) -> list[Bus] | None:
    """Buses from a dive, whole groups packed on them, the rest inserted; None if any is left."""
    caps = {c.id: c.available_on(day) for c in world.coaches}
    out = pack(
        world, PackTask(day, chosen, groups, [], {}, caps), max(tuning.PACK_MIN_SECONDS, seconds)
    )
    placed = {g for b in out for g in b.groups}
    if insert_groups(world, out, [g for g in groups if g not in placed]):
        return None
    downsize(world, out)
    descend(world, out, time.monotonic() + tuning.REBUILD_DESCENT_SECONDS, random.Random(0))
    return out


def _cost(world: World, buses: list[Bus]) -> float:
    """Cost of some working buses."""
    return sum(world.bus_cost(b) for b in buses)
