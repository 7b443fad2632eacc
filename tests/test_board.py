"""Re-planning around locked buses and seats; a bus's coach, drivers and captain."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import Coach, Plan, Trip, TripChange
from dispatch.services import crew, planning, seats

SCOPE = planning.Scope(date(2026, 2, 28), date(2026, 3, 3))


def _run(base: Plan | None = None) -> Plan:
    plan = planning.start_plan(SCOPE, None, base)
    result = planning.solve_plan(plan, 2)
    planning.store_result(plan, result, time(8, 0), "Asia/Shanghai")
    db.session.commit()
    return plan


def test_replan_keeps_locked_buses_and_seats(demo_app):
    with demo_app.app_context():
        first = _run()
        whole, partial = first.trips[0], first.trips[1]
        seats.set_locked(whole, None, True, None)
        kept_seat = partial.seats[0]
        seats.set_locked(partial, kept_seat.seat_no, True, None)
        db.session.commit()
        whole_seats = {s.worker_id: s.seat_no for s in whole.seats}
        whole_key = (whole.code, whole.date, whole.coach_type_id)
        kept = (partial.code, kept_seat.worker_id, kept_seat.seat_no)

        second = _run(first)
        assert planner.check(planner.load_problem(second.problem), _as_plan(second)) == []
        again = {t.code: t for t in second.trips}
        same = again[whole_key[0]]
        assert (same.code, same.date, same.coach_type_id) == whole_key and same.locked
        assert {s.worker_id: s.seat_no for s in same.seats} == whole_seats
        assert all(s.locked for s in same.seats)
        seat = next(s for s in again[kept[0]].seats if s.worker_id == kept[1])
        assert seat.seat_no == kept[2] and seat.locked
        assert sum(len(t.seats) for t in second.trips) == sum(len(t.seats) for t in first.trips)
        assert db.session.get(Plan, first.id).status == "superseded"


def _as_plan(plan: Plan) -> planner.Plan:
    from tests.test_planning import _plan_from_rows

    return _plan_from_rows(plan)


def test_crew_rules_and_plate_changes_are_recorded_once_published(demo_app):
    with demo_app.app_context():
        plan = _run()
        trip = plan.trips[0]
        wrong = db.session.scalars(select(Coach).where(Coach.coach_type_id != trip.coach_type_id)).first()
        with pytest.raises(seats.SeatError):
            crew.assign_crew(trip, crew.Crew(wrong.id, None, None, None), None)
        right = crew.coach_choices(trip)[0]
        outsider = next(s.worker_id for t in plan.trips[1:] for s in t.seats)
        with pytest.raises(seats.SeatError):
            crew.assign_crew(trip, crew.Crew(right.id, None, None, outsider), None)
        captain = trip.seats[0].worker_id
        crew.assign_crew(trip, crew.Crew(right.id, right.driver1_id, right.driver2_id, captain), None)
        db.session.commit()
        assert trip.coach.plate == right.plate and trip.captain_worker_id == captain
        twin = next((t for t in plan.trips[1:] if t.coach_type_id == trip.coach_type_id and t.date == trip.date), None)
        if twin is not None:
            with pytest.raises(seats.SeatError):
                crew.assign_crew(twin, crew.Crew(right.id, None, None, None), None)
            db.session.rollback()
        planning.publish(plan, None)
        other = crew.coach_choices(trip)[1]
        crew.assign_crew(trip, crew.Crew(other.id, None, None, captain), None)
        db.session.commit()
        changes = db.session.scalars(select(TripChange).filter_by(trip_id=trip.id, field="bus")).all()
        assert {c.worker_id for c in changes} == {s.worker_id for s in trip.seats}
        assert {(c.old_value, c.new_value) for c in changes} == {(right.plate, other.plate)}


def test_trip_page_assigns_the_crew(client, demo_app):
    from tests.conftest import login

    with demo_app.app_context():
        plan = _run()
        trip = plan.trips[0]
        coach = crew.coach_choices(trip)[0]
        trip_id, version, captain = trip.id, trip.version, trip.seats[0].worker_id
    login(client)
    response = client.post(f"/trips/{trip_id}/seats", data={
        "action": "crew", "version": version, "coach_id": coach.id, "captain_worker_id": captain})  # fmt: skip
    assert response.status_code == 302
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        assert trip.coach_id == coach.id and trip.driver1_id == coach.driver1_id  # the usual crew
        assert trip.captain_worker_id == captain
    page = client.get(f"/trips/{trip_id}").get_data(as_text=True)
    assert coach.plate in page
    stale = client.post(f"/trips/{trip_id}/seats", data={"action": "crew", "version": version, "coach_id": ""})
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True)
