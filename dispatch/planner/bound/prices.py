"""What the pattern model's LP charges each demand (county → drop-off site): its dual prices.

Column generation (lp/colgen.py) solves the LP relaxation of the pattern model on each block of
dates. At its optimum, by LP duality, the cost of the LP equals the sum over its rows of each
row's dual price times its right-hand side. The rows of one demand are its seats (q seats, each
priced at the seat row's dual: what one more seat of it would add) and the buses that must
carry it (its visit row); their share is what the LP charges that demand. The rows shared by
several demands (the buses stopping at a site, the buses in all) are shared out by seats, so
the charges add up to the LP's cost, less the (non-positive) share of the coach limits.

An estimate to rank which demand is dearest, read off the relaxation: never a saving. A saving
shown to a coordinator is always that of a whole changed plan the checker has proven
(advice.py).
"""

from __future__ import annotations

import math
import time

import numpy as np

from dispatch.planner import tuning
from dispatch.planner.bound.lower import pattern_input
from dispatch.planner.lp.columns import (
    BoundInput,
    Master,
    _clip,
    generate,
    seed_columns,
    space_of,
)
from dispatch.planner.lp.patterns import count_patterns
from dispatch.planner.world.blocks import Commodity, blocks, demand
from dispatch.planner.world.buses import World


def demand_charges(world: World, groups: frozenset[str], seconds: float) -> dict[Commodity, float]:
    """The LP's charge for each demand of ``groups``, block by block, within ``seconds``; empty
    where the rules set no stop limits (no pattern model) or the patterns are too many."""
    rules = world.rules
    if rules.max_pickup_stops is None or rules.max_dropoff_stops is None:
        return {}
    deadline = time.monotonic() + seconds
    out: dict[Commodity, float] = {}
    for days, block in blocks(world, groups):
        if time.monotonic() > deadline:
            break
        seats = demand(world, block)
        if count_patterns(world, seats) > tuning.COLUMN_PATTERN_LIMIT:
            continue
        out.update(_charges(pattern_input(world, days, seats, len(block)), deadline))
    return out


def _charges(task: BoundInput, deadline: float) -> dict[Commodity, float]:
    """One block: price columns out, then read the duals of each demand's rows."""
    space = space_of(task)
    if not space.kinds:
        return {}
    master = Master(space)
    seed_columns(master)
    generate(master, task.most, deadline, bounding=False)
    lp = master.lp.solve(max(0.5, deadline - time.monotonic()))
    if not lp.duals:
        return {}
    return _shares(task, _clip(lp.duals, master)[: len(space.need)] * space.need)


def _shares(task: BoundInput, paid: np.ndarray) -> dict[Commodity, float]:
    """Each demand's rows, plus its part of the shared rows by its seats (``paid``: each ≥ row's
    dual times its right-hand side, in space_of's order: seats, visits, sites, total)."""
    comms = sorted(task.seats)
    n = len(comms)
    seats = {e: float(task.seats[e]) for e in comms}
    sites = sorted({c for c, _ in comms}) + sorted({d for _, d in comms})
    at_site = {s: sum(q for e, q in seats.items() if s in e) for s in sites}
    total = sum(seats.values())
    charges = {}
    for i, e in enumerate(comms):
        charge = paid[i] + paid[n + i] + paid[-1] * seats[e] / total
        for j, site in enumerate(sites):
            if site in e:
                charge += paid[2 * n + j] * seats[e] / at_site[site]
        if math.isfinite(charge):
            charges[e] = float(charge)
    return charges


def group_charges(world: World, groups: frozenset[str], seconds: float) -> dict[str, float]:
    """Each group's part of its demand's charge, by its seats."""
    charges = demand_charges(world, groups, seconds)
    seats = demand(world, groups)
    out = {}
    for g in groups:
        grp = world.groups[g]
        key = (grp.pickup, grp.dropoff)
        if key in charges:
            out[g] = charges[key] * grp.size / seats[key]
    return out
