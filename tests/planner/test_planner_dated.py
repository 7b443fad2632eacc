"""The dated pattern model (lp/dated.py) for blocks of several dates: never above an optimum or a
checked plan, also when it stops early, above the pooled bound where pooling lets a bus carry a
group outside its window, and exact where the answer is known."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from dispatch.planner import check, load_problem, solve, tuning
from dispatch.planner.bound.lower import (
    column_pattern_bound,
    dated_pattern_bound,
    pattern_input,
)
from dispatch.planner.budget import Budget
from dispatch.planner.lp.colgen import column_bound
from dispatch.planner.lp.dated import intervals
from dispatch.planner.rebuild.dives import rebuild_by_dives, split_dates
from dispatch.planner.solver import _greedy, _plan
from dispatch.planner.world.blocks import blocks, demand
from dispatch.planner.world.buses import World, copy_buses
from tests.support.planner import (
    DAYS,
    brute_force_optimum,
    first_and_third,
    group,
    load,
    problems,
    with_stop_rules,
)


def _dated(problem, seconds: float = 5.0) -> list[tuple[frozenset[str], float]]:
    """The dated bound of every block of several dates, with the block's groups."""
    world = World(problem)
    out = []
    for days, groups in blocks(world, problem.groups):
        if len(days) > 1:
            task = pattern_input(world, days, demand(world, groups), len(groups))
            out.append((groups, dated_pattern_bound(world, days, groups, task, seconds).bound))
    return out


def _pooled(world: World, days, groups: frozenset[str], seconds: float) -> float:
    """colgen.py's pooled bound alone."""
    task = pattern_input(world, days, demand(world, groups), len(groups))
    return column_bound(task, seconds, split=False).bound


def _sub(data: dict[str, Any], groups: frozenset[str]):
    return load_problem({**data, "groups": [g for g in data["groups"] if g["id"] in groups]})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_dated_bound_never_above_the_brute_force_optimum(data: dict[str, Any]) -> None:
    data = with_stop_rules(data)
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
    data = with_stop_rules(data)
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
    problem = first_and_third()
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
    task = pattern_input(world, days, demand(world, groups), len(groups))
    dated = dated_pattern_bound(world, days, groups, task, 20.0).bound
    plan = solve(problem, 10.0, 1)
    assert check(problem, plan) == []
    assert pooled < dated <= plan.summary.cost


def test_intervals_keep_only_rows_no_shorter_interval_implies() -> None:
    # Windows (first, last, seats) over 4 dates: [0,0] 3, [0,1] 2, [2,3] 4.
    rows = intervals([(0, 0, 3), (0, 1, 2), (2, 3, 4)], 4)
    assert rows == [(0, 0, 3), (0, 1, 5), (0, 3, 9), (2, 3, 4)]


@pytest.fixture(scope="module")
def two_dates():
    """240 workers over two dates, windows of up to one extra day: one block of three dates."""
    bench = pytest.importorskip("bench.planner")
    problem = load_problem(bench.problem(120, 2, 3, 1))
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    return problem, world, days, groups


def test_the_dated_lp_splits_every_group_onto_one_date_of_its_window(two_dates) -> None:
    _, world, days, groups = two_dates
    task = pattern_input(world, days, demand(world, groups), len(groups))
    result = dated_pattern_bound(world, days, groups, task, 20.0)
    assert result.seats, "the converged dated LP gives seats per commodity and date"
    split = split_dates(world, days, groups, result.seats)
    placed = [g for names in split.values() for g in names]
    assert sorted(placed) == sorted(groups)
    for day, names in split.items():
        for g in names:
            assert world.groups[g].earliest <= day <= world.groups[g].latest
    # a group goes before its window's last date only while the seats given so far, counting
    # it by its middle seat, stay within the LP's seats up to that date
    biggest = max(world.groups[g].size for g in groups)
    for e in demand(world, groups):
        lp = given = forced = 0.0
        for day in days:
            lp += result.seats.get((e, day), 0.0)
            mine = [world.groups[g] for g in split.get(day, []) if world.groups[g].pickup == e[0]]
            mine = [grp for grp in mine if grp.dropoff == e[1]]
            given += sum(grp.size for grp in mine)
            forced += sum(grp.size for grp in mine if grp.latest == day)
            assert given <= lp + biggest / 2 + forced + 1e-6


def test_seats_on_the_first_date_send_the_flexible_groups_early() -> None:
    problem = load(
        [
            group("early", 4, earliest=DAYS[0], latest=DAYS[2]),
            group("late", 3, earliest=DAYS[1], latest=DAYS[2]),
            group("must", 2, earliest=DAYS[2]),
        ]
    )
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    e = ("hongtong", "js-kunshan")
    split = split_dates(world, days, groups, {(e, days[0]): 4.0, (e, days[2]): 5.0})
    assert dict(split) == {days[0]: ["early"], days[2]: ["late", "must"]}


def test_a_block_of_two_dates_rebuilt_date_by_date_keeps_every_rule_and_costs_less(
    two_dates,
) -> None:
    problem, world, days, groups = two_dates
    greedy, _ = _greedy(world, [], sorted(groups), 1.0)
    before = sum(world.bus_cost(b) for b in greedy)
    clock = Budget(time.monotonic(), 40.0)
    rebuilt, missed, known, prices = rebuild_by_dives(world, copy_buses(greedy), [], clock, 1.0)
    assert missed == [] and groups in known
    after = sum(world.bus_cost(b) for b in rebuilt)
    assert after < before
    plan = _plan(world, rebuilt, [], Budget(time.monotonic(), 5.0), known, prices)
    assert check(problem, plan) == []
    assert plan.summary.lower_bound_cost <= plan.summary.cost
