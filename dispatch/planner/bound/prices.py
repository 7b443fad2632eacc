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
    TOLERANCE,
    BoundInput,
    Master,
    _clip,
    _price,
    generate,
    seed_columns,
    space_of,
)
from dispatch.planner.lp.patterns import count_patterns
from dispatch.planner.world.blocks import Commodity, blocks, demand
from dispatch.planner.world.buses import World


def demand_charges(
    world: World, groups: frozenset[str], seconds: float
) -> list[tuple[frozenset[str], dict[Commodity, float]]]:
    """Block by block within ``seconds``: each block's groups and the LP's charge of each of its
    demands. A demand of several blocks has a charge in each, for its seats there. Left out: a
    block the time did not reach, or whose LP did not converge in it (its duals are not the
    LP's), and every block where the rules set no stop limits (no pattern model) or the
    patterns are too many."""
    rules = world.rules
    if rules.max_pickup_stops is None or rules.max_dropoff_stops is None:
        return []
    deadline = time.monotonic() + seconds
    out: list[tuple[frozenset[str], dict[Commodity, float]]] = []
    for days, block in blocks(world, groups):
        if time.monotonic() > deadline:
            break
        seats = demand(world, block)
        if count_patterns(world, seats) > tuning.COLUMN_PATTERN_LIMIT:
            continue
        charges = _charges(pattern_input(world, days, seats, len(block)), deadline)
        if charges:
            out.append((frozenset(block), charges))
    return out


def _charges(task: BoundInput, deadline: float) -> dict[Commodity, float]:
    """One block: price columns out, then read the duals of each demand's rows (none when
    columns still price out at the deadline)."""
    space = space_of(task)
    if not space.kinds:
        return {}
    master = Master(space)
    seed_columns(master)
    generate(master, task.most, deadline, bounding=False)
    lp = master.lp.solve(max(0.5, deadline - time.monotonic()))
    if not lp.duals:
        return {}
    duals = _clip(lp.duals, master)
    if _price(master, duals)[0].min() < -TOLERANCE * master.ceiling:
        return {}  # stopped by the deadline: a season's 97,000 groups in 2 s gave 13 CNY a seat
    return _shares(task, duals[: len(space.need)] * space.need)


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
    """Each group's part of its demand's charge in its block, by its seats there."""
    out = {}
    for block, charges in demand_charges(world, groups, seconds):
        seats = demand(world, block)
        for g in block:
            grp = world.groups[g]
            key = (grp.pickup, grp.dropoff)
            if key in charges:
                out[g] = charges[key] * grp.size / seats[key]
    return out
