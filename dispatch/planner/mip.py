"""The only module that touches OR-Tools: plain linear models in, plain numbers out."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp

BACKENDS = ("HIGHS", "SCIP", "CBC")
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


def solve_linear(model: LinearModel, seconds: float, relative_gap: float = 1e-4) -> LinearResult:
    """Solve with HiGHS (SCIP or CBC when absent) through pywraplp; one thread."""
    solver = _solver()
    inf = solver.infinity()
    cols = [
        solver.Var(lo, inf if math.isinf(up) else up, integer, "")
        for lo, up, integer in zip(model.lower, model.upper, model.integer, strict=True)
    ]
    for terms, lo, up in model.rows:
        ct = solver.RowConstraint(-inf if math.isinf(lo) else lo, inf if math.isinf(up) else up, "")
        for j, coef in terms:
            ct.SetCoefficient(cols[j], coef)
    objective = solver.Objective()
    for var, c in zip(cols, model.cost, strict=True):
        if c:
            objective.SetCoefficient(var, c)
    objective.SetMinimization()
    return _run(solver, cols, model, seconds, relative_gap)


@contextlib.contextmanager
def _no_banner() -> Iterator[None]:
    """HiGHS prints a banner on the C-level stdout at its first solve; callers such as
    `plan run` promise that stdout carries only their own lines, so send it to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _solver() -> pywraplp.Solver:
    """The first MIP backend the wheel has."""
    for name in BACKENDS:
        solver = pywraplp.Solver.CreateSolver(name)
        if solver is not None:
            solver.SuppressOutput()
            solver.SetNumThreads(1)
            return solver
    raise RuntimeError("OR-Tools has no MIP backend")


def _run(
    solver: pywraplp.Solver,
    cols: list[pywraplp.Variable],
    model: LinearModel,
    seconds: float,
    gap: float,
) -> LinearResult:
    """Solve and turn the answer into plain numbers straight away."""
    # No solution hints: HiGHS behind pywraplp 9.15 crashed (SIGSEGV) on a partial hint.
    solver.SetTimeLimit(max(1, int(seconds * 1000)))
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, gap)
    with _no_banner():  # HiGHS prints its banner at the first Solve of a process
        status = solver.Solve(params)
    has_solution = status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    if not has_solution:
        return LinearResult([], math.inf, _safe_bound(solver, status), False)
    values = [v.solution_value() for v in cols]
    objective = solver.Objective().Value()
    bound = _safe_bound(solver, status)
    return LinearResult(values, objective, min(bound, objective), status == pywraplp.Solver.OPTIMAL)


def _safe_bound(solver: pywraplp.Solver, status: int) -> float:
    """The solver's dual bound, or -inf when it proved nothing."""
    if status == pywraplp.Solver.INFEASIBLE:
        return math.inf
    try:
        bound = solver.Objective().BestBound()
    except Exception:  # noqa: BLE001 - a backend without a bound proves nothing
        return -math.inf
    return bound if math.isfinite(bound) else -math.inf


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
