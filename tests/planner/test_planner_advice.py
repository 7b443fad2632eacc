"""Changes for near-empty buses (dispatch/planner/advice.py): on random problems every change is a
plan the checker accepts (one drop-off over the limit for a third-drop exception, the agreed day
for a date change) and costs exactly what it says less; plus exact answers on tiny cases."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from dispatch.planner import (
    Plan,
    Problem,
    Summary,
    check,
    load_problem,
    plan_to_dict,
    solve,
    tuning,
)
from dispatch.planner import advice as pa
from dispatch.planner.bound import prices
from dispatch.planner.bound.lower import column_pattern_bound
from dispatch.planner.plan.files import plan_from_dict
from dispatch.planner.plan.trips import to_trip
from dispatch.planner.world.blocks import blocks, demand
from dispatch.planner.world.buses import Bus, World
from tests.support.planner import bench_module, group, problem_dict, problems


def _one_bus_each(problem: Problem) -> Plan:
    """The dearest plan: every group on a bus of its own, on its first day, largest coach."""
    world = World(problem)
    coach = max(problem.coach_types.values(), key=lambda c: c.passenger_seats).id
    trips = tuple(
        to_trip(world, Bus(g.earliest, coach, [g.id]), f"T{n}")
        for n, g in enumerate(problem.groups.values(), start=1)
    )
    cost = sum(t.cost for t in trips)
    return Plan(trips, (), Summary(cost, len(trips), 0.0, 1.0, 0.0))


def _whole(plan: Plan, change: pa.Change) -> Plan:
    """The whole plan once the change (made on the bus's days) is applied."""
    local = {t.id: t for t in change.plan.trips}
    trips = tuple(
        local.get(t.id, t)
        for t in plan.trips
        if t.id in local or abs((t.date - plan_trip(plan, change.trip).date).days) > 1
    )
    return pa.replace_trips(plan, trips)


def plan_trip(plan: Plan, trip_id: str):
    return next(t for t in plan.trips if t.id == trip_id)


def _agreed(problem: Problem, change: pa.Change) -> Problem:
    groups = dict(problem.groups)
    for m in change.moves:
        g = groups[m.group]
        groups[m.group] = dataclasses.replace(
            g, earliest=min(g.earliest, m.day), latest=max(g.latest, m.day)
        )
    return dataclasses.replace(problem, groups=groups)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_change_is_checked_and_saves_what_it_says(data: dict[str, Any]) -> None:
    for coach in data["coach_types"]:
        coach.pop("available", None)
    problem = load_problem(data)
    plan = _one_bus_each(problem)
    assert check(problem, plan) == []
    for trip_id in pa.under_half(problem, plan):
        for change in pa.changes_for(problem, plan, trip_id):
            after = _whole(plan, change)
            faults = check(_agreed(problem, change), after)
            if change.kind == pa.THIRD_DROP:
                assert len(faults) == 1 and "drop-off stops (max" in faults[0]
            else:
                assert faults == []
            assert after.summary.cost == pytest.approx(plan.summary.cost - change.saving, abs=0.02)
            assert change.saving > 0
            assert (len(after.trips) == len(plan.trips) - 1) == change.removed
            outside = any(m.outside for m in change.moves)
            assert outside == (change.kind == pa.CONSENT)


def _problem(groups: list[dict[str, Any]], **rules: Any) -> Problem:
    data = problem_dict(groups)
    data["rules"].update(rules)
    return load_problem(data)


def test_two_buses_on_one_road_become_one():
    problem = _problem([group("a", 20), group("b", 3)])
    plan = _one_bus_each(problem)
    best = pa.changes_for(problem, plan, "T2")[0]
    assert best.kind == pa.MOVE and best.removed
    assert best.saving == pytest.approx(plan_trip(plan, "T2").cost, abs=0.01)
    assert [(m.group, m.trip, m.outside) for m in best.moves] == [("b", "T1", False)]


def test_a_day_outside_the_window_needs_consent():
    problem = _problem([group("a", 20), group("b", 3, earliest="2026-03-02")])
    best = pa.changes_for(problem, _one_bus_each(problem), "T2")[0]
    assert best.kind == pa.CONSENT and best.moves[0].outside


def test_a_locked_bus_takes_nobody():
    problem = _problem([group("a", 20), group("b", 3)])
    kinds = [c.kind for c in pa.changes_for(problem, _one_bus_each(problem), "T2", frozen={"T1"})]
    assert kinds == [pa.SMALLER]


def test_a_third_drop_off_only_where_the_rules_allow_two():
    groups = [
        group("a", 10, dropoff="js-kunshan"),
        group("b", 10, dropoff="js-suzhou"),
        group("c", 3, dropoff="js-suzhou"),
    ]
    problem = _problem(groups, max_dropoff_stops=1)
    plan = _one_bus_each(problem)
    kinds = [c.kind for c in pa.changes_for(problem, plan, "T1")]
    assert pa.THIRD_DROP in kinds  # with one drop-off allowed, a second one is the exception
    far = _problem([group("a", 20), group("b", 3, dropoff="js-nanjing-jiangning")])
    assert pa.THIRD_DROP not in [
        c.kind for c in pa.changes_for(far, _one_bus_each(far), "T2")
    ]  # Jiangning is beyond the spread from Kunshan


def test_the_lp_charges_most_per_seat_for_the_demand_that_needs_a_bus_of_its_own():
    groups = [
        group("a", 20),
        group("b", 25),
        group("c", 2, dropoff="js-nanjing-jiangning"),
        group("d", 3, pickup="houma", dropoff="js-suzhou"),
    ]
    problem = _problem(groups)
    ((block, charges),) = prices.demand_charges(World(problem), frozenset(problem.groups), 2.0)
    assert block == frozenset(problem.groups)
    per_seat = {
        pair: charge / sum(g["size"] for g in groups if (g["pickup"], g["dropoff"]) == pair)
        for pair, charge in charges.items()
    }
    assert max(per_seat, key=per_seat.get) == ("hongtong", "js-nanjing-jiangning")
    # the charges share out the LP's cost, which no plan beats
    assert sum(charges.values()) <= solve(problem, time_limit_s=1).summary.cost + 0.01
    by_group = prices.group_charges(World(problem), frozenset(problem.groups), 2.0)
    assert by_group["a"] + by_group["b"] == pytest.approx(charges[("hongtong", "js-kunshan")])


def test_each_group_is_charged_its_share_of_its_own_block():
    """A demand on two blocks of dates has a charge in each: a group's share is of its own
    block's charge, by its seats there (a group once took the other block's charge over the
    seats of both, 13 CNY a seat on a season where a bus costs 12,500)."""
    march = [group("a", 20), group("b", 25), group("c", 2, dropoff="js-nanjing-jiangning")]
    april = [group(g, n, earliest="2026-04-01") for g, n in (("d", 40), ("e", 5))]
    problem = _problem(march + april)
    found = prices.demand_charges(World(problem), frozenset(problem.groups), 5.0)
    assert sorted(sorted(block) for block, _ in found) == [["a", "b", "c"], ["d", "e"]]
    by_group = prices.group_charges(World(problem), frozenset(problem.groups), 5.0)
    for block, charges in found:
        for pair, charge in charges.items():
            mine = [
                g for g in block if (problem.groups[g].pickup, problem.groups[g].dropoff) == pair
            ]
            assert sum(by_group[g] for g in mine) == pytest.approx(charge)
    # one 51-seat bus of 45 seats each: the same demand, charged alike on either date
    assert by_group["d"] + by_group["e"] == pytest.approx(by_group["a"] + by_group["b"], rel=0.05)


def test_the_converged_lp_prices_every_demand_and_its_charges_add_up_to_its_cost(monkeypatch):
    """What a plan keeps as its prices (Plan.prices): the charges of column generation's LP,
    read once it has converged, one for every demand; shared out over the seats they add up to
    the LP's cost, which is the bound without the bus-count split."""
    monkeypatch.setattr(tuning, "FEWEST_PATTERN_LIMIT", 0)  # the LP alone: no count row
    problem = load_problem(bench_module().problem(300, seed=1))  # column generation's size
    world = World(problem)
    ((days, names),) = blocks(world, problem.groups)
    result = column_pattern_bound(world, days, names, 60.0, split=False, charges=True)
    seats = demand(world, names)
    assert set(result.charges) == set(seats)
    assert all(charge > 0 for charge in result.charges.values())
    assert sum(result.charges.values()) == pytest.approx(result.bound, rel=1e-3)


def test_a_plan_carries_the_prices_of_the_demands_its_trips_carry(monkeypatch):
    """solve() hands column generation's prices to the plan, only those of the demands and
    dates its trips carry, and the plan file keeps them (rounded to the fen)."""
    from dispatch.planner import solver
    from dispatch.planner.rebuild import dives

    problem = load_problem(bench_module().problem(300, seed=1))
    day = next(iter(problem.groups.values())).earliest
    extra = (day, "nowhere", "js-kunshan")

    def priced(world, buses, missed, clock, share):
        found = dives.rebuild_by_dives(world, buses, missed, clock, 0.01)  # no time to converge
        prices = {
            (day, g.pickup, g.dropoff): 100.0 + len(g.pickup) / 3 for g in problem.groups.values()
        }
        return (*found[:3], {**prices, extra: 1.0})

    monkeypatch.setattr(solver, "rebuild_by_dives", priced)
    plan = solve(problem, time_limit_s=3)
    carried = {
        (t.date, problem.groups[g].pickup, problem.groups[g].dropoff)
        for t in plan.trips
        for g in t.group_ids()
    }
    assert set(plan.prices) == carried and extra not in plan.prices
    assert plan_from_dict(plan_to_dict(plan)).prices == {
        k: round(v, 2) for k, v in plan.prices.items()
    }
