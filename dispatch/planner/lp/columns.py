"""The column-generation machinery of colgen.py: the pattern space as arrays, the restricted
master LP, pricing every (pattern, coach type) at once, and the two bounds read off its duals.

The proofs are in colgen.py's module doc.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from dispatch.planner import tuning
from dispatch.planner.cost import bus_cost, bus_costs
from dispatch.planner.lp.patterns import Pattern
from dispatch.planner.lp.solvers import GrowingLp
from dispatch.planner.model import CoachType
from dispatch.planner.world.blocks import Commodity, commodity_visits, site_visits

# A bus of some plan: its pickups, drop-offs, coach type, seats per commodity and date.
Seed = tuple[frozenset[str], frozenset[str], str, Mapping[Commodity, int], date]
TOLERANCE = 1e-6


@dataclass(frozen=True)
class BoundInput:
    """One pooled block: its patterns, fleet, pooled caps, seats per commodity and row data."""

    patterns: list[Pattern]
    coaches: list[CoachType]
    caps: Mapping[str, int | None]
    seats: Mapping[Commodity, int]
    max_drops: int
    max_pickups: int
    fewest: int
    most: int
    seeds: tuple[Seed, ...] = ()
    # Fewest buses carrying a commodity or stopping at a site, on a block of several dates where
    # its windows say more than its seats (world/blocks.fewest_dates).
    least: Mapping[Commodity | str, int] = field(default_factory=dict)


@dataclass
class Space:
    """Patterns as arrays for pricing, and the right-hand sides of the ≥ rows.

    A pattern carries items: a commodity here (one pooled day), a commodity on a date in the dated
    model of dated.py. A seat given to an item counts in each of its `seat_rows`, and a bus whose
    pattern holds the item counts once in each of its `visit_rows`."""

    items: np.ndarray  # [patterns, width] item index, -1 padding
    sites: np.ndarray  # [patterns, width] ≥ row of each site the pattern stops at, -1 padding
    km: np.ndarray
    upper: np.ndarray  # per item: the most seats one bus can give it
    seat_rows: np.ndarray  # [items, m] ≥ rows, -1 padding
    visit_rows: np.ndarray  # [items, m] ≥ rows, -1 padding
    need: np.ndarray  # ≥ right-hand sides, the total of buses last
    kinds: list[CoachType]  # coach types that may run at all
    caps: list[list[int | None]]  # per kind, per date index: buses of that kind
    day: np.ndarray  # per pattern, the index of its date in `caps` (0 when pooled)
    where: Mapping[tuple[frozenset[str], frozenset[str], int], int]  # (pickups, drops, day) → p
    item_of: Mapping[tuple[Commodity, int], int]  # (commodity, day) → item


class Master:
    """The restricted master LP: ≥ rows (each with an artificial column), cap rows, split row."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.ceiling = _ceiling(space)
        self.limits = [(float(b), math.inf) for b in space.need]
        self.cap_row: dict[tuple[int, int], int] = {}
        for k, caps in enumerate(space.caps):
            for t, cap in enumerate(caps):
                if cap is not None:
                    self.cap_row[(k, t)] = len(self.limits)
                    self.limits.append((-math.inf, float(cap)))
        self.split_row = len(self.limits)
        self.limits.append((-math.inf, math.inf))  # the bus-count split, free until used
        self.lp = GrowingLp(self.limits)
        for r in range(len(space.need)):
            self.lp.column(self.ceiling, [(r, 1.0)])
        self.columns: list[tuple[int, int, tuple[float, ...]]] = []
        self.real: list[int] = []  # the LP index of each of `columns`
        self.seen: set[tuple[int, int, tuple[float, ...]]] = set()

    def split(self, lo: float, up: float) -> None:
        """Limit the total of real buses."""
        self.limits[self.split_row] = (lo, up)
        self.lp.set_row(self.split_row, lo, up)

    def add(self, p: int, k: int, load: tuple[float, ...]) -> None:
        """A column, unless the same one is there already."""
        key = (p, k, load)
        if key in self.seen:
            return
        self.seen.add(key)
        self.columns.append(key)
        sp = self.space
        terms: list[tuple[int, float]] = []
        for e, s in zip(sp.items[p], load, strict=False):
            if s > 0:
                terms += [(int(r), s) for r in sp.seat_rows[e] if r >= 0]
            terms += [(int(r), 1.0) for r in sp.visit_rows[e] if r >= 0]
        terms += [(int(s), 1.0) for s in sp.sites[p][sp.sites[p] >= 0]]
        terms.append((len(sp.need) - 1, 1.0))
        cap = self.cap_row.get((k, int(sp.day[p])))
        if cap is not None:
            terms.append((cap, 1.0))
        terms.append((self.split_row, 1.0))
        coach = sp.kinds[k]
        self.real.append(self.lp.column(bus_cost(coach, float(sp.km[p])), terms))


def space_of(task: BoundInput) -> Space:
    """Index commodities and sites; the ≥ right-hand sides."""
    comms = sorted(task.seats)
    index = {e: i for i, e in enumerate(comms)}
    biggest = max(c.passenger_seats for c in task.coaches)
    q = np.array([task.seats[e] for e in comms], dtype=float)
    n = len(comms)
    site_row, shared = block_rows(task, 2 * n)
    visits = commodity_visits(task.seats, biggest, task.least)
    need = np.concatenate([q, [float(visits[e]) for e in comms], shared])
    kinds = [c for c in task.coaches if task.caps.get(c.id) != 0]
    return Space(
        padded([[index[e] for e in p.commodities] for p in task.patterns]),
        padded([[site_row[s] for s in sorted(p.pickups | p.drops)] for p in task.patterns]),
        np.array([p.km for p in task.patterns], dtype=float),
        q,
        np.arange(n, dtype=np.int64).reshape(n, 1),
        np.arange(n, 2 * n, dtype=np.int64).reshape(n, 1),
        need,
        kinds,
        [[task.caps.get(c.id)] for c in kinds],
        np.zeros(len(task.patterns), dtype=np.int64),
        {(p.pickups, p.drops, 0): i for i, p in enumerate(task.patterns)},
        {(e, 0): i for i, e in enumerate(comms)},
    )


def block_rows(task: BoundInput, first: int) -> tuple[dict[str, int], list[float]]:
    """The rows both models share, numbered from `first`: each county's and drop-off site's
    visit row, and the right-hand sides of those rows and, last, of the total of buses."""
    biggest = max(c.passenger_seats for c in task.coaches)
    counties, drops = site_visits(task.seats, biggest, task.max_pickups, task.max_drops, task.least)
    sites = sorted(counties) + sorted(drops)
    need = [float(counties[s]) for s in sorted(counties)] + [float(drops[s]) for s in sorted(drops)]
    need.append(float(max(task.fewest, -(-sum(task.seats.values()) // biggest))))
    return {s: first + i for i, s in enumerate(sites)}, need


def padded(rows: list[list[int]]) -> np.ndarray:
    """A rectangular int array, -1 where a row is short."""
    width = max((len(r) for r in rows), default=1)
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def seed_columns(master: Master) -> None:
    """One full-load column of the largest type per single-commodity pattern."""
    sp = master.space
    k = len(sp.kinds) - 1
    seats = sp.kinds[k].passenger_seats
    singles = np.flatnonzero(sp.items[:, 1] < 0) if sp.items.shape[1] > 1 else range(len(sp.km))
    for p in singles:
        e = sp.items[p, 0]
        master.add(int(p), k, (float(min(sp.upper[e], seats)),))


def plan_columns(master: Master, seeds: tuple[Seed, ...], days: Mapping[date, int]) -> None:
    """Columns of the buses of a plan at hand: a good start for the LP (any point is a column).
    `days` numbers the dates as the space does (every date 0 when pooled)."""
    sp = master.space
    kind = {c.id: k for k, c in enumerate(sp.kinds)}
    for pickups, drops, coach, seats, day in seeds:
        t = days.get(day)
        p = sp.where.get((pickups, drops, t)) if t is not None else None
        if p is None or coach not in kind:
            continue
        item = {int(e): i for i, e in enumerate(sp.items[p]) if e >= 0}
        load = [0.0] * len(item)
        for e, q in seats.items():
            i = item.get(sp.item_of.get((e, t), -1))
            if i is None:
                break  # not a point of this space (a group outside its window)
            load[i] = float(q)
        else:
            master.add(p, kind[coach], tuple(load))


def generate(
    master: Master,
    most: int,
    deadline: float,
    rounds: int | None = None,
    bounding: bool = True,
) -> tuple[float, list[float]]:
    """Price until no column pays, time runs out or after `rounds` (tuning.PRICING_ROUNDS unless
    given); the best bound (unless not `bounding`) and the last LP's values."""
    best, values = -math.inf, []
    for _ in range(tuning.PRICING_ROUNDS if rounds is None else rounds):
        if time.monotonic() > deadline:
            break
        lp = master.lp.solve(max(0.5, deadline - time.monotonic()))
        if not lp.duals:
            break
        duals = _clip(lp.duals, master)
        rc, loads = _price(master, duals)
        if bounding:
            best = max(best, _lagrangian(master, duals, rc, most), _farley(master, duals))
        values = lp.values
        if rc.min() > -TOLERANCE * master.ceiling or best >= lp.objective * (1 - 1e-7):
            break
        _take(master, rc, loads)
    return best, values


def real_values(master: Master, values: list[float]) -> np.ndarray:
    """The values of the real columns, in the order of `master.columns` (0 for a column added
    after that LP was solved)."""
    index = np.array(master.real, dtype=np.int64)
    known = index < len(values)
    x = np.zeros(len(index))
    x[known] = np.asarray(values, dtype=float)[index[known]]
    return x


def _ceiling(space: Space) -> float:
    """Cost of the artificial columns: above any bus, hence above any useful dual."""
    worst = max(bus_cost(c, float(space.km.max())) for c in space.kinds)
    return 2.0 * worst


def _clip(duals: list[float], master: Master) -> np.ndarray:
    """Duals with the signs the Lagrangian needs: [0, ceiling] on ≥ rows, ≤ 0 on ≤ rows, 0 on free."""
    out = np.array(duals, dtype=float)
    for r, (lo, up) in enumerate(master.limits):
        if math.isfinite(lo):
            out[r] = min(max(out[r], 0.0), master.ceiling)
        elif math.isfinite(up):
            out[r] = min(out[r], 0.0)
        else:
            out[r] = 0.0
    return out


def _price(master: Master, duals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reduced cost of the best vertex of every (pattern, type), and its seats per item."""
    sp = master.space
    pad = sp.items < 0
    idx = np.where(pad, 0, sp.items)
    value = np.where(pad, 0.0, _row_sums(duals, sp.seat_rows)[idx])
    upper = np.where(pad, 0.0, sp.upper[idx])
    visits = np.where(pad, 0.0, _row_sums(duals, sp.visit_rows)[idx]).sum(axis=1)
    visits += _row_sums(duals, sp.sites)
    visits += duals[len(sp.need) - 1] + duals[master.split_row]
    order = np.argsort(-value, axis=1, kind="stable")
    v_sorted = np.take_along_axis(value, order, axis=1)
    u_sorted = np.take_along_axis(upper, order, axis=1)
    before = np.cumsum(u_sorted, axis=1) - u_sorted
    rc = np.empty((len(sp.kinds), len(sp.km)))
    loads = np.empty((len(sp.kinds),) + sp.items.shape)
    for k, coach in enumerate(sp.kinds):
        take = np.clip(coach.passenger_seats - before, 0.0, u_sorted)
        take = np.where(v_sorted > 0, take, 0.0)
        rows = [master.cap_row.get((k, t), -1) for t in range(len(sp.caps[k]))]
        cap_dual = _row_sums(duals, np.array(rows, dtype=np.int64).reshape(-1, 1))[sp.day]
        cost = bus_costs(coach, sp.km)
        rc[k] = cost - (take * v_sorted).sum(axis=1) - visits - cap_dual
        back = np.empty_like(take)
        np.put_along_axis(back, order, take, axis=1)
        loads[k] = back
    return rc, loads


def _row_sums(duals: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per line of `rows` (row indices, -1 padding), the sum of those rows' duals."""
    pad = rows < 0
    return np.where(pad, 0.0, duals[np.where(pad, 0, rows)]).sum(axis=1)


def _lagrangian(master: Master, duals: np.ndarray, rc: np.ndarray, most: int) -> float:
    """d·b + most × min(0, min rc): a lower bound on every point of the full model."""
    rhs = np.array([lo if math.isfinite(lo) else up for lo, up in master.limits], dtype=float)
    rhs = np.where(np.isfinite(rhs), rhs, 0.0)  # free rows have dual 0
    return float(duals @ rhs) + most * min(0.0, float(rc.min()))


def _farley(master: Master, duals: np.ndarray) -> float:
    """Farley's bound: with the ≤ rows' duals set to 0 (still a dual vector), every row left is
    ≥ with d ≥ 0 and every cost is positive, so d / θ is dual feasible for θ the largest
    d·A_j / cost_j over all columns (artificial ones included), and d·b / θ is a lower bound."""
    d = duals.copy()
    for r, (lo, _) in enumerate(master.limits):
        if not math.isfinite(lo):
            d[r] = 0.0
    rc, _ = _price(master, d)
    sp = master.space
    cost = np.array([bus_costs(c, sp.km) for c in sp.kinds])
    theta = max(float(((cost - rc) / cost).max()), float(d.max()) / master.ceiling)
    rhs = np.array([lo if math.isfinite(lo) else 0.0 for lo, _ in master.limits], dtype=float)
    return float(d @ rhs) / theta if theta > 0 else -math.inf


def _take(master: Master, rc: np.ndarray, loads: np.ndarray) -> None:
    """Add the most negative columns, one per pattern (its best coach type)."""
    kind = rc.argmin(axis=0)
    best_rc = rc.min(axis=0)
    count = min(tuning.PRICING_BATCH, best_rc.size)
    best = np.argpartition(best_rc, count - 1)[:count]
    for p in best[np.argsort(best_rc[best], kind="stable")]:
        if best_rc[p] >= -TOLERANCE:
            break
        k = int(kind[p])
        width = int((master.space.items[p] >= 0).sum())
        master.add(int(p), k, tuple(float(x) for x in loads[k, p, :width]))
