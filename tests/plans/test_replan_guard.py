"""A re-plan never comes back dearer than the draft it replaces (issue 17 §2)."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from dispatch import planner
from dispatch.extensions import db
from dispatch.jobs import planning_worker
from dispatch.models import Plan
from dispatch.services import plan_queue, planning, replan_guard

HONGTONG = planning.Scope(date(2026, 2, 28), date(2026, 3, 3), ("hongtong",))


@pytest.fixture
def drafted(demo_app) -> int:
    with demo_app.app_context():
        plan_id = plan_queue.queue_plan(HONGTONG, None, 1).id
        db.session.commit()
    assert planning_worker.drain(demo_app) == ["draft"]
    return plan_id


def _replan_problem(base: Plan) -> tuple[dict, dict]:
    problem = planning.build_problem(HONGTONG, base)
    result = planner.plan_to_dict(planner.solve(planner.load_problem(problem), 0.5))
    return problem, result


def test_a_dearer_result_gives_way_to_the_plan_it_replaces(demo_app, drafted):
    with demo_app.app_context():
        base = db.session.get(Plan, drafted)
        problem, result = _replan_problem(base)
        dearer = copy.deepcopy(result)
        dearer["summary"]["cost"] = base.cost * 2
        kept = replan_guard.better_of(problem, dearer, base)
        assert kept["summary"]["cost"] == pytest.approx(base.cost, abs=1)
        assert planner.check(planner.load_problem(problem), planner.plan_from_dict(kept)) == []
        assert {t["id"] for t in kept["trips"]} == {t.code for t in base.trips}
        cheaper = copy.deepcopy(result)
        cheaper["summary"]["cost"] = base.cost / 2
        assert replan_guard.better_of(problem, cheaper, base) is cheaper


def test_a_changed_demand_keeps_the_new_result(demo_app, drafted):
    with demo_app.app_context():
        base = db.session.get(Plan, drafted)
        seat = base.trips[0].seats[0]
        seat.worker.status = "cancelled"  # a withdrawal since: the old plan no longer fits
        db.session.flush()
        problem, result = _replan_problem(base)
        result["summary"]["cost"] = base.cost * 2
        assert replan_guard.better_of(problem, result, base) is result
        db.session.rollback()


def test_re_planning_a_draft_never_raises_its_cost(demo_app, drafted):
    with demo_app.app_context():
        base = db.session.get(Plan, drafted)
        again = plan_queue.queue_plan(HONGTONG, None, 1, base=base).id
        db.session.commit()
    assert planning_worker.drain(demo_app) == ["draft"]
    with demo_app.app_context():
        before, after = db.session.get(Plan, drafted), db.session.get(Plan, again)
        assert after.status == "draft" and before.status == "superseded"
        assert after.cost <= before.cost + 0.01


def test_locking_one_seat_keeps_its_bus_route_so_the_re_plan_is_not_dearer(demo_app, drafted):
    """A seat locked on a bus of two drop-offs kept only its own passenger's stops in the
    re-plan's problem: the bus's other passengers needed a new bus, the plan it replaced was no
    longer a plan of that problem, and the re-plan came back 12,260 CNY dearer (38,281 → 50,541
    with one bus more). The locked bus now keeps its route, and whoever rode it may again."""
    with demo_app.app_context():
        base = db.session.get(Plan, drafted)
        trip = max(base.trips, key=lambda t: (len(t.stops), len(t.seats)))
        assert len(trip.stops) >= 3, "the demo's draft has no bus of several stops"
        route = [(s.site_id, s.kind) for s in trip.stops]
        seat = trip.seats[0]
        seat.locked = True
        locked_worker = seat.worker_id
        again = plan_queue.queue_plan(HONGTONG, None, 1, base=base).id
        db.session.commit()
        code, before_cost = trip.code, base.cost
    assert planning_worker.drain(demo_app) == ["draft"]
    with demo_app.app_context():
        after = db.session.get(Plan, again)
        assert after.cost <= before_cost + 0.01
        kept = next(t for t in after.trips if t.code == code)
        assert [(s.site_id, s.kind) for s in kept.stops] == route
        assert locked_worker in {s.worker_id for s in kept.seats}
