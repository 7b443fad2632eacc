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
