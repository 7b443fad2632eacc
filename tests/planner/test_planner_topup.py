"""Topping up fixed trips (issue 17 §1): published buses keep their stops and seats, waiting
groups take their free seats first, and the checker's rule 8 says exactly that."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dispatch.planner import check, load_problem, plan_to_dict, solve
from dispatch.planner.problem.trips import trip_to_dict
from tests.support.planner import DAYS, DROPS, group, problem_dict, problems

PICKUPS = ["hongtong", "yaodu", "houma"]


def _published(data: dict[str, Any], seconds: float = 0.3) -> dict[str, Any]:
    """The problem's plan as fixed trips (all of them published), its groups kept with it."""
    plan = solve(load_problem(data), seconds)
    return {**data, "fixed_trips": [trip_to_dict(t) for t in plan.trips]}


def _leave(data: dict[str, Any], gid: str) -> None:
    """A group leaves its published bus after publishing: its stops stay, its seats free up."""
    members = next(g["members"] for g in data["groups"] if g["id"] == gid)
    data["groups"] = [g for g in data["groups"] if g["id"] != gid]
    for trip in data["fixed_trips"]:
        for stop in trip["stops"]:
            stop["pickup"] = [g for g in stop["pickup"] if g != gid]
            stop["dropoff"] = [g for g in stop["dropoff"] if g != gid]
        trip["seats"] = {m: n for m, n in trip["seats"].items() if m not in members}


@st.composite
def topups(draw: st.DrawFn) -> dict[str, Any]:
    """A solved random problem published as fixed trips, some leavers, and late groups."""
    data = _published(draw(problems(max_groups=6)))
    on_buses = sorted(g for t in data["fixed_trips"] for s in t["stops"] for g in s["pickup"])
    for gid in (
        draw(st.lists(st.sampled_from(on_buses), unique=True, max_size=2)) if on_buses else []
    ):
        _leave(data, gid)
    late = []
    for i in range(draw(st.integers(1, 4))):
        first = draw(st.integers(0, 2))
        late.append(
            group(
                f"late{i}",
                draw(st.integers(1, 8)),
                draw(st.sampled_from(PICKUPS)),
                draw(st.sampled_from(DROPS)),
                DAYS[first],
                DAYS[draw(st.integers(first, 2))],
            )
        )
    data["groups"] = data["groups"] + late
    return data


# Each example is two solves (publish, then top up): few examples, chosen widely.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topups())
def test_a_top_up_keeps_every_fixed_trip_and_every_rule(data: dict[str, Any]) -> None:
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=0.3)
    assert check(problem, plan) == []
    trips = {t.id: t for t in plan.trips}
    for fixed in problem.fixed_trips:
        trip = trips[fixed.id]
        assert [s.site for s in trip.stops] == [s.site for s in fixed.stops]
        assert (trip.date, trip.coach_type) == (fixed.date, fixed.coach_type)
        assert abs(trip.km - fixed.km) <= 0.01  # joining adds no stop, so no kilometre
        assert all(trip.seats[m] == n for m, n in fixed.seats.items())
        assert abs(trip.cost - fixed.cost) <= 0.01 * fixed.cost  # joining costs nothing


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(topups(), st.data())
def test_the_checker_refuses_a_fixed_trip_whose_stops_changed(data, draw) -> None:
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=0.3)
    movable = [t for t in plan.trips if t.id in {f.id for f in problem.fixed_trips}]
    movable = [t for t in movable if len(t.stops) > 2]
    assume(movable)
    trip = draw.draw(st.sampled_from(movable))
    order = draw.draw(st.permutations(list(trip.stops)))
    assume([s.site for s in order] != [s.site for s in trip.stops])
    changed = replace(
        plan, trips=tuple(replace(t, stops=tuple(order)) if t is trip else t for t in plan.trips)
    )
    assert any(
        f"rule 8: locked trip {trip.id} changed its stops" in v for v in check(problem, changed)
    )


def _bus(groups_at: dict[str, list[str]], seats: dict[str, int], **extra: Any) -> dict[str, Any]:
    """A published bus: hongtong → yaodu → js-kunshan → js-suzhou on 2026-03-01, 31 seats."""
    stops = [
        {
            "site": site,
            "pickup": groups_at.get(f"up:{site}", []),
            "dropoff": groups_at.get(f"down:{site}", []),
        }
        for site in ("hongtong", "yaodu", "js-kunshan", "js-suzhou")
    ]
    trip = {"id": "T7", "date": "2026-03-01", "coach_type": "c33", "stops": stops, "seats": seats}
    trip.update(extra)
    return trip


def _published_bus(late: list[dict[str, Any]]) -> dict[str, Any]:
    """One published bus carrying a family of 10 from yaodu to Suzhou, and the late groups."""
    family = group("fam", 10, "yaodu", "js-suzhou")
    bus = _bus(
        {"up:yaodu": ["fam"], "down:js-suzhou": ["fam"]},
        {m: i + 1 for i, m in enumerate(family["members"])},
    )
    data = problem_dict([family, *late], fixed_trips=[bus])
    plan = solve(load_problem(problem_dict([family], fixed_trips=[bus])), 0.2)  # its km and cost
    bus.update(km=plan.trips[0].km, cost=plan.trips[0].cost)
    return data


def test_late_registrants_ride_the_published_bus_for_nothing() -> None:
    """Three from Hongtong to Kunshan, where the published bus already stops: no new bus."""
    data = _published_bus([group("late", 3, "hongtong", "js-kunshan", "2026-02-28", "2026-03-02")])
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert [t.id for t in plan.trips] == ["T7"] and not plan.unassigned
    assert plan.summary.cost == data["fixed_trips"][0]["cost"]
    seats = sorted(plan.trips[0].seats[f"late-m{i}"] for i in (1, 2, 3))
    assert seats == [11, 12, 13]  # after the family, side by side


def test_a_group_too_big_for_the_free_seats_gets_a_new_bus() -> None:
    data = _published_bus([group("big", 25, "hongtong", "js-kunshan")])  # 21 seats are free
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    assert len(plan.trips) == 2
    assert plan.trips[0].group_ids() == ("fam",) or plan.trips[1].group_ids() == ("fam",)


def test_a_group_whose_stops_the_bus_does_not_make_gets_a_new_bus() -> None:
    data = _published_bus([group("houma", 2, "houma", "js-kunshan")])  # the bus skips Houma
    problem = load_problem(data)
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    fixed = next(t for t in plan.trips if t.id == "T7")
    assert fixed.group_ids() == ("fam",) and len(plan.trips) == 2


def test_biggest_groups_claim_the_free_seats_first() -> None:
    """21 free seats, groups of 12, 9 and 5: the 12 and the 9 fill them, the 5 gets the new bus
    (first come, first seated would put the 5, whose window is tightest, on the bus first and
    leave seats empty there)."""
    late = [
        group("five", 5, "hongtong", "js-kunshan", "2026-03-01"),
        group("twelve", 12, "hongtong", "js-kunshan", "2026-03-01", "2026-03-02"),
        group("nine", 9, "hongtong", "js-kunshan", "2026-03-01", "2026-03-02"),
    ]
    problem = load_problem(_published_bus(late))
    plan = solve(problem, time_limit_s=1)
    assert check(problem, plan) == []
    fixed = next(t for t in plan.trips if t.id == "T7")
    assert set(fixed.group_ids()) == {"fam", "twelve", "nine"}


def _checked(data: dict[str, Any], mutate) -> list[str]:
    problem = load_problem(data)
    plan = plan_to_dict(solve(problem, time_limit_s=0.5))
    assert check(problem, load_plan(plan)) == []
    mutate(plan["trips"][0])
    return check(problem, load_plan(plan))


def load_plan(data: dict[str, Any]):
    from dispatch.planner import plan_from_dict

    return plan_from_dict(copy.deepcopy(data))


def test_rule_8_names_a_dropped_stop_a_lost_group_and_a_moved_seat() -> None:
    data = _published_bus([group("late", 2, "hongtong", "js-kunshan")])

    def drop_unused_stop(trip):  # nobody alights at Suzhou's neighbour? drop Kunshan's stop
        trip["stops"] = [s for s in trip["stops"] if s["site"] != "js-kunshan"]
        for s in trip["stops"]:
            s["pickup"] = [g for g in s["pickup"] if g != "late"]
        trip["seats"] = {m: n for m, n in trip["seats"].items() if not m.startswith("late")}

    faults = _checked(data, drop_unused_stop)
    assert "rule 8: locked trip T7 changed its stops" in faults

    def lose_the_family(trip):
        for s in trip["stops"]:
            s["pickup"] = [g for g in s["pickup"] if g != "fam"]
            s["dropoff"] = [g for g in s["dropoff"] if g != "fam"]
        trip["seats"] = {m: n for m, n in trip["seats"].items() if not m.startswith("fam")}

    assert "rule 8: locked trip T7 lost group fam" in _checked(data, lose_the_family)

    def move_a_seat(trip):
        trip["seats"]["fam-m1"], trip["seats"]["late-m1"] = (
            trip["seats"]["late-m1"],
            trip["seats"]["fam-m1"],
        )

    assert "rule 8: locked trip T7 changed a seat" in _checked(data, move_a_seat)

    def clash(trip):
        trip["seats"]["late-m1"] = trip["seats"]["fam-m1"]

    assert any(v.startswith("rule 7: trip T7 seat 1 given 2 times") for v in _checked(data, clash))
