"""A lower bound by column generation on the pattern model, valid at every iteration.

The model (a relaxation of every plan of one pooled block, see bound/lower.py): a column is one bus
of coach type k that stops at the sites of pattern p (patterns.py) and carries s_e seats of
each commodity e of p, 0 ≤ s_e ≤ min(q_e, seats_k), Σ s_e ≤ seats_k; it costs fixed_k +
per_km_k × km_p, km_p the shortest order by the closure, so no more than any real bus with those
stops. Every bus of a plan is such a point (s its seats per commodity, an integer point of the
seat polytope, hence a convex combination of the polytope's vertices with the same p, k and
cost), so every plan is a non-negative combination x of vertex columns meeting the rows:

- seats: Σ s_e x ≥ q_e for every commodity e;
- commodity visits: buses whose pattern holds e ≥ ceil(q_e / largest seats);
- site visits: buses stopping at a county ≥ max(ceil(its seats / largest seats),
  ceil(drop-off sites it sends to / max drop-off stops)), and alike for a drop-off site;
- on a block of several dates, each of those visit rows also ≥ the fewest dates that meet every
  window of the commodity's (the site's) groups (world/blocks.fewest_dates): on each date one of
  them leaves, a bus carrying it runs;
- total buses ≥ `fewest` (bound.min_buses, or bound/count.py where it ran, and seats / largest
  seats);
- buses of a type ≤ its pooled availability;
- total buses ≤ `most`, a number of buses some optimal plan keeps within (bound/lower.py: the groups,
  as an optimal plan runs no empty bus, or a plan's cost over the cheapest bus). The bounds
  below hold for that optimal plan, hence for every plan.

Lagrangian bound: for any dual vector d with d ≥ 0 on ≥ rows and d ≤ 0 on ≤ rows, and every
column j, cost_j = rc_j + d·A_j, so for every x above, cost·x = Σ rc_j x_j + d·(A x)
≥ most × min(0, min_j rc_j) + d·b. Pricing looks at every (pattern, type) pair and takes the
best vertex by the fractional knapsack (greedy by dual), so min_j rc_j is exact over all columns.
The duals come from the restricted LP (GLOP) and are clipped to their signs and to `ceiling`;
clipping only picks another d, and artificial columns of cost `ceiling` in the ≥ rows then have
rc ≥ 0, so the formula holds however early the loop stops or however inexact the LP solver is.
Farley's bound (columns.py `_farley`) is a second one from the same duals, often better early on.

Bus-count split: every plan runs an integer number B of buses, so the bound is the smaller of
the bounds of the two halves B ≤ n and B ≥ n + 1 (each adds its row; the first also lowers
`most` to n), n the floor of the LP's bus count. It adds little (+0.09 % on the 1,000-worker
benchmark day, for a second of pricing), so the halves get at most the time the whole LP took.

Dive (dive.py, plans only): after the bound, the LP is rounded to whole buses by raising the
columns it runs most nearly whole and re-pricing, a primal heuristic; rebuild/dives.py packs real
groups onto the result. Where a dive ends is chaotic (the LP is degenerate: on the 1,000-worker
day, a slightly different greedy start turned a 25-bus plan into a 26-bus one), so there are
two: one with the buses capped at n (the floor of the LP's count, the half the optimum most
likely lies in), then one without a cap, in a fresh LP of the columns priced for the bound so
that the first dive's columns do not steer it. rebuild/dives.py packs both and keeps the cheaper plan.
The second runs only when the time left holds another dive as long as the first, and the
capped one is left out when the LP cannot meet demand within the cap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from dispatch.planner.lp.charges import settled_charges
from dispatch.planner.lp.columns import (
    TOLERANCE,
    BoundInput,
    Master,
    generate,
    plan_columns,
    real_values,
    seed_columns,
    space_of,
)
from dispatch.planner.lp.dive import covered, dive
from dispatch.planner.lp.patterns import Pattern
from dispatch.planner.world.blocks import Commodity


@dataclass(frozen=True)
class ColumnResult:
    """The proven bound, and the whole buses of each dive (one (pattern, coach type id) per bus;
    none when no dive was asked; bound/lower.py adds the fewest-buses cover of bound/count.py
    where it ran); on a block of several dates, the seats per (commodity, date) of the dated LP
    (lp/dated.py), when it ran; when asked, what the converged LP charges each demand
    (charges.py; none when it did not converge)."""

    bound: float
    dives: list[list[tuple[Pattern, str]]] = field(default_factory=list)
    dated_seats: Mapping[tuple[Commodity, date], float] = field(default_factory=dict)
    charges: Mapping[Commodity, float] = field(default_factory=dict)


def column_bound(
    task: BoundInput,
    seconds: float,
    split: bool = True,
    dive_seconds: float = 0.0,
    charges: bool = False,
) -> ColumnResult:
    """The best proven bound within `seconds` (-inf when nothing was proved), with `charges`
    the LP's charge of each demand; then, when `dive_seconds` is given, whole buses rounded from
    the LP by diving (`dive`), all within `seconds`: what the bound leaves, at most
    `dive_seconds`, goes to the dive."""
    start = time.monotonic()
    deadline = start + seconds
    space = space_of(task)
    if not space.kinds:
        return ColumnResult(-math.inf)
    master = Master(space)
    seed_columns(master)
    plan_columns(master, task.seeds, {seed[4]: 0 for seed in task.seeds})  # one pooled day
    whole, values = generate(master, task.most, deadline)
    charged = settled_charges(master, task, deadline - time.monotonic()) if charges else {}
    bound = whole
    buses = float(real_values(master, values).sum()) if values else math.inf
    if split and values:  # the halves get at most the time the whole LP took
        until = min(deadline, 2 * time.monotonic() - start)
        bound = max(whole, _split_bound(master, task, buses, until))
    if dive_seconds <= 0 or not values:
        return ColumnResult(bound, charges=charged)
    dive_end = min(time.monotonic() + dive_seconds, deadline)  # within the same `seconds`
    dives: list[list[tuple[Pattern, str]]] = []
    took, priced = 0.0, list(master.columns)
    for cap in (float(math.floor(buses + TOLERANCE)), math.inf):
        began = time.monotonic()
        if dive_end - began < took:
            break
        if dives:  # a fresh LP of the bound's columns, without the first dive's
            master = Master(space)
            for column in priced:
                master.add(*column)
        master.split(-math.inf, cap)
        _, fresh = generate(master, task.most, dive_end, bounding=False)
        if fresh and covered(master, fresh):  # not when the cap leaves demand to artificials
            dives.append(dive(master, task, fresh, dive_end))
        took = time.monotonic() - began
    return ColumnResult(bound, dives, charges=charged)


def _split_bound(master: Master, task: BoundInput, buses: float, deadline: float) -> float:
    """The smaller bound of the halves B ≤ n and B ≥ n + 1 (n the LP's bus count `buses` rounded
    down); -inf when the count is whole already or time is up."""
    n = math.floor(buses + TOLERANCE)
    if buses - n < 1e-4 or time.monotonic() > deadline:
        return -math.inf
    master.split(-math.inf, float(n))
    halfway = time.monotonic() + (deadline - time.monotonic()) / 2
    low, _ = generate(master, min(task.most, n), halfway)
    master.split(float(n + 1), math.inf)
    high, _ = generate(master, task.most, deadline)
    return min(low, high)
