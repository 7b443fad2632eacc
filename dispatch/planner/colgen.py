"""A lower bound by column generation on the pattern model, valid at every iteration.

The model (a relaxation of every plan of one pooled block, see bound.py): a column is one bus
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
- total buses ≥ `fewest` (bound.min_buses and seats / largest seats);
- buses of a type ≤ its pooled availability;
- total buses ≤ `most`, a number of buses some optimal plan keeps within (bound.py: the groups,
  as an optimal plan runs no empty bus, or a plan's cost over the cheapest bus). The bounds
  below hold for that optimal plan, hence for every plan.

Lagrangian bound: for any dual vector d with d ≥ 0 on ≥ rows and d ≤ 0 on ≤ rows, and every
column j, cost_j = rc_j + d·A_j, so for every x above, cost·x = Σ rc_j x_j + d·(A x)
≥ most × min(0, min_j rc_j) + d·b. Pricing looks at every (pattern, type) pair and takes the
best vertex by the fractional knapsack (greedy by dual), so min_j rc_j is exact over all columns.
The duals come from the restricted LP (GLOP) and are clipped to their signs and to `ceiling`;
clipping only picks another d, and artificial columns of cost `ceiling` in the ≥ rows then have
rc ≥ 0, so the formula holds however early the loop stops or however inexact the LP solver is.
Farley's bound (`_farley`) is a second one from the same duals, often better early on.

Bus-count split: every plan runs an integer number B of buses, so the bound is the smaller of
the bounds of the two halves B ≤ n and B ≥ n + 1 (each adds its row; the first also lowers
`most` to n), n the floor of the LP's bus count. It adds little (+0.09 % on the 1,000-worker
benchmark day, for a second of pricing), so the halves get at most the time the whole LP took.

Dive (`_dive`, plans only): after the bound, the LP is rounded to whole buses by raising the
columns it runs most nearly whole and re-pricing, a primal heuristic; guided.py packs real
groups onto the result. Where a dive ends is chaotic (the LP is degenerate: on the 1,000-worker
day, a slightly different greedy start turned a 25-bus plan into a 26-bus one), so there are
two: one with the buses capped at n (the floor of the LP's count, the half the optimum most
likely lies in), then one without a cap, in a fresh LP of the columns priced for the bound so
that the first dive's columns do not steer it. guided.py packs both and keeps the cheaper plan.
The second runs only when the time left holds another dive as long as the first, and the
capped one is left out when the LP cannot meet demand within the cap.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from dispatch.planner.mip import GrowingLp
from dispatch.planner.model import CoachType
from dispatch.planner.patterns import Commodity, Pattern

Seed = tuple[frozenset[str], frozenset[str], str, Mapping[Commodity, int]]  # a bus of some plan
BATCH = 400  # columns added per pricing round
MAX_ROUNDS = 100_000  # per phase; the clock ends the loop first
TOLERANCE = 1e-6
DIVE_UP = 0.9  # columns run at least this much over a whole number are raised together
DIVE_ROUNDS = 8  # pricing rounds after each rounding step
DIVE_TOLERANCE = 1e-4


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


@dataclass
class _Space:
    """Patterns as arrays for pricing, and the right-hand sides of the ≥ rows."""

    items: np.ndarray  # [patterns, width] commodity index, -1 padding
    sites: np.ndarray  # [patterns, width] site row index, -1 padding
    km: np.ndarray
    q: np.ndarray
    need: np.ndarray  # ≥ rows: seats per commodity, visits per commodity, visits per site, total
    n_comm: int
    n_site: int
    kinds: list[CoachType]  # coach types that may run at all
    caps: list[int | None]


class _Master:
    """The restricted master LP: ≥ rows (each with an artificial column), cap rows, split row."""

    def __init__(self, space: _Space) -> None:
        self.space = space
        self.ceiling = _ceiling(space)
        self.limits = [(float(b), math.inf) for b in space.need]
        self.cap_row: dict[int, int] = {}
        for k, cap in enumerate(space.caps):
            if cap is not None:
                self.cap_row[k] = len(self.limits)
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
                terms.append((int(e), s))
            terms.append((sp.n_comm + int(e), 1.0))
        terms += [(2 * sp.n_comm + int(s), 1.0) for s in sp.sites[p][sp.sites[p] >= 0]]
        terms.append((len(sp.need) - 1, 1.0))
        if k in self.cap_row:
            terms.append((self.cap_row[k], 1.0))
        terms.append((self.split_row, 1.0))
        coach = sp.kinds[k]
        cost = coach.fixed_cost + coach.cost_per_km * float(sp.km[p])
        self.real.append(self.lp.column(cost, terms))


@dataclass(frozen=True)
class ColumnResult:
    """The proven bound, and the whole buses of each dive (one (pattern, coach type id) per bus;
    none when no dive was asked)."""

    bound: float
    dives: list[list[tuple[Pattern, str]]] = field(default_factory=list)


def column_bound(
    task: BoundInput, seconds: float, split: bool = True, dive_seconds: float = 0.0
) -> ColumnResult:
    """The best proven bound within `seconds` (-inf when nothing was proved); then, when
    `dive_seconds` is given, whole buses rounded from the LP by diving (`_dive`), all within
    `seconds`: what the bound leaves, at most `dive_seconds`, goes to the dive."""
    start = time.monotonic()
    deadline = start + seconds
    space = _space(task)
    if not space.kinds:
        return ColumnResult(-math.inf)
    master = _Master(space)
    _seed_columns(master)
    _plan_columns(master, task)
    whole, values = _generate(master, task.most, deadline)
    bound = whole
    buses = float(_real_values(master, values).sum()) if values else math.inf
    if split and values:  # the halves get at most the time the whole LP took
        until = min(deadline, 2 * time.monotonic() - start)
        bound = max(whole, _split_bound(master, task, buses, until))
    if dive_seconds <= 0 or not values:
        return ColumnResult(bound)
    dive_end = min(time.monotonic() + dive_seconds, deadline)  # within the same `seconds`
    dives: list[list[tuple[Pattern, str]]] = []
    took, priced = 0.0, list(master.columns)
    for cap in (float(math.floor(buses + TOLERANCE)), math.inf):
        began = time.monotonic()
        if dive_end - began < took:
            break
        if dives:  # a fresh LP of the bound's columns, without the first dive's
            master = _Master(space)
            for column in priced:
                master.add(*column)
        master.split(-math.inf, cap)
        _, fresh = _generate(master, task.most, dive_end, bounding=False)
        if fresh and _covered(master, fresh):  # not when the cap leaves demand to artificials
            dives.append(_dive(master, task, fresh, dive_end))
        took = time.monotonic() - began
    return ColumnResult(bound, dives)


def _split_bound(master: _Master, task: BoundInput, buses: float, deadline: float) -> float:
    """The smaller bound of the halves B ≤ n and B ≥ n + 1 (n the LP's bus count `buses` rounded
    down); -inf when the count is whole already or time is up."""
    n = math.floor(buses + TOLERANCE)
    if buses - n < 1e-4 or time.monotonic() > deadline:
        return -math.inf
    master.split(-math.inf, float(n))
    halfway = time.monotonic() + (deadline - time.monotonic()) / 2
    low, _ = _generate(master, min(task.most, n), halfway)
    master.split(float(n + 1), math.inf)
    high, _ = _generate(master, task.most, deadline)
    return min(low, high)


def _dive(
    master: _Master, task: BoundInput, values: list[float], deadline: float
) -> list[tuple[Pattern, str]]:
    """Whole buses near the LP: raise the columns it runs most nearly whole to the next whole
    number (a lower limit on the column), re-price a few rounds, and repeat until every column
    is whole or time is up (the rest is then rounded up).

    A primal heuristic only: the limits it sets are not valid for every plan, so it runs after
    the bound is taken and its LP values never make a bound, and it lifts them again when done.
    Bound changes keep GLOP's basis, so each step re-solves in a fraction of a fresh solve.
    """
    raised: dict[int, float] = {}
    while time.monotonic() < deadline:
        x = _real_values(master, values)
        part = x - np.floor(x + DIVE_TOLERANCE)
        open_ = np.flatnonzero(part > DIVE_TOLERANCE)
        if not open_.size:
            break
        ups = open_[part[open_] >= DIVE_UP]
        if not ups.size:
            ups = open_[np.argsort(-part[open_], kind="stable")[:1]]
        for c in ups.tolist():
            raised[c] = float(math.ceil(x[c]))
            master.lp.set_lower(master.real[c], raised[c])
        _, fresh = _generate(master, task.most, deadline, DIVE_ROUNDS, bounding=False)
        if not fresh:  # the raised columns broke an availability limit
            break
        values = fresh
    x = _real_values(master, values)
    kinds = master.space.kinds
    out: list[tuple[Pattern, str]] = []
    for c, (p, k, _) in enumerate(master.columns):
        n = math.ceil(x[c] - DIVE_TOLERANCE) if x[c] > DIVE_TOLERANCE else 0
        out += [(task.patterns[p], kinds[k].id)] * int(max(raised.get(c, 0.0), n))
    for c in raised:
        master.lp.set_lower(master.real[c], 0.0)
    return out


def _covered(master: _Master, values: list[float]) -> bool:
    """The LP meets every ≥ row with real buses: no artificial column is in use."""
    return max(values[: len(master.space.need)], default=0.0) <= DIVE_TOLERANCE


def _real_values(master: _Master, values: list[float]) -> np.ndarray:
    """The values of the real columns, in the order of `master.columns` (0 for a column added
    after that LP was solved)."""
    index = np.array(master.real, dtype=np.int64)
    known = index < len(values)
    x = np.zeros(len(index))
    x[known] = np.asarray(values, dtype=float)[index[known]]
    return x


def _space(task: BoundInput) -> _Space:
    """Index commodities and sites; the ≥ right-hand sides."""
    comms = sorted(task.seats)
    index = {e: i for i, e in enumerate(comms)}
    biggest = max(c.passenger_seats for c in task.coaches)
    county_seats: Counter[str] = Counter()
    drop_seats: Counter[str] = Counter()
    for (c, d), q in task.seats.items():
        county_seats[c] += q
        drop_seats[d] += q
    fanout = Counter(c for c, _ in comms) + Counter(d for _, d in comms)
    site_ids = sorted(county_seats) + sorted(drop_seats)
    site_index = {s: i for i, s in enumerate(site_ids)}
    site_need = [
        max(-(-county_seats[s] // biggest), -(-fanout[s] // task.max_drops))
        if s in county_seats
        else max(-(-drop_seats[s] // biggest), -(-fanout[s] // task.max_pickups))
        for s in site_ids
    ]
    q = np.array([task.seats[e] for e in comms], dtype=float)
    total = max(task.fewest, -(-int(q.sum()) // biggest))
    need = np.concatenate([q, np.ceil(q / biggest), np.array(site_need, float), [float(total)]])
    kinds = [c for c in task.coaches if task.caps.get(c.id) != 0]
    return _Space(
        _padded([[index[e] for e in p.commodities] for p in task.patterns]),
        _padded([[site_index[s] for s in sorted(p.pickups | p.drops)] for p in task.patterns]),
        np.array([p.km for p in task.patterns], dtype=float),
        q,
        need,
        len(comms),
        len(site_ids),
        kinds,
        [task.caps.get(c.id) for c in kinds],
    )


def _padded(rows: list[list[int]]) -> np.ndarray:
    """A rectangular int array, -1 where a row is short."""
    width = max((len(r) for r in rows), default=1)
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _seed_columns(master: _Master) -> None:
    """One full-load column of the largest type per single-commodity pattern."""
    sp = master.space
    k = len(sp.kinds) - 1
    seats = sp.kinds[k].passenger_seats
    singles = np.flatnonzero(sp.items[:, 1] < 0) if sp.items.shape[1] > 1 else range(len(sp.km))
    for p in singles:
        e = sp.items[p, 0]
        master.add(int(p), k, (float(min(sp.q[e], seats)),))


def _plan_columns(master: _Master, task: BoundInput) -> None:
    """Columns of the buses of a plan at hand: a good start for the LP (any point is a column)."""
    where = {(p.pickups, p.drops): i for i, p in enumerate(task.patterns)}
    kind = {c.id: k for k, c in enumerate(master.space.kinds)}
    for pickups, drops, coach, seats in task.seeds:
        p = where.get((pickups, drops))
        if p is None or coach not in kind:
            continue
        load = tuple(float(seats.get(e, 0)) for e in task.patterns[p].commodities)
        master.add(p, kind[coach], load)


def _generate(
    master: _Master, most: int, deadline: float, rounds: int = MAX_ROUNDS, bounding: bool = True
) -> tuple[float, list[float]]:
    """Price until no column pays, time runs out or after `rounds`; the best bound (unless not
    `bounding`) and the last LP's values."""
    best, values = -math.inf, []
    for _ in range(rounds):
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


def _ceiling(space: _Space) -> float:
    """Cost of the artificial columns: above any bus, hence above any useful dual."""
    worst = max(c.fixed_cost + c.cost_per_km * float(space.km.max()) for c in space.kinds)
    return 2.0 * worst


def _clip(duals: list[float], master: _Master) -> np.ndarray:
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


def _price(master: _Master, duals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reduced cost of the best vertex of every (pattern, type), and its seats per item."""
    sp = master.space
    n_c, pad = sp.n_comm, sp.items < 0
    idx = np.where(pad, 0, sp.items)
    value = np.where(pad, 0.0, duals[idx])
    upper = np.where(pad, 0.0, sp.q[idx])
    visits = np.where(pad, 0.0, duals[n_c + idx]).sum(axis=1)
    site_pad = sp.sites < 0
    visits += np.where(site_pad, 0.0, duals[2 * n_c + np.where(site_pad, 0, sp.sites)]).sum(axis=1)
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
        cap_dual = duals[master.cap_row[k]] if k in master.cap_row else 0.0
        cost = coach.fixed_cost + coach.cost_per_km * sp.km
        rc[k] = cost - (take * v_sorted).sum(axis=1) - visits - cap_dual
        back = np.empty_like(take)
        np.put_along_axis(back, order, take, axis=1)
        loads[k] = back
    return rc, loads


def _lagrangian(master: _Master, duals: np.ndarray, rc: np.ndarray, most: int) -> float:
    """d·b + most × min(0, min rc): a lower bound on every point of the full model."""
    rhs = np.array([lo if math.isfinite(lo) else up for lo, up in master.limits], dtype=float)
    rhs = np.where(np.isfinite(rhs), rhs, 0.0)  # free rows have dual 0
    return float(duals @ rhs) + most * min(0.0, float(rc.min()))


def _farley(master: _Master, duals: np.ndarray) -> float:
    """Farley's bound: with the ≤ rows' duals set to 0 (still a dual vector), every row left is
    ≥ with d ≥ 0 and every cost is positive, so d / θ is dual feasible for θ the largest
    d·A_j / cost_j over all columns (artificial ones included), and d·b / θ is a lower bound."""
    d = duals.copy()
    for r, (lo, _) in enumerate(master.limits):
        if not math.isfinite(lo):
            d[r] = 0.0
    rc, _ = _price(master, d)
    sp = master.space
    cost = np.array([[c.fixed_cost + c.cost_per_km * km for km in sp.km] for c in sp.kinds])
    theta = max(float(((cost - rc) / cost).max()), float(d.max()) / master.ceiling)
    rhs = np.array([lo if math.isfinite(lo) else 0.0 for lo, _ in master.limits], dtype=float)
    return float(d @ rhs) / theta if theta > 0 else -math.inf


def _take(master: _Master, rc: np.ndarray, loads: np.ndarray) -> None:
    """Add the most negative columns, one per pattern (its best coach type)."""
    kind = rc.argmin(axis=0)
    best_rc = rc.min(axis=0)
    count = min(BATCH, best_rc.size)
    best = np.argpartition(best_rc, count - 1)[:count]
    for p in best[np.argsort(best_rc[best], kind="stable")]:
        if best_rc[p] >= -TOLERANCE:
            break
        k = int(kind[p])
        width = int((master.space.items[p] >= 0).sum())
        master.add(int(p), k, tuple(float(x) for x in loads[k, p, :width]))
