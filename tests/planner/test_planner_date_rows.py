"""What the pooled model of a block of several dates learns from the windows
(world/blocks.fewest_dates): the fewest dates that meet every window of a commodity's (a site's)
groups, exact against every set of dates, and as visit rows never above an optimum, while they
raise the pooled bound where one bus would otherwise carry groups that never share a date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import combinations
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.planner import load_problem, tuning
from dispatch.planner.bound.count import fewest_buses
from dispatch.planner.bound.lower import column_pattern_bound, pattern_input
from dispatch.planner.lp.columns import block_rows, space_of
from dispatch.planner.world.blocks import blocks, demand, fewest_dates
from dispatch.planner.world.buses import World
from tests.support.planner import (
    DAYS,
    brute_force_optimum,
    first_and_third,
    group,
    load,
    problems,
    with_stop_rules,
)

START = date(2026, 3, 1)


def _fewest_by_trying(spans: list[tuple[int, int]]) -> int:
    """The least number of dates among 0-5 that meet every span, by trying every set."""
    for n in range(1, 7):
        for chosen in combinations(range(6), n):
            if all(any(a <= d <= b for d in chosen) for a, b in spans):
                return n
    raise AssertionError("six dates meet every span of 0-5")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=7))
def test_fewest_dates_is_the_least_number_of_dates_meeting_every_window(
    windows: list[tuple[int, int]],
) -> None:
    spans = [(a, min(5, a + w)) for a, w in windows]
    groups = [
        group(
            f"g{i}",
            1,
            earliest=(START + timedelta(days=a)).isoformat(),
            latest=(START + timedelta(days=b)).isoformat(),
        )
        for i, (a, b) in enumerate(spans)
    ]
    problem = load(groups)
    least = fewest_dates(World(problem), problem.groups)
    expected = _fewest_by_trying(spans)
    for key in (("hongtong", "js-kunshan"), "hongtong", "js-kunshan"):
        assert least.get(key, 1) == expected


def test_a_commodity_whose_groups_never_share_a_date_needs_a_bus_a_date(monkeypatch) -> None:
    # Ten on the 1st, ten on the 3rd, one who may go any day: one block of three dates. Pooled,
    # one 31-seat bus would carry all 21; the windows need two dates, hence two buses.
    monkeypatch.setattr(tuning, "DATED_PATTERN_LIMIT", 0)  # the pooled model alone
    problem = first_and_third()
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    assert fewest_dates(world, groups)[("hongtong", "js-kunshan")] == 2
    bound = column_pattern_bound(world, days, groups, 5.0, split=False).bound
    assert bound == pytest.approx(brute_force_optimum(problem), rel=1e-6)


def test_the_fewest_bus_count_takes_the_dates_too() -> None:
    problem = first_and_third()
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    task = pattern_input(world, days, demand(world, groups), len(groups))
    count = [
        fewest_buses(task.patterns, task.seats, 31, 3, 2, 5.0, least).buses
        for least in ({}, fewest_dates(world, groups))
    ]
    assert count == [1, 2]  # pooled, one bus carries all 21; the windows need two dates


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_groups=5))
def test_pooled_bound_with_date_rows_never_above_the_brute_force_optimum(
    data: dict[str, Any],
) -> None:
    saved = tuning.DATED_PATTERN_LIMIT
    tuning.DATED_PATTERN_LIMIT = 0  # blocks of several dates through the pooled model
    try:
        problem = load_problem(with_stop_rules(data))
        world = World(problem)
        for days, groups in blocks(world, problem.groups):
            sub = load_problem({**data, "groups": [g for g in data["groups"] if g["id"] in groups]})
            bound = column_pattern_bound(world, days, groups, 2.0).bound
            assert bound <= brute_force_optimum(sub) * (1 + 1e-9)
    finally:
        tuning.DATED_PATTERN_LIMIT = saved


def test_the_pooled_model_takes_the_least_buses_for_commodities_and_sites() -> None:
    problem = load(
        [
            group("a", 10, earliest=DAYS[0]),
            group("b", 10, earliest=DAYS[2]),
            group("c", 5, "yaodu", earliest=DAYS[1]),
            group("joins", 1, "houma", earliest=DAYS[0], latest=DAYS[2]),
        ]
    )
    world = World(problem)
    ((days, groups),) = blocks(world, problem.groups)
    seats = demand(world, groups)
    task = pattern_input(world, days, seats, len(groups))
    least = fewest_dates(world, groups)
    assert least == {("hongtong", "js-kunshan"): 2, "hongtong": 2, "js-kunshan": 3}
    plain, dated = space_of(task), space_of(replace(task, least=least))
    comms = sorted(seats)
    n = len(comms)
    site_row, _ = block_rows(task, 2 * n)
    at = comms.index(("hongtong", "js-kunshan"))
    assert (plain.need[n + at], dated.need[n + at]) == (1, 2)
    assert (plain.need[site_row["js-kunshan"]], dated.need[site_row["js-kunshan"]]) == (1, 3)
    assert plain.need[n + comms.index(("yaodu", "js-kunshan"))] == 1
    assert dated.need[n + comms.index(("yaodu", "js-kunshan"))] == 1
