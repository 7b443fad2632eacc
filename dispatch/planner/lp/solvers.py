"""The only module that touches OR-Tools' linear solvers: plain linear models in, plain numbers out."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from ortools.linear_solver import pywraplp
from ortools.math_opt.python import mathopt

LP_BACKEND = "GLOP"


@dataclass
class LinearModel:
    """A minimisation MIP in plain lists: columns and rows of (column, coefficient) pairs."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    rows: list[tuple[list[tuple[int, float]], float, float]] = field(default_factory=list)

    def column(
        self, cost: float, upper: float = math.inf, integer: bool = False, lower: float = 0.0
    ) -> int:
        """Add a variable; return its index."""
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        self.cost.append(cost)
        return len(self.cost) - 1

    def row(
        self, terms: list[tuple[int, float]], lower: float = -math.inf, upper: float = math.inf
    ) -> None:
        """Add lower <= sum(coef * var) <= upper."""
        self.rows.append((terms, lower, upper))


@dataclass(frozen=True)
class LinearResult:
    """Values of the best solution (empty when none), its objective, and the proven bound."""

    values: list[float]
    objective: float
    bound: float
    optimal: bool


def solve_linear(
    model: LinearModel,
    seconds: float,
    relative_gap: float = 1e-4,
    absolute_gap: float | None = None,
) -> LinearResult:
    """Solve with HiGHS through MathOpt: the best solution and the proven bound, also at the limit.

    `absolute_gap` (in objective units) replaces the relative one where the objective carries a
    large constant, as the packing MIP's reward for every group carried does.

    Not through pywraplp: OR-Tools 9.15 maps HiGHS's "time limit reached" to an unknown status
    there and drops both the incumbent and the bound (google/or-tools#5016, #5372), so every MIP
    that ran out of time came back empty. MathOpt reports the limit as a feasible termination.
    """
    mo = mathopt.Model()
    cols = [
        mo.add_variable(lb=lo, ub=up, is_integer=integer)
        for lo, up, integer in zip(model.lower, model.upper, model.integer, strict=True)
    ]
    for terms, lo, up in model.rows:
        row = mo.add_linear_constraint(lb=lo, ub=up)
        for j, coef in terms:
            row.set_coefficient(cols[j], coef)
    objective = mo.objective
    objective.is_maximize = False
    for var, c in zip(cols, model.cost, strict=True):
        if c:
            objective.set_linear_coefficient(var, c)
    params = mathopt.SolveParameters(
        time_limit=timedelta(seconds=max(0.01, seconds)),
        relative_gap_tolerance=relative_gap if absolute_gap is None else 0.0,
        absolute_gap_tolerance=absolute_gap,
    )
    with _quiet_stdout():
        result = mathopt.solve(mo, mathopt.SolverType.HIGHS, params=params)
    return _read(result, cols)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS writes some diagnostics with printf, on the C-level stdout, whatever its options;
    callers such as `plan run` promise that stdout carries only their own lines."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _read(result: mathopt.SolveResult, cols: list[mathopt.Variable]) -> LinearResult:
    """Plain numbers straight away: values (empty without a solution), objective, proven bound."""
    reason = result.termination.reason
    if reason == mathopt.TerminationReason.INFEASIBLE:
        return LinearResult([], math.inf, math.inf, False)
    dual = result.termination.objective_bounds.dual_bound
    bound = dual if math.isfinite(dual) else -math.inf
    if not result.has_primal_feasible_solution():
        return LinearResult([], math.inf, bound, False)
    values = result.variable_values()
    objective = result.objective_value()
    optimal = reason == mathopt.TerminationReason.OPTIMAL
    return LinearResult([values[v] for v in cols], objective, min(bound, objective), optimal)


@dataclass(frozen=True)
class LpResult:
    """Primal values, objective and row duals of a linear programme (empty when unsolved)."""

    values: list[float]
    objective: float
    duals: list[float]


class GrowingLp:
    """A minimisation LP (GLOP) that grows by columns and re-solves from its last basis."""

    def __init__(self, rows: list[tuple[float, float]]) -> None:
        self._limits = list(rows)
        self._data: list[tuple[float, list[tuple[int, float]]]] = []
        self._lower: dict[int, float] = {}
        self._fresh()

    def _fresh(self) -> None:
        """A new solver holding every row and column so far."""
        self._solver = pywraplp.Solver.CreateSolver(LP_BACKEND)
        self._inf = self._solver.infinity()
        self._rows = [
            self._solver.RowConstraint(*self._bounds(lo, up), "") for lo, up in self._limits
        ]
        self._cols: list[pywraplp.Variable] = []
        self._solver.Objective().SetMinimization()
        for cost, terms in self._data:
            self._extract(cost, terms)
        for j, lo in self._lower.items():
            self._cols[j].SetLb(lo)

    def _bounds(self, lo: float, up: float) -> tuple[float, float]:
        return (-self._inf if math.isinf(lo) else lo, self._inf if math.isinf(up) else up)

    def column(self, cost: float, terms: list[tuple[int, float]]) -> int:
        """Add a column x ≥ 0 with its row coefficients; return its index."""
        self._data.append((cost, terms))
        self._extract(cost, terms)
        return len(self._cols) - 1

    def _extract(self, cost: float, terms: list[tuple[int, float]]) -> None:
        var = self._solver.NumVar(0.0, self._inf, "")
        self._solver.Objective().SetCoefficient(var, cost)
        for r, coef in terms:
            self._rows[r].SetCoefficient(var, coef)
        self._cols.append(var)

    def set_lower(self, j: int, lo: float) -> None:
        """Set the lower limit of column j (a bound change: the next solve starts warm)."""
        self._lower[j] = lo
        self._cols[j].SetLb(lo)

    def set_row(self, r: int, lo: float, up: float) -> None:
        """Change the limits of row r."""
        self._limits[r] = (lo, up)
        self._rows[r].SetBounds(*self._bounds(lo, up))

    def solve(self, seconds: float) -> LpResult:
        """Solve; the duals of every row, or empty lists when not optimal."""
        self._solver.SetTimeLimit(max(1, int(seconds * 1000)))
        status = self._solver.Solve()
        if status == pywraplp.Solver.ABNORMAL:  # GLOP lost its way from the warm start
            self._fresh()
            self._solver.SetTimeLimit(max(1, int(seconds * 1000)))
            status = self._solver.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            return LpResult([], math.inf, [])
        return LpResult(
            [v.solution_value() for v in self._cols],
            self._solver.Objective().Value(),
            [ct.dual_value() for ct in self._rows],
        )
