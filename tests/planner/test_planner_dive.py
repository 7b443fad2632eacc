"""The dive (lp/dive.py): whole buses from the column-generation LP, after the bound is taken."""

from __future__ import annotations

from collections import Counter

import pytest

from dispatch.planner import load_problem, tuning
from dispatch.planner.bound.lower import column_pattern_bound
from dispatch.planner.world.blocks import blocks, demand
from dispatch.planner.world.buses import World
from tests.support.planner import bench_module


@pytest.fixture(scope="module")
def day() -> tuple[World, tuple, frozenset[str]]:
    problem = load_problem(bench_module().problem(400, seed=3))
    world = World(problem)
    ((days, names),) = blocks(world, problem.groups)
    return world, days, names


def test_dived_buses_are_whole_and_seat_every_commodity(day, monkeypatch) -> None:
    world, days, names = day
    # the dives alone: without the fewest-buses MIP's row (bound/count.py, on this day 16
    # buses), which also adds its cover to the dives
    monkeypatch.setattr(tuning, "FEWEST_PATTERN_LIMIT", 0)
    result = column_pattern_bound(world, days, names, 30.0, split=False, dive_seconds=20.0)
    # the capped dive is left out when the LP cannot meet demand within the cap
    assert 1 <= len(result.dives) <= 2
    seats = {c.id: c.passenger_seats for c in world.coaches}
    for dived in result.dives:
        assert dived, "a dive gave no buses"
        room: Counter[tuple[str, str]] = Counter()
        for pattern, coach in dived:
            assert world.allowed(pattern.pickups, pattern.drops)
            for e in pattern.commodities:
                room[e] += seats[coach]
        for e, q in demand(world, names).items():
            assert room[e] >= q, f"{e}: {q} seats wanted, {room[e]} on the dived buses"
        total = sum(seats[c] for _, c in dived)
        assert total >= sum(world.groups[g].size for g in names)
        # more than one bus per group would be nonsense
        assert len(dived) <= len(names)


def test_the_dive_leaves_the_bound_alone(day) -> None:
    world, days, names = day
    plain = column_pattern_bound(world, days, names, 30.0, split=False)
    dived = column_pattern_bound(world, days, names, 30.0, split=False, dive_seconds=20.0)
    assert dived.bound == pytest.approx(plain.bound, rel=1e-9)
