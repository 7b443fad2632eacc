"""The second local search process (search/parallel.py): a real child interpreter, and the cheaper plan."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

from dispatch.planner import check, load_problem, solve
from dispatch.planner.construct.greedy import insert_groups
from dispatch.planner.search import parallel
from dispatch.planner.search.ruin import improve
from dispatch.planner.world.buses import World, copy_buses, plan_cost
from tests.support.planner import bench_module


def _greedy(workers: int, seed: int):
    problem = load_problem(bench_module().problem(workers, seed=seed))
    world = World(problem)
    buses: list = []
    assert insert_groups(world, buses, sorted(problem.groups)) == []
    return problem, world, buses


def test_the_child_improves_what_it_is_sent() -> None:
    problem, world, buses = _greedy(60, 6)  # the search stalls long before the deadline
    payload = pickle.dumps((problem, copy_buses(buses), time.monotonic() + 60.0, 7))
    out = subprocess.run(
        [sys.executable, "-m", "dispatch.planner.parallel"],
        input=payload,
        capture_output=True,
        check=True,
        timeout=60,
    )
    theirs = pickle.loads(out.stdout)
    assert sorted(g for b in theirs for g in b.groups) == sorted(problem.groups)
    assert plan_cost(world, theirs) < plan_cost(world, buses)
    # the child is the same search as here: seed 7 gives the same plan in either process
    ours = copy_buses(buses)
    improve(World(problem), ours, 60.0, 7)
    assert plan_cost(world, theirs) == plan_cost(world, ours)


def test_the_childs_plan_is_taken_when_cheaper(monkeypatch) -> None:
    problem, world, buses = _greedy(60, 8)  # stalls within seconds: no clock in the outcome
    child = copy_buses(buses)
    improve(World(problem), child, 60.0, 2)  # what the child of seed 1 does
    assert plan_cost(world, child) < plan_cost(world, buses)
    monkeypatch.setattr(parallel, "improve", lambda world, buses, seconds, seed: None)
    raced = copy_buses(buses)  # the parent searches no further than greedy
    parallel.improve_on_two_cores(world, raced, 60.0, 1)
    assert plan_cost(world, raced) == plan_cost(world, child)
    assert sorted(map(sorted, (b.groups for b in raced))) == sorted(
        map(sorted, (b.groups for b in child))
    )


def test_a_tie_keeps_the_parents_plan(monkeypatch) -> None:
    problem, world, buses = _greedy(60, 8)
    monkeypatch.setattr(parallel, "improve", lambda world, buses, seconds, seed: None)
    monkeypatch.setattr(parallel, "plan_cost", lambda world, buses: 1.0)  # every plan ties
    raced = copy_buses(buses)
    parallel.improve_on_two_cores(world, raced, 60.0, 1)
    # the child improved on greedy (the test above), yet the parent's untouched plan stays
    assert [b.groups for b in raced] == [b.groups for b in buses]


def test_a_dead_child_leaves_the_parents_plan(monkeypatch) -> None:
    problem, world, buses = _greedy(60, 6)
    monkeypatch.setattr(parallel.sys, "executable", "/bin/false")
    alone = copy_buses(buses)
    improve(world, alone, 60.0, 1)
    raced = copy_buses(buses)
    parallel.improve_on_two_cores(world, raced, 60.0, 1)
    assert plan_cost(world, raced) == plan_cost(world, alone)


def test_a_long_solve_uses_the_second_process_and_passes_check() -> None:
    problem = load_problem(bench_module().problem(150, seed=8))
    plan = solve(problem, time_limit_s=12, seed=3)
    assert check(problem, plan) == []
    assert not plan.unassigned
