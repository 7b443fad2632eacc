"""solve(): greedy plan first, then pattern optimisation (a covering MIP, or column generation on
full days), local search, then the bound."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from dispatch.planner.bound import lower_bound, settled
from dispatch.planner.buses import Bus, World, to_trip
from dispatch.planner.greedy import by_county, downsize, insert_groups
from dispatch.planner.guided import guide, worth_guiding
from dispatch.planner.improve import copy_buses, descend
from dispatch.planner.model import Plan, Problem, Summary, Trip, Unassigned
from dispatch.planner.optimise import optimise
from dispatch.planner.parallel import improve_on_two_cores

Progress = Callable[[float, str], None]
OPTIMISE_SHARE = 0.75
IMPROVE_SHARE = 0.85
# When column generation has bounded every block, or the rules set no stop limits, only the
# threshold bound is left to compute.
BOUNDED_SHARE = 0.97
GUIDE_SHARE = 0.75  # column generation wants 10–30 s on a full day; local search stalls sooner
DESCEND_SECONDS = 2.0  # per construction; a descent took 0.2–1.2 s at 1,000 workers


@dataclass(frozen=True)
class Budget:
    """Wall-clock budget of one solve."""

    start: float
    limit: float

    def left(self) -> float:
        """Seconds still available."""
        return self.limit - (time.monotonic() - self.start)

    def share(self, fraction: float) -> float:
        """A fraction of what is left, never negative."""
        return max(0.0, self.left() * fraction)


def solve(
    problem: Problem, time_limit_s: float = 30, seed: int = 0, progress: Progress | None = None
) -> Plan:
    """The best plan found within the time limit; never nothing."""
    budget = Budget(time.monotonic(), max(0.5, float(time_limit_s)))
    report = progress or (lambda fraction, message: None)
    world = World(problem)
    buses = _locked_buses(problem)
    free = sorted(g for g in problem.groups if not any(g in b.groups for b in buses))
    report(0.02, "greedy plan")
    buses, missed = _greedy(world, buses, free, min(DESCEND_SECONDS, budget.share(0.1)))
    report(0.1, "optimising")
    buses, missed, known = optimise(world, buses, missed, budget, OPTIMISE_SHARE)
    if not known and worth_guiding(world, [g for b in buses for g in b.groups]):
        report(0.3, "column generation")
        buses, missed, known = guide(world, buses, missed, budget, GUIDE_SHARE)
    report(0.7, "improving")
    bounded = settled(world, (g for b in buses for g in b.groups), known)
    improve_on_two_cores(
        world, buses, budget.share(BOUNDED_SHARE if bounded else IMPROVE_SHARE), seed
    )
    report(0.9, "lower bound")
    plan = _plan(world, buses, missed, budget, known)
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
) -> Plan:
    """Trips with fresh ids, the unserved groups, and the summary with the bound."""
    trips = _trips(world, buses)
    served = frozenset(g for t in trips for g in t.group_ids())
    spent: Counter[date] = Counter()
    for t in trips:
        spent[t.date] += t.cost
    bound = lower_bound(world, served, budget.share(1.0), known, spent)
    cost = sum(t.cost for t in trips)
    gap = (cost - bound) / cost if cost > 0 else 0.0
    summary = Summary(cost, len(trips), bound, gap, time.monotonic() - budget.start)
    return Plan(tuple(trips), tuple(sorted(missed, key=lambda u: u.group)), summary)


def _trips(world: World, buses: list[Bus]) -> list[Trip]:
    """Trips in date order; new ids T1, T2, … skipping locked ids."""
    taken = {b.fixed_id for b in buses if b.fixed_id}
    counter = 0
    trips = []
    for bus in sorted((b for b in buses if b.groups or b.fixed_id), key=_bus_key):
        trip_id = bus.fixed_id
        while trip_id is None or (bus.fixed_id is None and trip_id in taken):
            counter += 1
            trip_id = f"T{counter}"
        trip = to_trip(world, bus, trip_id)
        assert trip is not None, "seats of a working bus were checked when it was filled"
        trips.append(trip)
    return trips


def _bus_key(bus: Bus) -> tuple[object, ...]:
    """Stable order: date, then destination, then county, then groups."""
    return (bus.date, bus.fixed_id is None, sorted(bus.groups))
