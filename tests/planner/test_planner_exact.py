"""Exact answers on tiny cases, seats, locked trips, windows and availability."""

from __future__ import annotations

import pytest

from dispatch.planner import check, load_problem, plan_from_dict, plan_to_dict, solve
from dispatch.planner.world.distances import Distances
from tests.support.planner import brute_force_optimum, group, load, problem_dict


def test_one_family_rides_the_small_coach_direct() -> None:
    problem = load([group("g1", 3)])
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    (trip,) = plan.trips
    km = Distances(problem).km["hongtong"]["js-kunshan"]
    assert trip.coach_type == "c33"
    assert [s.site for s in trip.stops] == ["hongtong", "js-kunshan"]
    assert trip.cost == pytest.approx(9000 + 3 * km)
    assert sorted(trip.seats.values()) == [1, 2, 3]
    assert plan.summary.lower_bound_cost == pytest.approx(trip.cost, rel=1e-5)


def test_two_counties_share_one_bus_and_first_off_sit_in_front() -> None:
    problem = load([group("g1", 2, "hongtong", "js-suzhou"), group("g2", 2, "yaodu", "js-kunshan")])
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert len(plan.trips) == 1
    trip = plan.trips[0]
    assert [s.site for s in trip.stops][2:] == ["js-suzhou", "js-kunshan"]
    assert trip.seats == {"g1-m1": 1, "g1-m2": 2, "g2-m1": 3, "g2-m2": 4}
    assert plan.summary.cost == pytest.approx(brute_force_optimum(problem), rel=1e-6)


def test_full_demand_needs_two_buses_and_never_splits_a_group() -> None:
    problem = load([group(f"g{i}", 10) for i in range(6)])
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert sorted(len(t.group_ids()) for t in plan.trips) in ([1, 5], [2, 4], [3, 3])
    assert plan.summary.cost == pytest.approx(brute_force_optimum(problem), rel=1e-6)


def test_far_drop_offs_are_not_mixed() -> None:
    problem = load(
        [group("g1", 2, dropoff="js-kunshan"), group("g2", 2, dropoff="js-nanjing-jiangning")]
    )
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert len(plan.trips) == 2


def test_window_lets_groups_share_a_day() -> None:
    problem = load(
        [
            group("g1", 20, earliest="2026-03-01", latest="2026-03-03"),
            group("g2", 20, earliest="2026-03-03"),
        ]
    )
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert [(t.date.isoformat(), len(t.group_ids())) for t in plan.trips] == [("2026-03-03", 2)]


def test_availability_limits_and_reason() -> None:
    coaches = [
        {
            "id": "c53",
            "passenger_seats": 51,
            "fixed_cost": 12500,
            "cost_per_km": 3.0,
            "available": {"2026-03-01": 1},
        }
    ]
    problem = load_problem(problem_dict([group("g1", 40), group("g2", 40)], coach_types=coaches))
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert len(plan.trips) == 1
    (missed,) = plan.unassigned
    assert missed.reason == "no coach left on 2026-03-01"


def test_locked_trip_is_kept_and_filled() -> None:
    locked = {
        "id": "K7",
        "date": "2026-03-01",
        "coach_type": "c53",
        "stops": [
            {"site": "hongtong", "pickup": ["g1"], "dropoff": []},
            {"site": "js-kunshan", "pickup": [], "dropoff": ["g1"]},
        ],
        "seats": {"g1-m1": 5, "g1-m2": 6},
        "km": 0,
        "cost": 0,
    }
    problem = load_problem(problem_dict([group("g1", 2), group("g2", 3)], fixed_trips=[locked]))
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert [t.id for t in plan.trips] == ["K7"]
    trip = plan.trips[0]
    assert trip.seats["g1-m1"] == 5 and trip.seats["g1-m2"] == 6
    assert set(trip.group_ids()) == {"g1", "g2"}


def test_new_trip_ids_avoid_locked_ones() -> None:
    locked = {
        "id": "T1",
        "date": "2026-03-01",
        "coach_type": "c33",
        "stops": [
            {"site": "houma", "pickup": ["g1"], "dropoff": []},
            {"site": "js-nanjing-jiangning", "pickup": [], "dropoff": ["g1"]},
        ],
        "seats": {},
        "km": 0,
        "cost": 0,
    }
    problem = load_problem(
        problem_dict(
            [group("g1", 2, "houma", "js-nanjing-jiangning"), group("g2", 3)], fixed_trips=[locked]
        )
    )
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert sorted(t.id for t in plan.trips) == ["T1", "T2"]


def test_pairs_sit_side_by_side() -> None:
    problem = load([group("a", 1), group("b", 2), group("c", 1), group("d", 2)])
    plan = solve(problem, time_limit_s=1)
    seats = plan.trips[0].seats
    for gid in ("b", "d"):
        assert seats[f"{gid}-m1"] % 2 == 1 and seats[f"{gid}-m2"] == seats[f"{gid}-m1"] + 1


def test_same_input_same_plan() -> None:
    problem = load(
        [
            group(
                f"g{i}",
                1 + i % 5,
                ["hongtong", "yaodu", "houma"][i % 3],
                ["js-kunshan", "js-suzhou"][i % 2],
            )
            for i in range(30)
        ]
    )
    first, second = (plan_to_dict(solve(problem, time_limit_s=2, seed=3)) for _ in range(2))
    for p in (first, second):
        p["summary"].pop("seconds")
    assert first == second


def test_plan_round_trips_through_its_file_form() -> None:
    problem = load([group("g1", 3), group("g2", 4, "yaodu")])
    plan = solve(problem, time_limit_s=1)
    again = plan_from_dict(plan_to_dict(plan))
    assert check(problem, again) == []
    assert plan_to_dict(again) == plan_to_dict(plan)


def test_stop_order_is_the_shortest_and_long_lists_only_get_shorter() -> None:
    import itertools
    import random

    from dispatch.planner.world.distances import _held_karp, _length, _two_opt

    rng = random.Random(7)
    for n in range(1, 7):
        dist = [[0.0 if i == j else rng.uniform(1, 9) for j in range(n)] for i in range(n)]
        for first, (cost, path) in enumerate(_held_karp(dist)):
            brute = min(
                sum(dist[p[k]][p[k + 1]] for k in range(n - 1))
                for p in itertools.permutations(range(n))
                if p[0] == first
            )
            assert sorted(path) == list(range(n)) and path[0] == first
            assert abs(cost - brute) < 1e-9
    names = [f"s{i}" for i in range(12)]
    spots = {s: (rng.random(), rng.random()) for s in names}
    km = {
        a: {b: abs(spots[a][0] - spots[b][0]) + abs(spots[a][1] - spots[b][1]) for b in names}
        for a in names
    }
    for keep_last in (False, True):
        better = _two_opt(km, tuple(names), keep_last)
        assert sorted(better) == sorted(names) and _length(km, better) <= _length(km, names)
        assert (better[-1] == names[-1]) if keep_last else (better[0] == names[0])
