"""LP-guided plans for full days: the column-generation LP dived to whole buses, packed, filled.

Used where the stop rules leave too many patterns for the covering MIP of rebuild/cover.py (a full
Linfen day). Column generation (lp/colgen.py) runs once per date block on the greedy plan's
groups; its proven bound is kept for the final summary. On a single-date block without locked
trips its LP is then dived to whole buses (lp/dive.py, once with the bus count capped and
once without when time allows); for each dive the packing MIP seats whole groups on its buses,
the rest is inserted greedily and a short local search tidies up; the cheapest result replaces
the greedy block when it is cheaper still.

A block of several dates small enough for lp/dated.py is bounded by its dated model first, whose
LP also says how many seats of each commodity go on each date. `split_dates` turns that into a
date for every group, and each date is then planned as a day of its own, as above (dives of the
pooled LP of that date's groups, packed; the greedy insertion when no dive packs). The block's
plan is replaced when the dates together cost less and keep every coach type's availability.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.bound.lower import column_pattern_bound
from dispatch.planner.budget import Clock
from dispatch.planner.construct.greedy import downsize, insert_groups
from dispatch.planner.lp.colgen import ColumnResult
from dispatch.planner.lp.columns import Seed
from dispatch.planner.lp.packing import PackTask, pack
from dispatch.planner.lp.patterns import Pattern, count_patterns
from dispatch.planner.model import Group, PriceKey, Unassigned
from dispatch.planner.search.descent import descend
from dispatch.planner.world.blocks import Commodity, blocks, demand
from dispatch.planner.world.buses import Bus, World, usage


def worth_guiding(world: World, groups: list[str]) -> bool:
    """Stop rules present and a pattern space column generation can price in time."""
    r = world.rules
    if not groups or r.max_pickup_stops is None or r.max_dropoff_stops is None:
        return False
    return count_patterns(world, demand(world, groups)) <= tuning.COLUMN_PATTERN_LIMIT


def rebuild_by_dives(
    world: World, buses: list[Bus], missed: list[Unassigned], clock: Clock, share: float
) -> tuple[list[Bus], list[Unassigned], dict[frozenset[str], float], dict[PriceKey, float]]:
    """Bound every block by column generation; rebuild it from the LP when cheaper. Also what
    each block's converged LP charges a seat of each demand, on each of its dates."""
    known: dict[frozenset[str], float] = {}
    prices: dict[PriceKey, float] = {}
    served = [g for b in buses for g in b.groups]
    total = clock.share(share)
    end = time.monotonic() + total
    for days, groups in blocks(world, served):
        seconds = total * world.load(groups) / world.load(served)
        # Enumerating a block's patterns takes 1-2 s whatever its share: a season's top-up of
        # 23 blocks spent 35 s of a 5 s plan on it. A block with too little time, or none left,
        # is left to the final bound (bound/lower.py), which has its own floor.
        if seconds < tuning.COLUMN_MIN_SECONDS or time.monotonic() + seconds > end + 1.0:
            continue
        block = [b for b in buses if b.date in days]
        spent = sum(world.bus_cost(b) for b in block)
        start = time.monotonic()
        rebuild = not any(b.fixed_id for b in block)
        one_day = len(days) == 1
        result = column_pattern_bound(
            world,
            days,
            groups,
            seconds * (1 - (tuning.DIVE_PACK_SHARE if one_day else tuning.DATES_REBUILD_SHARE)),
            spent,
            _seeds(world, block),
            dive_seconds=tuning.DIVE_SHARE * seconds if rebuild and one_day else 0.0,
            charges=True,
        )
        if math.isfinite(result.bound):
            known[groups] = result.bound
        prices.update(_per_seat(world, days, groups, result.charges))
        if not rebuild:
            continue
        left = seconds - (time.monotonic() - start)
        if one_day:  # packing one date's dives: what the bound left, at most the packing share
            left = min(left, tuning.DIVE_PACK_SHARE * seconds)
        best = spent
        for cand in _rebuilt(world, days, groups, result, left):
            cost = _cost(world, cand)
            if cost < best - 1e-6:
                best, buses = cost, [b for b in buses if b.date not in days] + cand
    return buses, missed, known, prices


def _per_seat(
    world: World, days: tuple[date, ...], groups: frozenset[str], charges: Mapping[Commodity, float]
) -> Iterator[tuple[PriceKey, float]]:
    """A block's charges per seat of each demand, on each of its dates."""
    seats = demand(world, groups)
    for (pickup, dropoff), charge in charges.items():
        for day in days:
            yield (day, pickup, dropoff), charge / seats[(pickup, dropoff)]


def _rebuilt(
    world: World,
    days: tuple[date, ...],
    groups: frozenset[str],
    result: ColumnResult,
    seconds: float,
) -> Iterator[list[Bus]]:
    """The block rebuilt from its LP, each way that seats every group, one at a time: one date
    from each dive; several dates one by one after the dated LP's split."""
    if len(days) > 1:
        if result.dated_seats:
            split = split_dates(world, days, groups, result.dated_seats)
            cand = _rebuild_dates(world, split, seconds)
            if cand is not None:
                yield cand
        return
    for dived in result.dives:
        cand = _rebuild(world, days[0], sorted(groups), dived, seconds / len(result.dives))
        if cand is not None:
            yield cand


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
    world: World,
    day: date,
    groups: list[str],
    chosen: list[tuple[Pattern, str]],
    seconds: float,
    descent: float = tuning.REBUILD_DESCENT_SECONDS,
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
    descend(world, out, time.monotonic() + descent, random.Random(0))
    return out


def split_dates(
    world: World,
    days: tuple[date, ...],
    groups: frozenset[str],
    seats: Mapping[tuple[Commodity, date], float],
) -> dict[date, list[str]]:
    """Each group's date, after the dated LP's seats per commodity and date: date by date, a
    commodity's groups that may go, those whose window closes first first, while the seats given
    so far stay within the LP's seats up to that date (a group counted by its middle seat, so
    rounding to the nearest); a group always goes on the last date of its window."""
    by_commodity: dict[Commodity, list[Group]] = defaultdict(list)
    for g in sorted(groups):
        grp = world.groups[g]
        by_commodity[(grp.pickup, grp.dropoff)].append(grp)
    out: dict[date, list[str]] = defaultdict(list)
    for e, members in by_commodity.items():
        waiting = sorted(members, key=lambda grp: (grp.latest, grp.earliest, -grp.size, grp.id))
        target = given = 0.0
        for day in days:
            target += seats.get((e, day), 0.0)
            for grp in list(waiting):
                if grp.earliest > day:
                    continue
                if grp.latest == day or given + grp.size / 2 <= target + 1e-6:
                    out[day].append(grp.id)
                    given += grp.size
                    waiting.remove(grp)
    return out


def _rebuild_dates(
    world: World, split: Mapping[date, list[str]], seconds: float
) -> list[Bus] | None:
    """Each date of a block rebuilt as a day of its own from its groups (`split_dates`): the
    pooled LP's dives packed as for one date, else the groups inserted; None when a group is left
    or the dates together run more coaches of a type than it has."""
    end = time.monotonic() + seconds
    out: list[Bus] = []
    load = {day: world.load(gs) for day, gs in split.items()}
    for day in sorted(split):
        names = frozenset(split[day])
        share = (end - time.monotonic()) * load[day] / sum(load[d] for d in load if d >= day)
        best = _greedy_day(world, sorted(names))
        result = column_pattern_bound(
            world,
            (day,),
            names,
            share * (1 - tuning.DIVE_PACK_SHARE),
            split=False,
            dive_seconds=tuning.DIVE_SHARE * share,
        )
        packing = tuning.DIVE_PACK_SHARE * share / max(1, len(result.dives))
        for dived in result.dives:
            cand = _rebuild(world, day, sorted(names), dived, packing, descent=packing)
            if cand is not None and (best is None or _cost(world, cand) < _cost(world, best)):
                best = cand
        if best is None:
            return None
        out += best
    used = usage(out)
    for coach in world.coaches:
        for day in {b.date for b in out}:
            cap = coach.available_on(day)
            if cap is not None and used[(coach.id, day)] > cap:
                return None
    return out


def _greedy_day(world: World, names: list[str]) -> list[Bus] | None:
    """The groups inserted greedily on fresh buses, then trimmed; None if any is left."""
    buses: list[Bus] = []
    if insert_groups(world, buses, names):
        return None
    downsize(world, buses)
    return buses


def _cost(world: World, buses: list[Bus]) -> float:
    """Cost of some working buses."""
    return sum(world.bus_cost(b) for b in buses)
