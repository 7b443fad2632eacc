"""A proven lower bound on the cost of any plan that serves the given groups under the rules.

Why it is valid:
1. Blocks. Dates are split into blocks where no group's window joins two blocks. A bus runs on
   one date and carries only groups whose window holds that date, so it serves one block only:
   a plan's cost is the sum over blocks, and a bound per block adds up to a bound.
2. Pooling the dates of a block. Within a block every bus is mapped to one imaginary day; each
   coach type may then run as many buses as its availability summed over the block's dates
   (unlimited when any date is). Every plan maps to a solution of this pooled problem with the
   same cost, so the pooled optimum, and any lower bound on it, bounds the plan. For a block of
   one date (no windows) pooling changes nothing. What pooling forgets of the dates is partly
   put back as rows every plan keeps: a commodity (a site) whose groups' windows no fewer than n
   dates meet travels on n dates at least, on as many buses (world/blocks.fewest_dates).
3. Per-bus cost. A bus's km along its stops is at least the shortest-path-closure km of the best
   order of the sites where it picks up or drops someone (extra or empty stops only add km, and
   the closure satisfies the triangle inequality even when matrix_km does not).
4. Pattern bound (stop rules present): every bus is one pattern of lp/patterns.py, so a plan is
   an integer solution of the covering MIP in lp/cover.py (seats as continuous flows, groups may
   even split there — a relaxation); the MIP solver's proven dual bound is at most its optimum.
   When the patterns are too many for that MIP (a full Linfen day), lp/colgen.py bounds the same
   pattern model, strengthened by visit rows, with a Lagrangian bound from column generation
   that holds at every iteration (its module doc has the proof); a block of several dates small
   enough for it is bounded by lp/dated.py's model instead, which keeps each bus on its date
   (the covering MIP's blocks by both, the larger counting). Its bus-count cap uses the
   plan at hand: an optimal plan costs at most `spent` (the cost of the plan's buses in the
   block) and every bus at least `cheapest_bus`, so it runs at most spent / cheapest_bus buses;
   the bound is of the optimum, hence of every plan.
5. Threshold bound (always): a bus carrying a group from c to d drives at least closure(c, d), so
   it costs at least fixed + per_km × h with h the longest such distance among its groups. Buses
   are charged at levels h; seats of commodities at distance ≥ h ride on buses of level ≥ h.
   That small integer model is a relaxation for any rules, also with stop rules lifted.
6. Bus count (stop rules present): a drop-off site d with demand from n_d counties is visited by
   at least ceil(n_d / max_pickup_stops) buses, and a bus visits at most max_dropoff_stops drop-off
   sites, so buses >= ceil(sum_d ceil(n_d / max_pickup) / max_dropoff); the same with pickups and
   drop-offs swapped. Added to 5 as "total buses >= that", it stays a relaxation. Where the
   patterns are few, bound/count.py proves a larger least number of buses by a set-covering MIP
   (its module doc), and column generation's total-of-buses row takes that.
The bound reported is the larger of the two per block, shaved by 1e-6 for solver tolerances.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.bound.count import fewest_buses
from dispatch.planner.cost import bus_cost
from dispatch.planner.lp.colgen import ColumnResult, column_bound
from dispatch.planner.lp.columns import BoundInput, Seed
from dispatch.planner.lp.cover import CoverInput, solve_cover
from dispatch.planner.lp.dated import DatedResult, dated_bound
from dispatch.planner.lp.patterns import (
    Pattern,
    count_patterns,
    enumerable,
    enumerate_patterns,
)
from dispatch.planner.lp.solvers import LinearModel, solve_linear
from dispatch.planner.world.blocks import Commodity, blocks, demand, fewest_dates, pooled_caps
from dispatch.planner.world.buses import World

SAFETY = 1e-6


def lower_bound(
    world: World,
    served: frozenset[str],
    seconds: float,
    known: Mapping[frozenset[str], float],
    spent: Mapping[date, float] | None = None,
) -> float:
    """Sum over blocks of the best proven bound within `seconds`; `spent` is the plan's cost per date."""
    total = 0.0
    parts = blocks(world, served)
    deadline = time.monotonic() + seconds
    for i, (days, groups) in enumerate(parts):
        share = max(0.0, deadline - time.monotonic()) / max(1, len(parts) - i)
        best = max(threshold_bound(world, days, groups), known.get(groups, -math.inf))
        if groups not in known and share >= tuning.PATTERN_MIN_SECONDS:
            ceiling = sum(spent.get(d, 0.0) for d in days) if spent else math.inf
            best = max(best, pattern_bound(world, days, groups, share, ceiling))
        total += best
    return max(0.0, total * (1 - SAFETY))


def settled(world: World, served: Iterable[str], known: Mapping[frozenset[str], float]) -> bool:
    """`lower_bound` has only threshold bounds left to compute (milliseconds): the rules set no
    stop limits, so no pattern model can run, or every block is bounded already."""
    r = world.rules
    if r.max_pickup_stops is None or r.max_dropoff_stops is None:
        return True
    return all(groups in known for _, groups in blocks(world, served))


def pattern_bound(
    world: World,
    days: tuple[date, ...],
    groups: frozenset[str],
    seconds: float,
    spent: float = math.inf,
) -> float:
    """Dual bound of the pooled pattern model (and on several dates of the dated one, the larger
    counting), or -inf when the rules make it too large to list."""
    seats = demand(world, groups)
    r = world.rules
    if r.max_pickup_stops is None or r.max_dropoff_stops is None:
        return -math.inf
    if enumerable(world, seats):
        patterns = enumerate_patterns(world, seats, r.max_pickup_stops, r.max_dropoff_stops)
        least = fewest_dates(world, groups)
        task = CoverInput(
            patterns,
            world.coaches,
            pooled_caps(world, days),
            seats,
            max_pickups=r.max_pickup_stops,
            max_drops=r.max_dropoff_stops,
            least=least,
        )
        start = time.monotonic()
        bound = solve_cover(task, seconds if len(days) == 1 else seconds / 2).bound
        if len(days) == 1:
            return bound
        left = seconds - (time.monotonic() - start)
        most = most_buses(world, seats, len(groups), spent)
        block = pattern_input(world, days, seats, most, (), patterns, least)
        return max(bound, dated_pattern_bound(world, days, groups, block, left).bound)
    if (
        seconds < tuning.COLUMN_MIN_SECONDS
        or count_patterns(world, seats) > tuning.COLUMN_PATTERN_LIMIT
    ):
        return -math.inf
    return column_pattern_bound(world, days, groups, seconds, spent).bound


def column_pattern_bound(
    world: World,
    days: tuple[date, ...],
    groups: frozenset[str],
    seconds: float,
    spent: float = math.inf,
    seeds: tuple[Seed, ...] = (),
    split: bool = True,
    dive_seconds: float = 0.0,
    charges: bool = False,
) -> ColumnResult:
    """The column-generation bound of lp/colgen.py for one block (stop rules required), and the
    dive's whole buses when `dive_seconds` is given (the LP's charge of each demand when
    `charges`: none from the dated model). On a block of several dates small enough
    for lp/dated.py, its dated model takes the place of the pooled one (converged, it is never
    below it); the pooled one runs where the dated one proves nothing. Where bound/count.py ran
    (`with_fewest`), its cover on the largest coach is one more set of whole buses after the
    dives (a plan's skeleton as they are)."""
    start = time.monotonic()
    seats = demand(world, groups)
    most = most_buses(world, seats, len(groups), spent)
    task = pattern_input(world, days, seats, most, seeds, least=fewest_dates(world, groups))
    task, cover = with_fewest(task, seconds)
    dated = dated_pattern_bound(world, days, groups, task, seconds)
    if math.isfinite(dated.bound):
        return ColumnResult(dated.bound, [], dated.seats)
    result = column_bound(task, seconds - (time.monotonic() - start), split, dive_seconds, charges)
    if not cover or dive_seconds <= 0:
        return result
    return replace(result, dives=[*result.dives, cover])


def dated_pattern_bound(
    world: World,
    days: tuple[date, ...],
    groups: frozenset[str],
    task: BoundInput,
    seconds: float,
) -> DatedResult:
    """lp/dated.py's bound of a block of several dates (`task` its pooled model, whose patterns,
    bus counts and seeds it shares), with its LP's seats per commodity and date; -inf for one
    date, too little time or a block too large for it (tuning.DATED_PATTERN_LIMIT)."""
    if len(days) == 1 or seconds < tuning.COLUMN_MIN_SECONDS:
        return DatedResult(-math.inf)
    if len(task.patterns) * len(days) > tuning.DATED_PATTERN_LIMIT:
        return DatedResult(-math.inf)
    return dated_bound(world, days, groups, task, seconds)


def most_buses(
    world: World, seats: Mapping[Commodity, int], groups: int, spent: float = math.inf
) -> int:
    """Buses some optimal plan of these `seats` keeps within: one for each of its `groups` at
    most, and no more than `spent` (the cost of a plan at hand) over the cheapest bus (point 4
    of the module doc)."""
    if not math.isfinite(spent):
        return groups
    return min(groups, math.floor(spent / cheapest_bus(world, seats) + 1e-9))


def pattern_input(
    world: World,
    days: tuple[date, ...],
    seats: Mapping[Commodity, int],
    most: int,
    seeds: tuple[Seed, ...] = (),
    patterns: list[Pattern] | None = None,
    least: Mapping[Commodity | str, int] | None = None,
) -> BoundInput:
    """The pooled pattern model of one block (stop rules required), with at most `most` buses;
    its patterns enumerated unless given; its visit rows raised to `least` (`fewest_dates`)."""
    r = world.rules
    assert r.max_pickup_stops is not None and r.max_dropoff_stops is not None
    if patterns is None:
        patterns = enumerate_patterns(world, seats, r.max_pickup_stops, r.max_dropoff_stops)
    return BoundInput(
        patterns,
        world.coaches,
        pooled_caps(world, days),
        seats,
        r.max_dropoff_stops,
        r.max_pickup_stops,
        max(min_buses(world, seats), 1),
        most,
        seeds,
        least or {},
    )


def with_fewest(task: BoundInput, seconds: float) -> tuple[BoundInput, list[tuple[Pattern, str]]]:
    """`task` with its least number of buses raised to bound/count.py's proven minimum, where
    its patterns are few enough (tuning.FEWEST_PATTERN_LIMIT), within a share of `seconds`; and
    the MIP's best cover as whole buses of the largest coach that may run (none when it did not
    run)."""
    running = [c for c in task.coaches if task.caps.get(c.id) != 0]
    if not running or len(task.patterns) > tuning.FEWEST_PATTERN_LIMIT:
        return task, []
    biggest = max(running, key=lambda c: c.passenger_seats)
    seconds = min(tuning.FEWEST_SECONDS, tuning.FEWEST_SHARE * seconds)
    found = fewest_buses(
        task.patterns,
        task.seats,
        biggest.passenger_seats,
        task.max_pickups,
        task.max_drops,
        seconds,
        task.least,
    )
    cover = [(p, biggest.id) for p in found.cover]
    return replace(task, fewest=max(task.fewest, found.buses)), cover


def cheapest_bus(world: World, seats: Mapping[Commodity, int]) -> float:
    """No bus that carries anyone costs less: the cheapest type over the shortest closure km."""
    km = min(world.dist.lower[c][d] for c, d in seats)
    return min(bus_cost(c, km) for c in world.coaches)


def min_buses(world: World, seats: Mapping[Commodity, int]) -> int:
    """Fewest buses the stop rules allow (point 6 of the module doc)."""
    r = world.rules
    if r.max_pickup_stops is None or r.max_dropoff_stops is None:
        return 0
    counties: Counter[str] = Counter(d for _, d in seats)
    drops: Counter[str] = Counter(c for c, _ in seats)
    visits_d = sum(-(-n // r.max_pickup_stops) for n in counties.values())
    visits_c = sum(-(-n // r.max_dropoff_stops) for n in drops.values())
    return max(-(-visits_d // r.max_dropoff_stops), -(-visits_c // r.max_pickup_stops))


def threshold_bound(world: World, days: tuple[date, ...], groups: frozenset[str]) -> float:
    """Buses charged at the longest closure distance they carry (point 5 of the module doc)."""
    seats = demand(world, groups)
    if not seats:
        return 0.0
    low = world.dist.lower
    by_level: Counter[float] = Counter()
    for (c, d), q in seats.items():
        by_level[math.floor(low[c][d] / tuning.LEVEL_KM) * tuning.LEVEL_KM] += (
            q  # rounding down keeps it a bound
        )
    levels = sorted(by_level)
    caps = pooled_caps(world, days)
    model = LinearModel()
    cols = {
        (h, c.id): model.column(
            bus_cost(c, h), math.inf if caps[c.id] is None else caps[c.id], True
        )
        for h in levels
        for c in world.coaches
    }
    seat_of = {c.id: c.passenger_seats for c in world.coaches}
    for i, h in enumerate(levels):
        need = sum(by_level[x] for x in levels[i:])
        model.row(
            [(j, float(seat_of[k])) for (lv, k), j in cols.items() if lv >= h], lower=float(need)
        )
    for c in world.coaches:
        if caps[c.id] is not None:
            model.row(
                [(j, 1.0) for (_, k), j in cols.items() if k == c.id], upper=float(caps[c.id])
            )  # type: ignore[arg-type]
    fewest = min_buses(world, seats)
    if fewest:
        model.row([(j, 1.0) for j in cols.values()], lower=float(fewest))
    result = solve_linear(model, tuning.THRESHOLD_SECONDS, relative_gap=tuning.THRESHOLD_GAP)
    return result.bound if math.isfinite(result.bound) else 0.0
