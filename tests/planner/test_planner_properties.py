"""Random small problems: every plan passes the checker; the bound never beats a feasible plan."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planner_helpers import SITES, brute_force_optimum, group, problem_dict

from dispatch.planner import check, load_problem, solve

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
