"""Random small problems: every plan passes the checker; the bound never beats a feasible plan."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from dispatch.planner import check, load_problem, solve
from tests.support.planner import brute_force_optimum, problems


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_keeps_the_rules(data: dict[str, Any]) -> None:
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=0.5)
    assert check(problem, plan) == []
    assert plan.summary.lower_bound_cost <= plan.summary.cost + 1e-6
    for missed in plan.unassigned:
        assert missed.reason.startswith("no coach")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_bound_never_above_the_brute_force_optimum(data: dict[str, Any]) -> None:
    for coach in data["coach_types"]:
        coach.pop("available", None)
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=0.5)
    optimum = brute_force_optimum(problem)
    assert check(problem, plan) == []
    assert plan.summary.lower_bound_cost <= optimum * (1 + 1e-9)
    assert plan.summary.cost >= optimum * (1 - 1e-9)
