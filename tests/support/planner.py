"""Small problems for the planner tests (fixed, and random ones for hypothesis), and a
brute-force optimum to compare against."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from dispatch.planner import Problem, load_problem
from dispatch.planner.world.buses import World

SITES = [
    {"id": "hongtong", "kind": "pickup", "name": "洪洞县", "lat": 36.25, "lon": 111.67},
    {"id": "yaodu", "kind": "pickup", "name": "尧都区", "lat": 36.08, "lon": 111.52},
    {"id": "houma", "kind": "pickup", "name": "侯马市", "lat": 35.62, "lon": 111.35},
    {"id": "js-kunshan", "kind": "dropoff", "name": "昆山市", "lat": 31.38, "lon": 120.98},
    {"id": "js-suzhou", "kind": "dropoff", "name": "苏州市区", "lat": 31.30, "lon": 120.58},
    {
        "id": "js-nanjing-jiangning",
        "kind": "dropoff",
        "name": "南京江宁区",
        "lat": 31.95,
        "lon": 118.85,
    },
]
COACHES = [
    {"id": "c33", "passenger_seats": 31, "fixed_cost": 9000, "cost_per_km": 3.0},
    {"id": "c53", "passenger_seats": 51, "fixed_cost": 12500, "cost_per_km": 3.0},
]


def group(
    gid: str,
    size: int,
    pickup: str = "hongtong",
    dropoff: str = "js-kunshan",
    earliest: str = "2026-03-01",
    latest: str | None = None,
) -> dict[str, Any]:
    """A group dict with members named after it."""
    return {
        "id": gid,
        "size": size,
        "pickup": pickup,
        "dropoff": dropoff,
        "earliest": earliest,
        "latest": latest or earliest,
        "members": [f"{gid}-m{i + 1}" for i in range(size)],
    }


def problem_dict(groups: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A problem dict over the test sites."""
    data: dict[str, Any] = {
        "format": "dispatch-problem/1",
        "sites": SITES,
        "distance": {"road_factor": 1.25},
        "matrix_km": {},
        "coach_types": COACHES,
        "groups": groups,
        "rules": {"max_pickup_stops": 3, "max_dropoff_stops": 2, "max_dropoff_spread_km": 150},
        "fixed_trips": [],
    }
    data.update(extra)
    return data


def partitions(items: list[str]) -> Iterator[list[list[str]]]:
    """Every set partition of `items`."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first, *part[i]]] + part[i + 1 :]
        yield [[first], *part]


def brute_force_optimum(problem: Problem) -> float:
    """Cheapest plan serving every group, unlimited coaches, by trying every partition into buses."""
    world = World(problem)
    best = float("inf")
    for part in partitions(sorted(problem.groups)):
        best = min(best, sum(_bus_cost(world, block) for block in part))
    return best


def with_stop_rules(data: dict[str, Any]) -> dict[str, Any]:
    """The same problem with every stop rule set, unlimited coaches (the brute force's model)."""
    rules = data["rules"]
    rules["max_pickup_stops"] = rules["max_pickup_stops"] or 3
    rules["max_dropoff_stops"] = rules["max_dropoff_stops"] or 2
    for coach in data["coach_types"]:
        coach.pop("available", None)
    return data


def _bus_cost(world: World, block: list[str]) -> float:
    """Cheapest coach for one set of groups, or infinity when the rules forbid it."""
    gs = [world.groups[g] for g in block]
    if max(g.earliest for g in gs) > min(g.latest for g in gs):
        return float("inf")
    pickups, drops = world.sites(block)
    if not world.allowed(pickups, drops):
        return float("inf")
    load = world.load(block)
    costs = [world.cost(c, pickups, drops) for c in world.coaches if c.passenger_seats >= load]
    return min(costs, default=float("inf"))


def load(groups: list[dict[str, Any]], **extra: Any) -> Problem:
    """A validated problem."""
    return load_problem(problem_dict(groups, **extra))


def first_and_third() -> Problem:
    """Ten on the 1st and ten on the 3rd (Hongtong to Kunshan), and one who may go any day,
    joining the three dates into one block: pooled, one 31-seat bus carries all 21; two must run."""
    return load(
        [
            group("first", 10, earliest=DAYS[0]),
            group("third", 10, earliest=DAYS[2]),
            group("any", 1, earliest=DAYS[0], latest=DAYS[2]),
        ]
    )


def bench_module() -> ModuleType:
    """bench/planner.py (its problem generator, and the peers' adapters of bench/peers.py)."""
    import bench.planner

    return bench.planner


PICKUPS = [s["id"] for s in SITES if s["kind"] == "pickup"]
DROPS = [s["id"] for s in SITES if s["kind"] == "dropoff"]
DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]


@st.composite
def problems(draw: st.DrawFn, max_groups: int = 8) -> dict[str, Any]:
    """A small random problem: windows, stop rules (sometimes lifted) and availability."""
    groups = []
    for i in range(draw(st.integers(1, max_groups))):
        first = draw(st.integers(0, 2))
        last = draw(st.integers(first, 2))
        groups.append(
            group(
                f"g{i}",
                draw(st.integers(1, 12)),
                draw(st.sampled_from(PICKUPS)),
                draw(st.sampled_from(DROPS)),
                DAYS[first],
                DAYS[last],
            )
        )
    rules = {
        "max_pickup_stops": draw(st.sampled_from([1, 2, 3, None])),
        "max_dropoff_stops": draw(st.sampled_from([1, 2, None])),
        "max_dropoff_spread_km": draw(st.sampled_from([150, None])),
    }
    coaches = [
        {"id": "c15", "passenger_seats": 15, "fixed_cost": 6000, "cost_per_km": 2.5},
        {"id": "c33", "passenger_seats": 31, "fixed_cost": 9000, "cost_per_km": 3.0},
    ]
    if draw(st.booleans()):
        coaches[1]["available"] = {d: draw(st.integers(0, 2)) for d in DAYS}
    return problem_dict(groups, rules=rules, coach_types=coaches)
