"""Stop exchanges (search/exchange.py): the move that full buses need, and the rules it keeps."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest

from dispatch.planner import load_problem
from dispatch.planner.construct.greedy import insert_groups
from dispatch.planner.model import Group
from dispatch.planner.search.exchange import _subsets, exchange_pass
from dispatch.planner.search.swap import swap_pass
from dispatch.planner.tuning import MAX_BACK
from dispatch.planner.world.buses import Bus, World, copy_buses, plan_cost
from tests.support.planner import bench_module, group, problem_dict

DAY = date(2026, 3, 1)


def _two_full_buses() -> tuple[World, list[Bus]]:
    """Bus A picks up at hongtong and, for two groups only, at yaodu; bus B picks up at yaodu
    and, for one group only, at hongtong. Both are full 31-seaters."""
    groups = [
        group("a1", 10, "hongtong", "js-kunshan"),
        group("a2", 10, "hongtong", "js-kunshan"),
        group("a3", 5, "yaodu", "js-kunshan"),
        group("a4", 6, "yaodu", "js-kunshan"),
        group("b1", 20, "yaodu", "js-suzhou"),
        group("b2", 11, "hongtong", "js-kunshan"),
    ]
    world = World(load_problem(problem_dict(groups)))
    return world, [Bus(DAY, "c33", ["a1", "a2", "a3", "a4"]), Bus(DAY, "c33", ["b1", "b2"])]


def test_a_stops_party_goes_where_its_stop_is_and_a_group_comes_back() -> None:
    world, buses = _two_full_buses()
    before = plan_cost(world, buses)
    # no single group can move (both buses are full) and no one-for-one trade frees a stop
    assert not swap_pass(world, copy_buses(buses), float("inf"))
    assert exchange_pass(world, buses, float("inf"))
    assert sorted(buses[0].groups) == ["a1", "a2", "b2"]  # hongtong → kunshan only
    assert sorted(buses[1].groups) == ["a3", "a4", "b1"]  # yaodu only
    assert plan_cost(world, buses) < before - 1.0
    # a second pass finds nothing more: each bus now has one pickup stop
    assert not exchange_pass(world, buses, float("inf"))


def test_locked_trips_take_no_part() -> None:
    world, buses = _two_full_buses()
    buses[1].fixed_id = "LOCKED"
    buses[1].locked_groups = frozenset(buses[1].groups)
    assert not exchange_pass(world, buses, float("inf"))
    assert sorted(buses[1].groups) == ["b1", "b2"]


def test_a_group_only_moves_to_a_date_in_its_window() -> None:
    groups = [
        group("a1", 10, "hongtong", "js-kunshan"),
        group("a2", 10, "hongtong", "js-kunshan"),
        group("a3", 5, "yaodu", "js-kunshan"),
        group("a4", 6, "yaodu", "js-kunshan"),
        group("b1", 20, "yaodu", "js-suzhou", earliest="2026-03-02"),
        group("b2", 11, "hongtong", "js-kunshan", earliest="2026-03-02"),
    ]
    world = World(load_problem(problem_dict(groups)))
    buses = [
        Bus(DAY, "c33", ["a1", "a2", "a3", "a4"]),
        Bus(date(2026, 3, 2), "c33", ["b1", "b2"]),
    ]
    assert not exchange_pass(world, buses, float("inf"))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("lifted", [False, True])
def test_exchanges_keep_every_rule_and_never_cost_more(seed: int, lifted: bool) -> None:
    bench = bench_module()
    data = bench.problem(90 + 15 * seed, seed=seed)
    problem = load_problem(bench.lifted(data) if lifted else data)
    world = World(problem)
    buses: list[Bus] = []
    assert insert_groups(world, buses, sorted(problem.groups)) == []
    before = plan_cost(world, buses)
    exchange_pass(world, buses, float("inf"))
    assert plan_cost(world, buses) <= before + 1e-6
    assert sorted(g for b in buses for g in b.groups) == sorted(problem.groups)
    for bus in buses:
        coach = problem.coach_types[bus.coach]
        assert world.load(bus.groups) <= coach.passenger_seats
        assert world.allowed(*world.sites(bus.groups))
        assert world.fits_window(bus.groups, bus.date)


def test_subsets_are_every_kind_combination_within_the_seats() -> None:
    rng = random.Random(5)
    sites = [("hongtong", "js-kunshan"), ("yaodu", "js-kunshan"), ("hongtong", "js-suzhou")]
    day = DAY
    groups = [Group(f"g{i}", rng.randint(1, 6), *rng.choice(sites), day, day, ()) for i in range(9)]
    for low, high in [(0, 4), (3, 9), (7, 12), (1, 30), (20, 25)]:
        got = {
            tuple(sorted((g.pickup, g.dropoff, g.size) for g in combo))
            for combo in _subsets(groups, low, high)
        }
        want = {
            tuple(sorted((g.pickup, g.dropoff, g.size) for g in combo))
            for n in range(MAX_BACK + 1)
            for combo in itertools.combinations(groups, n)
            if (n > 0 or low <= 0) and low <= sum(g.size for g in combo) <= high
        }
        assert got == want, (low, high)
        for combo in _subsets(groups, low, high):
            assert len({g.id for g in combo}) == len(combo)  # no group taken twice
