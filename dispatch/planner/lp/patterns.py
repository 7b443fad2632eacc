"""Bus patterns: which counties and which drop-off sites one bus serves, within the rules.

A pattern is a pair (pickup sites P, drop-off sites D) such that every site in P has demand
to some site of D and every site of D has demand from some site of P. Every bus of every
feasible plan, reduced to the sites where it actually picks up or drops someone, is one of
these patterns: its stops obey the stop counts and the spread, and its non-empty stops are
covered by the groups it carries. That completeness is what makes the pattern model's dual
bound a bound on every plan (see bound/lower.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from dispatch.planner import tuning
from dispatch.planner.world.blocks import Commodity
from dispatch.planner.world.buses import World


@dataclass(frozen=True)
class Pattern:
    """Pickup sites, drop-off sites, the commodities it may carry, and its shortest km."""

    pickups: frozenset[str]
    drops: frozenset[str]
    commodities: tuple[Commodity, ...]
    km: float


def enumerable(world: World, demand: Mapping[Commodity, int]) -> bool:
    """Whether the stop rules keep the pattern space small enough for the covering MIP."""
    return count_patterns(world, demand) <= tuning.COVER_PATTERN_LIMIT


def count_patterns(world: World, demand: Mapping[Commodity, int]) -> float:
    """At most how many patterns the stop rules allow (infinite without stop limits)."""
    r = world.rules
    if r.max_pickup_stops is None or r.max_dropoff_stops is None:
        return math.inf
    n_pick = len({c for c, _ in demand})
    n_drop = len({d for _, d in demand})
    return _choose_upto(n_pick, r.max_pickup_stops) * _choose_upto(n_drop, r.max_dropoff_stops)


def _choose_upto(n: int, k: int) -> int:
    """Number of non-empty subsets of at most k of n items."""
    total, term = 0, 1
    for i in range(1, min(n, k) + 1):
        term = term * (n - i + 1) // i
        total += term
    return total


def enumerate_patterns(
    world: World, demand: Mapping[Commodity, int], max_pickups: int, max_drops: int
) -> list[Pattern]:
    """Every covered pattern within the given stop limits and the spread rule, shortest km by the closure."""
    to_drop: dict[str, set[str]] = defaultdict(set)
    for c, d in demand:
        to_drop[d].add(c)
    drops_all = sorted(to_drop)
    out = []
    for dset in _drop_sets(world, drops_all, max_drops):
        counties = sorted(set().union(*(to_drop[d] for d in dset)))
        for size in range(1, min(max_pickups, len(counties)) + 1):
            for pset in combinations(counties, size):
                pattern = _pattern(world, demand, frozenset(pset), dset)
                if pattern is not None:
                    out.append(pattern)
    return out


def _drop_sets(world: World, drops: list[str], max_drops: int) -> list[frozenset[str]]:
    """Drop-off site sets within the count and spread rules."""
    out = []
    for size in range(1, min(max_drops, len(drops)) + 1):
        out += [frozenset(ds) for ds in combinations(drops, size) if world.spread_ok(ds)]
    return out


def _pattern(
    world: World, demand: Mapping[Commodity, int], pickups: frozenset[str], drops: frozenset[str]
) -> Pattern | None:
    """The pattern when every one of its sites is used by some commodity, else None."""
    comms = tuple(sorted((c, d) for c in pickups for d in drops if (c, d) in demand))
    if {c for c, _ in comms} != pickups or {d for _, d in comms} != drops:
        return None
    km = world.dist.lower_order.best(pickups, drops)[1]
    return Pattern(pickups, drops, comms, km)
