"""Taking buses off (search/squeeze.py): fewer buses where descent has stopped, every rule kept,
never a dearer plan, locked trips untouched."""

from __future__ import annotations

import random
import time

import pytest

from dispatch.planner import load_problem, tuning
from dispatch.planner.construct.greedy import downsize, insert_groups
from dispatch.planner.search.descent import descend
from dispatch.planner.search.squeeze import squeeze, worth_squeezing
from dispatch.planner.world.buses import Bus, World, copy_buses, plan_cost
from tests.support.planner import bench_module


@pytest.fixture(autouse=True)
def _short_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """500 steps a bus, and every bus tried (not only the first few that stay): a generated day
    of 90 workers then takes about a second."""
    monkeypatch.setattr(tuning, "SQUEEZE_STEPS", 500)
    monkeypatch.setattr(tuning, "SQUEEZE_MISSES", 1_000)


def _descended(size: int, seed: int, lifted: bool = False) -> tuple[World, list[Bus]]:
    """A generated day's greedy plan after descent: no local move helps any more."""
    bench = bench_module()
    data = bench.problem(size, seed=seed)
    world = World(load_problem(bench.lifted(data) if lifted else data))
    buses: list[Bus] = []
    assert insert_groups(world, buses, sorted(world.groups)) == []
    downsize(world, buses)
    descend(world, buses, float("inf"), random.Random(0))
    return world, buses


def _assert_valid(world: World, buses: list[Bus]) -> None:
    """Every group once, within seats, stop rules and its window."""
    assert sorted(g for b in buses for g in b.groups) == sorted(world.groups)
    for bus in buses:
        coach = world.problem.coach_types[bus.coach]
        assert bus.groups
        assert world.load(bus.groups) <= coach.passenger_seats
        assert world.allowed(*world.sites(bus.groups))
        assert world.fits_window(bus.groups, bus.date)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_bus_comes_off_where_descent_stopped(seed: int) -> None:
    world, buses = _descended(90, seed)
    before, count = plan_cost(world, buses), len(buses)
    assert squeeze(world, buses, float("inf"), random.Random(0))
    assert len(buses) < count
    # a bus's fixed cost is 9,000 CNY or more: the plan is cheaper by well over the km it adds
    assert plan_cost(world, buses) < before - 5_000
    _assert_valid(world, buses)


@pytest.mark.parametrize("seed", range(3, 7))
def test_never_dearer_and_every_rule_kept(seed: int) -> None:
    world, buses = _descended(60 + 20 * seed, seed)
    before = plan_cost(world, buses)
    squeeze(world, buses, time.monotonic() + 2.0, random.Random(seed))
    assert plan_cost(world, buses) <= before + 1e-6
    _assert_valid(world, buses)


def test_locked_trips_keep_their_groups() -> None:
    world, buses = _descended(90, 0)
    locked = max(buses, key=lambda b: (len(b.groups), b.groups))
    locked.fixed_id, locked.locked_groups = "LOCKED", frozenset(locked.groups)
    kept = list(locked.groups)
    squeeze(world, buses, float("inf"), random.Random(0))
    assert [b for b in buses if b.fixed_id == "LOCKED"][0].groups[: len(kept)] == kept
    assert locked in buses


def test_out_of_time_changes_nothing() -> None:
    world, buses = _descended(90, 0)
    before = copy_buses(buses)
    assert not squeeze(world, buses, time.monotonic() - 1.0, random.Random(0))
    assert [(b.coach, b.groups) for b in buses] == [(b.coach, b.groups) for b in before]


def test_only_where_stop_rules_apply() -> None:
    world, _ = _descended(30, 0)
    assert worth_squeezing(world)
    lifted, _ = _descended(30, 0, lifted=True)
    assert not worth_squeezing(lifted)
