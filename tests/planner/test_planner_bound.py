"""The column-generation bound (lp/colgen.py): never above an optimum or a checked plan, also when
it stops early, and exact where the answer is known."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from dispatch.planner import check, load_problem, solve, tuning
from dispatch.planner.bound.lower import column_pattern_bound, pattern_bound, threshold_bound
from dispatch.planner.world.blocks import blocks
from dispatch.planner.world.buses import World
from tests.support.planner import (
    bench_module,
    brute_force_optimum,
    group,
    load,
    problems,
    with_stop_rules,
)


def _column_bound(data: dict[str, Any], seconds: float) -> float:
    """The column bound summed over blocks (every block, however small, through colgen)."""
    problem = load_problem(data)
    world = World(problem)
    return sum(
        column_pattern_bound(world, days, groups, seconds).bound
        for days, groups in blocks(world, problem.groups)
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_column_bound_never_above_the_brute_force_optimum(data: dict[str, Any]) -> None:
    problem = load_problem(with_stop_rules(data))
    optimum = brute_force_optimum(problem)
    assert _column_bound(data, 2.0) <= optimum * (1 + 1e-9)
    # the bus-count cap taken from a plan at hand: here the optimum itself, per block
    world = World(problem)
    for days, groups in blocks(world, problem.groups):
        sub = load_problem({**data, "groups": [g for g in data["groups"] if g["id"] in groups]})
        best = brute_force_optimum(sub)
        assert column_pattern_bound(world, days, groups, 2.0, best).bound <= best * (1 + 1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_column_bound_stopped_early_is_still_a_bound(data: dict[str, Any]) -> None:
    problem = load_problem(with_stop_rules(data))
    optimum = brute_force_optimum(problem)
    saved = tuning.PRICING_BATCH, tuning.PRICING_ROUNDS
    tuning.PRICING_BATCH, tuning.PRICING_ROUNDS = 1, 2  # stopped long before the LP is solved
    try:
        early = _column_bound(data, 2.0)
    finally:
        tuning.PRICING_BATCH, tuning.PRICING_ROUNDS = saved
    assert math.isfinite(early)
    assert early <= optimum * (1 + 1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_covering_mip_with_visit_rows_never_above_the_brute_force_optimum(
    data: dict[str, Any],
) -> None:
    """The visit rows (lp/cover.py) hold for every whole plan: the MIP, solved to the end on
    these small days, never proves more than the best plan costs."""
    problem = load_problem(with_stop_rules(data))
    world = World(problem)
    for days, groups in blocks(world, problem.groups):
        sub = load_problem({**data, "groups": [g for g in data["groups"] if g["id"] in groups]})
        assert pattern_bound(world, days, groups, 5.0) <= brute_force_optimum(sub) * (1 + 1e-9)


def test_column_bound_is_exact_for_one_family() -> None:
    problem = load([group("g1", 3)])
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    optimum = brute_force_optimum(problem)
    assert column_pattern_bound(world, days, groups, 5.0).bound == pytest.approx(optimum, rel=1e-6)


def test_column_bound_sees_drop_offs_too_far_apart_to_share_a_bus() -> None:
    # Kunshan and Jiangning are more than 150 km apart: two buses, where the seat and stop
    # counts of the threshold bound allow one.
    problem = load(
        [group("g1", 2, dropoff="js-kunshan"), group("g2", 2, dropoff="js-nanjing-jiangning")]
    )
    world = World(problem)
    ((days, names),) = blocks(world, problem.groups)
    bound = column_pattern_bound(world, days, names, 5.0).bound
    assert bound > threshold_bound(world, days, names) * 1.3
    assert bound == pytest.approx(brute_force_optimum(problem), rel=1e-6)


def test_full_day_bound_beats_the_threshold_and_stays_below_the_plan() -> None:
    bench = bench_module()
    problem = load_problem(bench.problem(400, seed=3))
    world = World(problem)
    ((days, names),) = blocks(world, problem.groups)
    plan = solve(problem, time_limit_s=4)
    assert check(problem, plan) == []
    bound = column_pattern_bound(world, days, names, 20.0, plan.summary.cost).bound
    assert threshold_bound(world, days, names) < bound <= plan.summary.cost
