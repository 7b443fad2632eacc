"""The pattern covering MIP: how many buses of each pattern and coach type, with seat flows.

Variables: x[p,k] buses of pattern p and coach type k (integer); y[p,e] seats of commodity e
(a county → drop-off pair) on pattern p's buses (continuous). Rows: each commodity's seats are
carried; a pattern's flows fit its seats; buses per type within availability; and the valid
link y[p,e] ≤ q_e · Σ_k x[p,k] (no seats on a pattern that runs no bus). Given the stop limits,
also the visit rows that column generation uses (colgen.py), valid for every whole plan and
tightening the relaxation the MIP branches on: buses whose pattern holds commodity e ≥
ceil(q_e / largest seats); buses stopping at a county ≥ its seats / largest seats and its
drop-off sites / max drop-offs, rounded up, and alike for a drop-off site; over the mandatory
seats only (optional ones may stay).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from dispatch.planner.cost import bus_cost
from dispatch.planner.lp.patterns import Pattern
from dispatch.planner.lp.solvers import LinearModel, LinearResult, solve_linear
from dispatch.planner.model import CoachType
from dispatch.planner.world.blocks import Commodity, commodity_visits, site_visits


@dataclass(frozen=True)
class CoverInput:
    """Demand in seats per commodity: `mandatory` must go, `optional` may go and earns `reward` per seat."""

    patterns: list[Pattern]
    coaches: list[CoachType]
    caps: Mapping[str, int | None]
    mandatory: Mapping[Commodity, int]
    optional: Mapping[Commodity, int] = field(default_factory=dict)
    reward: Mapping[Commodity, float] = field(default_factory=dict)
    max_pickups: int | None = None  # the stop limits, for the visit rows
    max_drops: int | None = None
    least: Mapping[Commodity | str, int] = field(default_factory=dict)  # blocks.fewest_dates


@dataclass(frozen=True)
class CoverResult:
    """One (pattern, coach type id) per bus to run, the objective and the proven bound."""

    buses: list[tuple[Pattern, str]]
    objective: float
    bound: float


def solve_cover(task: CoverInput, seconds: float) -> CoverResult:
    """Build and solve the covering MIP."""
    model = LinearModel()
    x = _bus_columns(model, task)
    y = _flow_columns(model, task, x)
    _demand_rows(model, task, y)
    _cap_rows(model, task, x)
    _visit_rows(model, task, x)
    result = solve_linear(model, seconds)
    return _read(task, x, result)


def _bus_columns(model: LinearModel, task: CoverInput) -> dict[tuple[int, str], int]:
    """x[p,k]: integer bus counts costed at fixed + per km × the pattern's shortest km."""
    x = {}
    for i, p in enumerate(task.patterns):
        for c in task.coaches:
            cap = task.caps.get(c.id)
            if cap == 0:
                continue
            cost = bus_cost(c, p.km)
            x[(i, c.id)] = model.column(cost, math.inf if cap is None else cap, integer=True)
    return x


def _flow_columns(
    model: LinearModel, task: CoverInput, x: dict[tuple[Pattern, str], int]
) -> dict[tuple[int, Commodity], int]:
    """y[p,e] seat flows, capacity rows and the link rows."""
    seats = {c.id: c.passenger_seats for c in task.coaches}
    biggest = max(seats.values())
    y: dict[tuple[int, Commodity], int] = {}
    for i, p in enumerate(task.patterns):
        buses = [(x[(i, k)], seats[k]) for k in seats if (i, k) in x]
        if not buses:
            continue
        flows = []
        for e in p.commodities:
            amount = task.mandatory.get(e, 0) + task.optional.get(e, 0)
            if amount <= 0:
                continue
            j = model.column(-task.reward.get(e, 0.0), upper=amount)
            y[(i, e)] = j
            flows.append((j, 1.0))
            if amount < biggest:
                model.row([(j, 1.0)] + [(b, -float(amount)) for b, _ in buses], upper=0.0)
        model.row(flows + [(b, -float(s)) for b, s in buses], upper=0.0)
    return y


def _demand_rows(model: LinearModel, task: CoverInput, y: dict[tuple[int, Commodity], int]) -> None:
    """Mandatory seats carried, optional ones at most what exists."""
    terms: dict[Commodity, list[tuple[int, float]]] = {}
    for (_, e), j in y.items():
        terms.setdefault(e, []).append((j, 1.0))
    for e in set(task.mandatory) | set(task.optional):
        lo, hi = task.mandatory.get(e, 0), task.mandatory.get(e, 0) + task.optional.get(e, 0)
        model.row(terms.get(e, []), lower=float(lo), upper=float(hi))


def _cap_rows(model: LinearModel, task: CoverInput, x: dict[tuple[int, str], int]) -> None:
    """Buses of a type within its availability."""
    for c in task.coaches:
        cap = task.caps.get(c.id)
        if cap is not None:
            model.row([(j, 1.0) for (_, k), j in x.items() if k == c.id], upper=float(cap))


def _visit_rows(model: LinearModel, task: CoverInput, x: dict[tuple[int, str], int]) -> None:
    """Fewest buses each commodity and each site needs (the module doc), when limits are given."""
    if task.max_pickups is None or task.max_drops is None:
        return
    biggest = max(c.passenger_seats for c in task.coaches)
    need = {e: q for e, q in task.mandatory.items() if q > 0}
    counties, drops = site_visits(need, biggest, task.max_pickups, task.max_drops, task.least)
    at_commodity: dict[Commodity, list[tuple[int, float]]] = {}
    at_county: dict[str, list[tuple[int, float]]] = {}
    at_drop: dict[str, list[tuple[int, float]]] = {}
    for (i, _), j in x.items():
        p = task.patterns[i]
        for keys, terms in (
            (p.commodities, at_commodity),
            (p.pickups, at_county),
            (p.drops, at_drop),
        ):
            for key in keys:
                terms.setdefault(key, []).append((j, 1.0))
    for e, n in commodity_visits(need, biggest, task.least).items():
        model.row(at_commodity.get(e, []), lower=float(n))
    for fewest, terms in ((counties, at_county), (drops, at_drop)):
        for site, n in fewest.items():
            model.row(terms.get(site, []), lower=float(n))


def _read(task: CoverInput, x: dict[tuple[int, str], int], result: LinearResult) -> CoverResult:
    """Buses to run from the integer counts."""
    buses: list[tuple[Pattern, str]] = []
    if result.values:
        for (i, k), j in x.items():
            buses += [(task.patterns[i], k)] * int(round(result.values[j]))
    return CoverResult(buses, result.objective, result.bound)
