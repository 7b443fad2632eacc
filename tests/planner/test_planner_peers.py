"""Our bound against the peers' plans (benchmark-only dependencies, skipped when absent).

VROOM and PyVRP cannot limit stops, so they plan the lifted variant; their plans, scored by the
same checker and carrying our bound for that variant, must pass, bound included (rule 9)."""

from __future__ import annotations

import pytest

from dispatch.planner import check, load_problem, plan_from_dict, solve
from tests.support.planner import bench_module

CASES = [(30, 1), (60, 2), (120, 3)]  # workers, seed


def _peer_plan(peer: str, workers: int, seed: int) -> tuple[float, float, list[str]]:
    """Our bound, the peer's cost and the checker's faults on one small lifted day."""
    pytest.importorskip("vroom" if peer == "vroom" else "pyvrp")
    bench = bench_module()
    problem = load_problem(bench.lifted(bench.problem(workers, seed=seed)))
    bound = solve(problem, time_limit_s=0.5, seed=seed).summary.lower_bound_cost
    if peer == "vroom":
        out = bench.vroom_plan(problem, 1.0, bound)
    else:
        out = bench.pyvrp_plan(problem, 1.0, bound, seed)
    assert out is not None, f"{peer} left groups unassigned"
    plan = plan_from_dict(out)
    return bound, plan.summary.cost, check(problem, plan)


@pytest.mark.parametrize(("workers", "seed"), CASES)
@pytest.mark.parametrize("peer", ["vroom", "pyvrp"])
def test_no_bound_above_a_peer_plan(peer: str, workers: int, seed: int) -> None:
    bound, cost, faults = _peer_plan(peer, workers, seed)
    assert faults == []
    assert 0 < bound <= cost
