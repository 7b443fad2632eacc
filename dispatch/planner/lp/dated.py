"""The dated pattern model: column generation over a block of several dates that keeps the dates.

The pooled model of colgen.py maps every date of a block to one imaginary day, so a bus of the
first date may carry a group whose window is the last. Here a column is a bus of coach type k on
date t stopping at the sites of pattern p; it gives seats to the items (e, t), the commodities e
of p that have a group whose window holds t, at most U_et seats each (those groups' seats), and
costs what the pooled column costs. Every bus of a plan is such a point (it carries only groups
whose windows hold its date), so every plan is a non-negative combination of vertex columns
meeting these rows, and colgen.py's Lagrangian and Farley bounds hold for it unchanged:

- seats (Hall's condition): for a commodity e and an interval of dates I, the seats given to e
  by buses on dates in I ≥ D_e(I), the seats of e's groups whose window lies in I. A window is
  an interval, so these rows for every interval say that e's groups can be seated at all; any
  subset of them is still a relaxation, and an interval whose D_e equals that of an interval
  one date shorter is implied by it and left out;
- visits: for the same e and I, the buses on dates in I whose pattern holds e
  ≥ ceil(D_e(I) / largest seats);
- site visits: buses stopping at a county or drop-off site over the block, as in colgen.py;
- total buses ≥ `fewest`, and buses of a type on a date ≤ its availability that date.

The interval over the whole block makes every pooled row a row here, each dated column is a
pooled one with no more seats, and the availability rows per date imply the pooled ones: the
dated LP is never below the pooled LP, and above it where pooling lets a bus carry a group on a
date outside its window. A dated pattern keeps only the items of its date; one whose sites are
not all used by such items costs at least the smaller pattern that drops them (closure km), so
it is left out, as patterns.py leaves out uncovered ones.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from dispatch.planner.lp.columns import (
    BoundInput,
    Master,
    Space,
    block_rows,
    generate,
    padded,
    plan_columns,
    real_values,
    seed_columns,
)
from dispatch.planner.lp.dive import covered
from dispatch.planner.world.blocks import Commodity
from dispatch.planner.world.buses import World

Window = tuple[int, int, int]  # first date index, last date index, seats


def dated_bound(
    world: World, days: tuple[date, ...], groups: frozenset[str], task: BoundInput, seconds: float
) -> DatedResult:
    """The best proven bound of the dated model within `seconds` (-inf when nothing was proved),
    and the seats its last LP gives each commodity on each date. `task` is the block's pooled
    model: its patterns, seats, bus counts, stop limits and seeds serve here too."""
    deadline = time.monotonic() + seconds
    space = dated_space(task, days, _windows(world, days, groups))
    if not space.kinds:
        return DatedResult(-math.inf)
    master = Master(space)
    seed_columns(master)
    plan_columns(master, task.seeds, {d: t for t, d in enumerate(days)})
    bound, values = generate(master, task.most, deadline)
    if not values or not covered(master, values):
        return DatedResult(bound)
    keys = sorted(space.item_of, key=space.item_of.__getitem__)
    seats: dict[tuple[Commodity, date], float] = defaultdict(float)
    for x, (p, _, load) in zip(real_values(master, values), master.columns, strict=True):
        if x > 0:
            for e, s in zip(space.items[p], load, strict=False):
                e_, t = keys[int(e)]
                seats[(e_, days[t])] += x * s
    return DatedResult(bound, dict(seats))


@dataclass(frozen=True)
class DatedResult:
    """The dated model's bound, and the seats per (commodity, date) of its last LP when that LP
    met demand (a primal guide, never part of a bound)."""

    bound: float
    seats: Mapping[tuple[Commodity, date], float] = field(default_factory=dict)


def _windows(
    world: World, days: tuple[date, ...], groups: frozenset[str]
) -> dict[Commodity, list[Window]]:
    """Each commodity's groups as (first, last, seats), dates numbered within the block."""
    first = days[0]
    out: dict[Commodity, list[Window]] = defaultdict(list)
    for g in groups:
        grp = world.groups[g]
        out[(grp.pickup, grp.dropoff)].append(
            ((grp.earliest - first).days, (grp.latest - first).days, grp.size)
        )
    return out


def intervals(windows: list[Window], n_days: int) -> list[tuple[int, int, int]]:
    """The seat rows of one commodity: (first, last, D) for every interval of dates whose D, the
    seats of the windows inside it, exceeds that of both intervals one date shorter."""
    inside = np.zeros((n_days, n_days))
    for a, b, q in windows:
        inside[a, b] += q
    # d[a, b] = seats of windows [s, l] with s ≥ a and l ≤ b
    d = np.cumsum(np.cumsum(inside[::-1], axis=0)[::-1], axis=1)
    out = []
    for a in range(n_days):
        for b in range(a, n_days):
            shorter = max(d[a + 1, b] if a + 1 <= b else 0.0, d[a, b - 1] if b - 1 >= a else 0.0)
            if d[a, b] > shorter:
                out.append((a, b, int(d[a, b])))
    return out


def dated_space(
    task: BoundInput, days: tuple[date, ...], windows: Mapping[Commodity, list[Window]]
) -> Space:
    """The dated model's arrays (module doc), in colgen's Space."""
    coaches = task.coaches
    n_days = len(days)
    biggest = max(c.passenger_seats for c in coaches)
    comms = sorted(windows)
    need: list[float] = []
    seat_of: dict[tuple[Commodity, int], list[int]] = defaultdict(list)
    visit_of: dict[tuple[Commodity, int], list[int]] = defaultdict(list)
    upper: dict[tuple[Commodity, int], int] = defaultdict(int)
    for e in comms:
        for a, b, q in windows[e]:
            for t in range(a, b + 1):
                upper[(e, t)] += q
        rows = intervals(windows[e], n_days)
        for a, b, q in rows:
            seat_row, visit_row = len(need), len(need) + 1
            need += [float(q), float(-(-q // biggest))]
            for t in range(a, b + 1):
                seat_of[(e, t)].append(seat_row)
                visit_of[(e, t)].append(visit_row)
    item_keys = sorted(upper)
    item_of = {key: i for i, key in enumerate(item_keys)}
    site_row, shared = block_rows(task, len(need))
    need += shared
    items, sites, km, day, where = [], [], [], [], {}
    for p in task.patterns:
        for t in range(n_days):
            carried = [e for e in p.commodities if (e, t) in item_of]
            if {c for c, _ in carried} != p.pickups or {d for _, d in carried} != p.drops:
                continue  # a smaller pattern drops the unused sites for less
            where[(p.pickups, p.drops, t)] = len(items)
            items.append([item_of[(e, t)] for e in carried])
            sites.append([site_row[s] for s in sorted(p.pickups | p.drops)])
            km.append(p.km)
            day.append(t)
    caps = [[c.available_on(d) for d in days] for c in coaches]
    keep = [k for k, c in enumerate(coaches) if any(n != 0 for n in caps[k])]
    return Space(
        padded(items),
        padded(sites),
        np.array(km, dtype=float),
        np.array([upper[key] for key in item_keys], dtype=float),
        padded([seat_of[key] for key in item_keys]),
        padded([visit_of[key] for key in item_keys]),
        np.array(need, dtype=float),
        [coaches[k] for k in keep],
        [caps[k] for k in keep],
        np.array(day, dtype=np.int64),
        where,
        item_of,
    )
