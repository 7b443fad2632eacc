"""What the pattern model's LP charges each demand (county → drop-off site), for groups at hand:
column generation run on each block of dates until it converges, its duals shared out by
lp/charges.py (whose doc says how). A plan made by the planner carries the charges of the LP
that bounded it (Plan.prices); this is for the plans that do not (a small day bounded by the
covering MIP, or a plan made before plans carried them).

An estimate to rank which demand is dearest, read off the relaxation: never a saving. A saving
shown to a coordinator is always that of a whole changed plan the checker has proven
(advice.py).
"""

from __future__ import annotations

import time

from dispatch.planner import tuning
from dispatch.planner.bound.lower import pattern_input
from dispatch.planner.lp.charges import settled_charges
from dispatch.planner.lp.columns import BoundInput, Master, generate, seed_columns, space_of
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
    return settled_charges(master, task, deadline - time.monotonic())


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
