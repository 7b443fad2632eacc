"""The dated pattern model (lp/dated.py) for blocks of several dates: never above an optimum or a
checked plan, also when it stops early, above the pooled bound where pooling lets a bus carry a
group outside its window, and exact where the answer is known."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from dispatch.planner import check, load_problem, solve, tuning
from dispatch.planner.bound.lower import (
    column_pattern_bound,
    dated_pattern_bound,
    pattern_input,
)
from dispatch.planner.lp.colgen import column_bound
from dispatch.planner.lp.dated import intervals
from dispatch.planner.world.blocks import blocks, demand
from dispatch.planner.world.buses import World
from tests.support.planner import brute_force_optimum, group, load, problems

DAYS = ("2026-03-01", "2026-03-02", "2026-03-03")


def _dated(problem, seconds: float = 5.0) -> list[tuple[frozenset[str], float]]:
    """The dated bound of every block of several dates, with the block's groups."""
    world = World(problem)
    out = []
    for days, groups in blocks(world, problem.groups):
        if len(days) > 1:
            patterns = pattern_input(world, days, demand(world, groups), len(groups)).patterns
            out.append((groups, dated_pattern_bound(world, days, groups, patterns, seconds)))
    return out


def _pooled(world: World, days, groups: frozenset[str], seconds: float) -> float:
    """colgen.py's pooled bound alone."""
    task = pattern_input(world, days, demand(world, groups), len(groups))
    return column_bound(task, seconds, split=False).bound


def _stop_rules_unlimited(data: dict[str, Any]) -> dict[str, Any]:
    """Every stop rule set and no availability limit: the brute force's model."""
    rules = data["rules"]
    rules["max_pickup_stops"] = rules["max_pickup_stops"] or 3
    rules["max_dropoff_stops"] = rules["max_dropoff_stops"] or 2
    for coach in data["coach_types"]:
        coach.pop("available", None)
    return data


def _sub(data: dict[str, Any], groups: frozenset[str]):
    return load_problem({**data, "groups": [g for g in data["groups"] if g["id"] in groups]})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_dated_bound_never_above_the_brute_force_optimum(data: dict[str, Any]) -> None:
    data = _stop_rules_unlimited(data)
    for groups, bound in _dated(load_problem(data)):
        assert math.isfinite(bound)
        assert bound <= brute_force_optimum(_sub(data, groups)) * (1 + 1e-9)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=6))
def test_dated_bound_never_above_a_checked_plan_with_coaches_limited_per_date(
    data: dict[str, Any],
) -> None:
    data["rules"]["max_pickup_stops"] = data["rules"]["max_pickup_stops"] or 2
    data["rules"]["max_dropoff_stops"] = data["rules"]["max_dropoff_stops"] or 1
    problem = load_problem(data)
    plan = solve(problem, 3.0)
    assert check(problem, plan) == []
    served = {g for t in plan.trips for g in t.group_ids()}
    for groups, bound in _dated(problem):
        if groups <= served:
            spent = sum(t.cost for t in plan.trips if set(t.group_ids()) & groups)
            assert bound <= spent * (1 + 1e-9)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_dated_bound_stopped_early_is_still_a_bound(data: dict[str, Any]) -> None:
    data = _stop_rules_unlimited(data)
    saved = tuning.PRICING_BATCH, tuning.PRICING_ROUNDS
    tuning.PRICING_BATCH, tuning.PRICING_ROUNDS = 1, 2  # stopped long before the LP is solved
    try:
        found = _dated(load_problem(data))
    finally:
        tuning.PRICING_BATCH, tuning.PRICING_ROUNDS = saved
    for groups, bound in found:
        assert bound <= brute_force_optimum(_sub(data, groups)) * (1 + 1e-9)


def test_a_bus_may_not_carry_a_group_on_a_date_outside_its_window() -> None:
    # Ten on the 1st and ten on the 3rd, and one who may go any day, joining the three dates into
    # one block: pooled, one 31-seat bus carries all 21; dated, two buses run.
    problem = load(
        [
            group("first", 10, earliest=DAYS[0]),
            group("third", 10, earliest=DAYS[2]),
            group("any", 1, earliest=DAYS[0], latest=DAYS[2]),
        ]
    )
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    optimum = brute_force_optimum(problem)
    assert len(days) == 3
    assert _pooled(world, days, groups, 5.0) < optimum * 0.9
    ((_, dated),) = _dated(problem)
    assert dated == pytest.approx(optimum, rel=1e-6)
    # what the planner's bound takes: the pooled model first, then the dated one in the time left
    both = column_pattern_bound(world, days, groups, 5.0, split=False).bound
    assert both == pytest.approx(optimum, rel=1e-6)


def test_a_larger_block_is_bounded_above_the_pooled_model() -> None:
    bench = pytest.importorskip("bench.planner")
    problem = load_problem(bench.problem(120, 2, 3, 1))
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    pooled = _pooled(world, days, groups, 20.0)
    patterns = pattern_input(world, days, demand(world, groups), len(groups)).patterns
    dated = dated_pattern_bound(world, days, groups, patterns, 20.0)
    plan = solve(problem, 10.0, 1)
    assert check(problem, plan) == []
    assert pooled < dated <= plan.summary.cost


def test_intervals_keep_only_rows_no_shorter_interval_implies() -> None:
    # Windows (first, last, seats) over 4 dates: [0,0] 3, [0,1] 2, [2,3] 4.
    rows = intervals([(0, 0, 3), (0, 1, 2), (2, 3, 4)], 4)
    assert rows == [(0, 0, 3), (0, 1, 5), (0, 3, 9), (2, 3, 4)]
