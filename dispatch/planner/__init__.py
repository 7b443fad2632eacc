"""Charter-bus planner: demand and fleet in, trips with stops and seats out.

Pure: plain frozen dataclasses, no Flask, SQLAlchemy or models. Files and rules: PLANNER_FORMAT.md.

The pipeline, one subpackage per stage, in the order solve() (solver.py) runs them: the problem
is read and validated (problem/) into the dataclasses of model.py; the world (world/) adds the
distances between sites, the best order of a bus's stops and working buses; construction
(construct/) seats groups in the free seats of fixed trips first (their stops kept), then
inserts every other group greedily into a first plan; the LP/MIP rebuilds (rebuild/, on
the linear models of lp/) replace blocks of dates by a covering MIP's plan, or on full days by
plans dived from column generation, when cheaper; local search (search/, on two cores when time
allows) improves the plan; the working buses become trips with stops and seats (plan/); and the
bound (bound/) proves how far from optimal the plan can at most be. cost.py is the one formula
for what a bus costs, tuning.py holds every time share and search constant, budget.py the clock.

Public API (what the web app calls in-process):

- ``load_problem(data: dict) -> Problem`` validates a problem dict (the file form) and raises
  ``ProblemError`` whose ``faults`` lists one line per fault.
- ``solve(problem, time_limit_s=30, seed=0, progress=None) -> Plan`` returns the best plan found
  within the time limit (never nothing: a greedy plan comes first). ``progress(fraction, message)``
  is called now and then. Groups it cannot serve are in ``plan.unassigned`` with a reason.
- ``check(problem, plan) -> list[str]`` lists every violation of the rules; empty when fine.
- ``plan_to_dict(plan)``, ``plan_from_dict(d)``, ``problem_to_dict(problem)`` convert to and from
  the file form; ``plan_from_dict`` raises ``ProblemError`` on a malformed plan.

Command line: ``python -m dispatch.planner solve PROBLEM.json [--time-limit S] [--seed N] [-o PLAN.json]``
and ``python -m dispatch.planner check PROBLEM.json PLAN.json``.
"""

from __future__ import annotations

from dispatch.planner.model import (
    CoachType,
    Group,
    Plan,
    Problem,
    ProblemError,
    Rules,
    Site,
    Stop,
    Summary,
    Trip,
    Unassigned,
)
from dispatch.planner.plan.check import check
from dispatch.planner.plan.files import plan_from_dict, plan_to_dict
from dispatch.planner.problem.files import load_problem, problem_to_dict
from dispatch.planner.solver import solve

__all__ = [
    "CoachType",
    "Group",
    "Plan",
    "Problem",
    "ProblemError",
    "Rules",
    "Site",
    "Stop",
    "Summary",
    "Trip",
    "Unassigned",
    "check",
    "load_problem",
    "plan_from_dict",
    "plan_to_dict",
    "problem_to_dict",
    "solve",
]
