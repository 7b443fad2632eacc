"""The MIP adapter (lp/solvers.py) returns what HiGHS found when its time runs out."""

from __future__ import annotations

import math
import random

from dispatch.planner.lp.solvers import LinearModel, solve_linear


def _market_split(rows: int = 4, items: int = 34, seed: int = 3) -> LinearModel:
    """Cornuéjols–Dawande market split: sum of slacks to minimise, x = 0 is feasible at once, and
    proving the optimum takes HiGHS far longer than a second."""
    rng = random.Random(seed)
    model = LinearModel()
    x = [model.column(0.0, upper=1, integer=True) for _ in range(items)]
    for _ in range(rows):
        a = [rng.randint(0, 99) for _ in range(items)]
        plus, minus = model.column(1.0), model.column(1.0)
        terms = [(j, float(c)) for j, c in zip(x, a, strict=True)] + [(plus, 1.0), (minus, -1.0)]
        total = float(sum(a) // 2)
        model.row(terms, lower=total, upper=total)
    return model


def test_a_mip_stopped_by_the_clock_keeps_its_incumbent_and_bound() -> None:
    result = solve_linear(_market_split(), seconds=0.5)
    assert not result.optimal
    assert result.values, "the incumbent was dropped at the time limit"
    assert math.isfinite(result.objective)
    assert result.bound <= result.objective
    assert math.isfinite(result.bound)


def test_an_infeasible_mip_says_so() -> None:
    model = LinearModel()
    x = model.column(1.0, upper=1, integer=True)
    model.row([(x, 1.0)], lower=1.5)
    result = solve_linear(model, seconds=1)
    assert result.values == []
    assert result.bound == math.inf


def test_an_easy_mip_is_solved_to_optimality() -> None:
    model = LinearModel()
    x = model.column(3.0, integer=True)
    y = model.column(5.0, integer=True)
    model.row([(x, 2.0), (y, 3.0)], lower=7.0)
    result = solve_linear(model, seconds=5)
    assert result.optimal
    assert result.objective == 11.0  # x = 2, y = 1
    assert [round(v) for v in result.values] == [2, 1]
