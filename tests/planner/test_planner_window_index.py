"""Buses looked up by date (world/buses.DateIndex): a season's searches offer a group only the
buses of its window, and that must choose what a scan of every bus would have chosen."""

from __future__ import annotations

import random
from collections import Counter

from dispatch.planner import check, load_problem, solve
from dispatch.planner.construct.greedy import best_insertion, insert_groups
from dispatch.planner.world.buses import Bus, DateIndex, World, free_seats
from tests.support.planner import bench_module


def _season(days: int = 5, per_day: int = 120, window: int = 2) -> World:
    """A generated season of a few days whose windows span up to `window` extra days."""
    return World(load_problem(bench_module().problem(per_day, days, seed=3, window=window)))


def _plan(world: World) -> list[Bus]:
    """The greedy plan of every group but a tenth, kept back to be offered."""
    buses: list[Bus] = []
    ids = sorted(world.groups)
    insert_groups(world, buses, ids[: len(ids) * 9 // 10])
    return buses


def test_the_index_holds_exactly_the_buses_of_a_window_in_list_order() -> None:
    world = _season()
    buses = _plan(world)
    random.Random(1).shuffle(buses)  # dates interleaved in the list
    index = DateIndex(buses)
    for group in world.groups.values():
        expected = [i for i, b in enumerate(buses) if group.earliest <= b.date <= group.latest]
        assert index.within(group) == expected
    extra = Bus(buses[0].date, buses[0].coach)
    index.add(len(buses), extra)
    buses.append(extra)
    assert index.within(world.groups[buses[0].groups[0]])[-1] == len(buses) - 1


def test_offering_only_the_window_chooses_the_bus_a_full_scan_chooses() -> None:
    world = _season()
    buses = _plan(world)
    random.Random(2).shuffle(buses)
    index = DateIndex(buses)
    room = {id(b): free_seats(world, b) for b in buses}
    left = sorted(set(world.groups) - {g for b in buses for g in b.groups})
    assert left
    chosen = 0
    for gid in left:
        scanned = best_insertion(world, buses, gid, room)
        indexed = best_insertion(world, buses, gid, room, index)
        assert indexed is scanned
        chosen += scanned is not None
    assert chosen  # some groups did find a seat, so the comparison compared buses


def test_a_season_with_windows_and_few_coaches_is_planned_within_the_rules() -> None:
    """The emptying move counts coaches per day across its tries (and gives them back when a try
    is undone): with four coaches of a type a day, a miscount would break availability."""
    data = bench_module().problem(150, 4, seed=3, window=3, fleet_per_day=4)
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=4, seed=1)
    assert not plan.unassigned
    assert check(problem, plan) == []
    assert len({t.date for t in plan.trips}) > 1
    per_day = Counter((t.date, t.coach_type) for t in plan.trips)
    assert max(per_day.values()) == 4  # the limit binds somewhere, so it was tested
    for trip in plan.trips:
        for gid in trip.group_ids():
            assert problem.groups[gid].earliest <= trip.date <= problem.groups[gid].latest
