"""solve(): the pipeline. Greedy plans first (construct/), then the LP/MIP rebuilds (rebuild/: a
covering MIP, or column generation and dives on full days), local search (search/), the trips
with their seats (plan/), and the lower bound (bound/)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.bound.lower import lower_bound, settled
from dispatch.planner.budget import Budget
from dispatch.planner.construct.greedy import by_county, downsize, insert_groups
from dispatch.planner.construct.topup import fill_fixed
from dispatch.planner.model import Plan, PriceKey, Problem, Summary, Unassigned
from dispatch.planner.plan.trips import number_trips
from dispatch.planner.rebuild.cover import rebuild_by_cover
from dispatch.planner.rebuild.dives import rebuild_by_dives, worth_guiding
from dispatch.planner.search.descent import descend
from dispatch.planner.search.parallel import improve_on_two_cores
from dispatch.planner.world.buses import Bus, World, copy_buses

Progress = Callable[[float, str], None]


def solve(
    problem: Problem, time_limit_s: float = 30, seed: int = 0, progress: Progress | None = None
) -> Plan:
    """The best plan found within the time limit; never nothing."""
    budget = Budget(time.monotonic(), max(0.5, float(time_limit_s)))
    report = progress or (lambda fraction, message: None)
    world = World(problem)
    buses = _locked_buses(problem)
    held = {g for b in buses for g in b.groups}  # a season's top-up: 100,000 held on 2,253 buses
    free = sorted(g for g in problem.groups if g not in held)
    topped = set(fill_fixed(world, buses, free))  # free seats of fixed trips cost nothing
    free = [g for g in free if g not in topped]
    report(0.02, "greedy plan")
    seconds = min(tuning.CONSTRUCT_DESCENT_SECONDS, budget.share(tuning.CONSTRUCT_SHARE))
    buses, missed = _greedy(world, buses, free, seconds)
    report(0.1, "optimising")
    buses, missed, known = rebuild_by_cover(world, buses, missed, budget, tuning.COVER_SHARE)
    prices: dict[PriceKey, float] = {}
    if not known and worth_guiding(world, [g for b in buses for g in b.groups]):
        report(0.3, "column generation")
        buses, missed, known, prices = rebuild_by_dives(
            world, buses, missed, budget, tuning.GUIDE_SHARE
        )
    report(0.7, "improving")
    bounded = settled(world, (g for b in buses for g in b.groups), known)
    share = tuning.BOUNDED_SHARE if bounded else tuning.IMPROVE_SHARE
    reserve = tuning.FINAL_SECONDS_PER_GROUP * len(world.groups)  # numbering trips, the bound
    seconds = max(0.0, min(budget.share(share), budget.left() - reserve))
    improve_on_two_cores(world, buses, seconds, seed)
    report(0.9, "lower bound")
    plan = _plan(world, buses, missed, budget, known, prices)
    report(1.0, "done")
    return plan


def _greedy(
    world: World, locked: list[Bus], free: list[str], seconds: float
) -> tuple[list[Bus], list[Unassigned]]:
    """The better of two constructions after local search: by drop-off site, by county tour."""
    best: tuple[int, float, list[Bus], list[Unassigned]] | None = None
    for county_first in (False, True):
        buses = copy_buses(locked)
        order = by_county(world, free) if county_first else free
        missed = insert_groups(world, buses, order, keep_order=county_first)
        downsize(world, buses)
        descend(world, buses, time.monotonic() + seconds, random.Random(0))
        cost = sum(world.bus_cost(b) for b in buses)
        if best is None or (len(missed), cost) < best[:2]:
            best = (len(missed), cost, buses, missed)
    assert best is not None
    return best[2], best[3]


def _locked_buses(problem: Problem) -> list[Bus]:
    """Working buses for the coordinator's locked trips."""
    return [
        Bus(
            t.date, t.coach_type, list(t.group_ids()), t.id, dict(t.seats), frozenset(t.group_ids())
        )
        for t in problem.fixed_trips
    ]


def _plan(
    world: World,
    buses: list[Bus],
    missed: list[Unassigned],
    budget: Budget,
    known: dict[frozenset[str], float],
    prices: Mapping[PriceKey, float],
) -> Plan:
    """Trips with fresh ids, the unserved groups, the summary with the bound, and the LP's
    prices of the demands served."""
    trips = number_trips(world, buses)
    served = frozenset(g for t in trips for g in t.group_ids())
    spent: Counter[date] = Counter()
    for t in trips:
        spent[t.date] += t.cost
    bound = lower_bound(world, served, budget.share(1.0), known, spent)
    cost = sum(t.cost for t in trips)
    gap = (cost - bound) / cost if cost > 0 else 0.0
    summary = Summary(cost, len(trips), bound, gap, time.monotonic() - budget.start)
    demands = {(t.date, *k) for t in trips for k in _demands(world, t.group_ids())}
    charged = {k: v for k, v in prices.items() if k in demands}
    return Plan(tuple(trips), tuple(sorted(missed, key=lambda u: u.group)), summary, charged)


def _demands(world: World, groups: Iterable[str]) -> set[tuple[str, str]]:
    """The (pickup, drop-off) pairs of some groups."""
    return {(world.groups[g].pickup, world.groups[g].dropoff) for g in groups}
