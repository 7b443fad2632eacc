"""The fewest-buses MIP (bound/count.py): never more buses than a plan can run, and where the
pattern LP spreads a fraction of a bus, a whole one more, which raises column generation's bound;
its cover is a skeleton whole groups fit on."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from dispatch.planner import load_problem
from dispatch.planner.bound.count import fewest_buses
from dispatch.planner.bound.lower import column_pattern_bound, min_buses, pattern_input
from dispatch.planner.lp.packing import PackTask, pack
from dispatch.planner.lp.patterns import enumerate_patterns
from dispatch.planner.world.blocks import blocks, demand
from dispatch.planner.world.buses import World
from tests.support.planner import bench_module, partitions, problems, with_stop_rules


def _fewest(world: World, names: frozenset[str], seconds: float = 20.0) -> Any:
    seats = demand(world, names)
    r = world.rules
    assert r.max_pickup_stops is not None and r.max_dropoff_stops is not None
    patterns = enumerate_patterns(world, seats, r.max_pickup_stops, r.max_dropoff_stops)
    biggest = max(c.passenger_seats for c in world.coaches)
    return fewest_buses(patterns, seats, biggest, r.max_pickup_stops, r.max_dropoff_stops, seconds)


def _fewest_by_brute_force(world: World, names: frozenset[str]) -> int:
    """The fewest buses of any partition of the groups into buses the rules allow, one date."""
    best = len(names)
    biggest = max(c.passenger_seats for c in world.coaches)
    for part in partitions(sorted(names)):
        if len(part) >= best:
            continue
        if all(world.allowed(*world.sites(bus)) and world.load(bus) <= biggest for bus in part):
            best = len(part)
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=6))
def test_fewest_buses_never_above_what_a_plan_runs(data: dict[str, Any]) -> None:
    data = with_stop_rules(data)
    data["groups"] = [{**g, "latest": g["earliest"]} for g in data["groups"]]  # one date each
    world = World(load_problem(data))
    for days, names in blocks(world, world.groups):
        assert len(days) == 1
        found = _fewest(world, names)
        assert 0 < found.buses <= _fewest_by_brute_force(world, names)
        assert len(found.cover) >= found.buses


def test_one_whole_bus_more_than_the_counts_and_the_lp_on_a_generated_day() -> None:
    """The generated 300-worker day of seed 4: the stop and seat counts allow 13 buses and
    column generation's LP runs exactly 13.00; no 13 patterns cover every commodity, so 14, and
    the bound rises by more than 6 %. 14 buses of the largest coach on the cover's patterns
    seat every group."""
    problem = load_problem(bench_module().problem(300, seed=4))
    world = World(problem)
    ((days, names),) = blocks(world, problem.groups)
    seats = demand(world, names)
    assert min_buses(world, seats) == 13
    found = _fewest(world, names)
    assert found.buses == 14
    assert len(found.cover) == 14

    task = pattern_input(world, days, seats, len(names))
    assert task.fewest == 13  # what the bound had before
    bound = column_pattern_bound(world, days, names, 30.0).bound
    assert bound > 182_000  # 171,858 with 13 buses allowed

    biggest = max(world.coaches, key=lambda c: c.passenger_seats).id
    chosen = [(p, biggest) for p in found.cover]
    caps = {c.id: None for c in world.coaches}
    buses = pack(world, PackTask(days[0], chosen, sorted(names), [], {}, caps), 10.0)
    assert sorted(g for b in buses for g in b.groups) == sorted(names)
    assert len(buses) == 14
    for bus in buses:
        assert world.allowed(*world.sites(bus.groups))
