"""Put real groups on the buses the covering MIP chose: groups stay whole, coach types may change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.cost import bus_cost
from dispatch.planner.lp.patterns import Pattern
from dispatch.planner.lp.solvers import LinearModel, solve_linear
from dispatch.planner.world.blocks import Commodity
from dispatch.planner.world.buses import Bus, World

MUST = 50_000.0  # what carrying a mandatory group earns in the packing MIP, plus its size


@dataclass(frozen=True)
class PackTask:
    """One date's chosen buses and the groups to seat on them."""

    day: date
    buses: Sequence[tuple[Pattern, str]]
    mandatory: Sequence[str]
    optional: Sequence[str]
    reward: Mapping[Commodity, float]
    caps: Mapping[str, int | None]


def pack(world: World, task: PackTask, seconds: float) -> list[Bus]:
    """Buses with groups: an assignment MIP that maximises what is carried, then fixed costs."""
    model = LinearModel()
    z = _type_columns(world, model, task)
    a = _group_columns(world, model, task, z)
    # The reward for carrying groups is a constant of millions once all are carried: a relative
    # gap would accept packings thousands of CNY dearer than the best.
    result = solve_linear(model, seconds, absolute_gap=tuning.PACK_GAP_CNY)
    if not result.values:
        return []
    out = []
    for b, (_, _) in enumerate(task.buses):
        coach = next((k for (bb, k), j in z.items() if bb == b and result.values[j] > 0.5), None)
        groups = sorted(g for (g, bb), j in a.items() if bb == b and result.values[j] > 0.5)
        if coach is not None and groups:
            out.append(Bus(task.day, coach, groups))
    return out


def _type_columns(world: World, model: LinearModel, task: PackTask) -> dict[tuple[int, str], int]:
    """z[b,k]: bus b runs as coach type k; at most one type per bus; availability per type."""
    z: dict[tuple[int, str], int] = {}
    for b, (pattern, _) in enumerate(task.buses):
        for c in world.coaches:
            if task.caps.get(c.id) != 0:
                z[(b, c.id)] = model.column(bus_cost(c, pattern.km), upper=1, integer=True)
        model.row([(j, 1.0) for (bb, _), j in z.items() if bb == b], upper=1.0)
    for c in world.coaches:
        cap = task.caps.get(c.id)
        if cap is not None:
            model.row([(j, 1.0) for (_, k), j in z.items() if k == c.id], upper=float(cap))
    return z


def _group_columns(
    world: World, model: LinearModel, task: PackTask, z: dict[tuple[int, str], int]
) -> dict[tuple[str, int], int]:
    """a[g,b]: group g rides bus b; each group once at most; seats within the chosen type."""
    by_comm: dict[Commodity, list[int]] = {}
    for b, (pattern, _) in enumerate(task.buses):
        for e in pattern.commodities:
            by_comm.setdefault(e, []).append(b)
    a: dict[tuple[str, int], int] = {}
    must = set(task.mandatory)
    for g in [*task.mandatory, *task.optional]:
        grp = world.groups[g]
        e = (grp.pickup, grp.dropoff)
        worth = MUST + grp.size if g in must else task.reward.get(e, 0.0) * grp.size
        cols = [model.column(-worth, upper=1, integer=True) for _ in by_comm.get(e, [])]
        for b, j in zip(by_comm.get(e, []), cols, strict=True):
            a[(g, b)] = j
        if cols:
            model.row([(j, 1.0) for j in cols], upper=1.0)
    _seat_rows(world, model, task, z, a)
    return a


def _seat_rows(
    world: World,
    model: LinearModel,
    task: PackTask,
    z: dict[tuple[int, str], int],
    a: dict[tuple[str, int], int],
) -> None:
    """Seats taken on a bus within the seats of its type."""
    terms: dict[int, list[tuple[int, float]]] = {b: [] for b in range(len(task.buses))}
    for (g, b), j in a.items():
        terms[b].append((j, float(world.groups[g].size)))
    seats = {c.id: c.passenger_seats for c in world.coaches}
    for (b, k), j in z.items():
        terms[b].append((j, -float(seats[k])))
    for row in terms.values():
        model.row(row, upper=0.0)


def spare_reward(world: World, e: Commodity) -> float:
    """What carrying one flexible seat today is worth: tuning.SPARE_SEAT_SHARE (80 %) of its
    cheapest full-bus cost per seat."""
    km = world.dist.lower[e[0]][e[1]]
    return tuning.SPARE_SEAT_SHARE * min(bus_cost(c, km) / c.passenger_seats for c in world.coaches)
