"""Re-planning around locked buses and seats; a bus's coach, drivers and captain."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import Coach, Plan, Trip, TripChange
from dispatch.services import crew, planning, publishing, seats

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
    from tests.support.plans import plan_from_rows

    return plan_from_rows(plan)


def test_crew_rules_and_plate_changes_are_recorded_once_published(demo_app):
    with demo_app.app_context():
        plan = _run()
        trip = plan.trips[0]
        wrong = db.session.scalars(
            select(Coach).where(Coach.coach_type_id != trip.coach_type_id)
        ).first()
        with pytest.raises(seats.SeatError):
            crew.assign_crew(trip, crew.Crew(wrong.id, None, None, None), None)
        right = crew.coach_choices(trip)[0]
        outsider = next(s.worker_id for t in plan.trips[1:] for s in t.seats)
        with pytest.raises(seats.SeatError):
            crew.assign_crew(trip, crew.Crew(right.id, None, None, outsider), None)
        captain = trip.seats[0].worker_id
        crew.assign_crew(
            trip, crew.Crew(right.id, right.driver1_id, right.driver2_id, captain), None
        )
        db.session.commit()
        assert trip.coach.plate == right.plate and trip.captain_worker_id == captain
        twin = next(
            (
                t
                for t in plan.trips[1:]
                if t.coach_type_id == trip.coach_type_id and t.date == trip.date
            ),
            None,
        )
        if twin is not None:
            with pytest.raises(seats.SeatError):
                crew.assign_crew(twin, crew.Crew(right.id, None, None, None), None)
            db.session.rollback()
        publishing.publish(plan, None, None, None)
        other = crew.coach_choices(trip)[1]
        crew.assign_crew(trip, crew.Crew(other.id, None, None, captain), None)
        db.session.commit()
        changes = db.session.scalars(
            select(TripChange).filter_by(trip_id=trip.id, field="bus")
        ).all()
        assert {c.worker_id for c in changes} == {s.worker_id for s in trip.seats}
        assert {(c.old_value, c.new_value) for c in changes} == {(right.plate, other.plate)}


def test_trip_page_assigns_the_crew(client, demo_app):
    from tests.support.apps import login

    with demo_app.app_context():
        plan = _run()
        trip = plan.trips[0]
        coach = crew.coach_choices(trip)[0]
        trip_id, version, captain = trip.id, trip.version, trip.seats[0].worker_id
    login(client)
    response = client.post(
        f"/trips/{trip_id}/crew",
        data={
            "version": version,
            "coach_id": coach.id,
            "captain_worker_id": captain,
        },
    )
    assert response.status_code == 302
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        assert trip.coach_id == coach.id and trip.driver1_id == coach.driver1_id  # the usual crew
        assert trip.captain_worker_id == captain
    page = client.get(f"/trips/{trip_id}").get_data(as_text=True)
    assert coach.plate in page
    stale = client.post(f"/trips/{trip_id}/crew", data={"version": version, "coach_id": ""})
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True)


def _published_trip_with_two_pickups(demo_app):
    plan = _run()
    publishing.publish(plan, None, None, None)
    db.session.commit()
    trip = next(
        t for t in plan.trips if len({s.site_id for s in t.stops if s.kind == "pickup"}) >= 2
    )
    return plan, trip


def _seat_a_newcomer(trip):
    """A single worker of the bus's first county, seated in its first free seat."""
    from dispatch.models import Worker

    first = trip.stops[0].site_id
    worker = Worker(
        name="新来",
        id_number="11010519491231002X",
        phone="+8613800138000",
        birth_date=date(1949, 12, 31),
        sex="F",
        county_id=first,
        pickup_site_id=first,
        earliest_date=trip.date,
        latest_date=trip.date,
        destination_site_id=trip.stops[-1].site_id,
    )
    db.session.add(worker)
    db.session.flush()
    taken = {s.seat_no for s in trip.seats}
    free = next(n for n in range(1, trip.coach_type.passenger_seats + 1) if n not in taken)
    seats.place(trip, free, worker, None)
    db.session.commit()
    return worker


def test_a_new_departure_moves_every_estimate_and_is_recorded(demo_app):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    with demo_app.app_context():
        _plan, trip = _published_trip_with_two_pickups(demo_app)
        before = [s.eta for s in trip.stops]
        later = datetime.combine(trip.date, time(10, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
        crew.set_departure(trip, later, None)
        db.session.commit()
        assert trip.departure_at == later and trip.stops[0].eta == later
        shift = trip.stops[1].eta - before[1]  # legs are stored to 0.1 km: a few seconds apart
        assert abs(shift - timedelta(hours=2, minutes=30)) < timedelta(minutes=1)
        changes = db.session.scalars(
            select(TripChange).filter_by(trip_id=trip.id, field="time")
        ).all()
        assert {c.worker_id for c in changes} == {s.worker_id for s in trip.seats}
        with pytest.raises(seats.SeatError):
            crew.set_departure(trip, later + timedelta(days=1), None)


def test_seated_worker_edits_must_fit_the_bus_and_pickup_changes_are_recorded(demo_app):
    from dispatch.services import workers
    from dispatch.services.worker_fields import Lookups

    with demo_app.app_context():
        _plan, trip = _published_trip_with_two_pickups(demo_app)
        pickups = [s.site_id for s in trip.stops if s.kind == "pickup"]
        worker = _seat_a_newcomer(trip)
        other_pickup = next(p for p in pickups if p != worker.pickup_site_id)
        served = {s.site_id for s in trip.stops}
        elsewhere = next(
            d for d in ("js-nantong", "sh-pudong", "js-nanjing-jiangning") if d not in served
        )
        with pytest.raises(workers.WorkerLocked):
            workers.update_worker(
                worker, {"destination": elsewhere, "employer": None}, None, Lookups.load()
            )
        db.session.rollback()
        workers.update_worker(worker, {"pickup_point": other_pickup}, None, Lookups.load())
        db.session.commit()
        change = db.session.scalars(
            select(TripChange).filter_by(worker_id=worker.id, field="pickup")
        ).one()
        assert change.new_value == other_pickup


def test_withdrawing_a_seated_worker_frees_the_seat_for_a_cancellation_notice(demo_app):
    from dispatch.models import SeatAssignment
    from dispatch.services import workers

    with demo_app.app_context():
        _plan, trip = _published_trip_with_two_pickups(demo_app)
        worker = trip.seats[0].worker
        workers.withdraw_worker(worker, None)
        db.session.commit()
        assert db.session.scalar(select(SeatAssignment).filter_by(worker_id=worker.id)) is None
        assert db.session.scalars(
            select(TripChange).filter_by(worker_id=worker.id, field="cancelled")
        ).one()


def test_publishing_queues_notices_and_a_seat_change_on_the_web_queues_a_change_notice(
    client, demo_app
):
    from datetime import UTC, datetime

    import time_machine

    with time_machine.travel(
        datetime(2026, 2, 20, 2, 0, tzinfo=UTC), tick=True
    ):  # ten days before the trips
        _publish_and_swap(client, demo_app)


def _publish_and_swap(client, demo_app):
    from dispatch.models import OutboundMessage
    from tests.support.apps import login
    from tests.support.coaches import assign_coaches

    with demo_app.app_context():
        plan = _run()
        plan_id = plan.id
        assign_coaches(plan)  # departure notices wait for a plate (issue 18 §3)
        db.session.commit()
    login(client)
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'id="sms-estimate"' in page
    assert client.post(f"/plans/{plan_id}/publish").status_code == 302
    with demo_app.app_context():
        plan = db.session.get(Plan, plan_id)
        seated = sum(len(t.seats) for t in plan.trips)
        departures = db.session.scalars(select(OutboundMessage).filter_by(kind="departure")).all()
        assert len(departures) == seated
        trip = plan.trips[0]
        a, b = trip.seats[0], trip.seats[1]
        trip_id, version, seat_a, seat_b, moved = (
            trip.id,
            trip.version,
            a.seat_no,
            b.seat_no,
            {a.worker_id, b.worker_id},
        )
    response = client.post(
        f"/trips/{trip_id}/seats/swap",
        data={"seat_no": seat_a, "other_seat": seat_b, "version": version},
    )
    assert response.status_code == 302
    with demo_app.app_context():
        newer = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.version >= 2)
        ).all()
        assert {m.worker_id for m in newer} == moved  # only the two who moved get new notices
        # nothing had been sent yet: their first notices are withdrawn, the new ones say it all
        old = db.session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.version == 1, OutboundMessage.worker_id.in_(moved)
            )
        ).all()
        assert old and all(m.status == "cancelled" for m in old)
        assert not db.session.scalars(
            select(TripChange).where(TripChange.notified_at.is_(None))
        ).all()
    result = demo_app.test_cli_runner().invoke(args=["notify", "tick", "--now", "2026-02-20T12:00"])
    assert result.exit_code == 0 and "sent=" in result.output, result.output


def test_a_driver_drives_one_bus_a_day_and_a_captain_who_leaves_is_captain_no_more(demo_app):
    from dispatch.models import Driver

    with demo_app.app_context():
        plan = _run()
        first, second = next(
            (a, b) for a in plan.trips for b in plan.trips if a.id < b.id and a.date == b.date
        )
        driver = db.session.scalars(select(Driver).order_by(Driver.id)).first()
        crew.assign_crew(first, crew.Crew(None, driver.id, None, first.seats[0].worker_id), None)
        db.session.commit()
        with pytest.raises(seats.SeatError, match=first.code):
            crew.assign_crew(second, crew.Crew(None, None, driver.id, None), None)
        db.session.rollback()
        captain = first.seats[0]
        assert first.captain_worker_id == captain.worker_id
        seats.free(first, captain.seat_no, None)
        assert first.captain_worker_id is None


def test_a_move_to_another_seat_of_the_same_bus_keeps_the_seat_s_history(demo_app):
    """The worker's answer to the departure notice, boarding and the welfare pack stay with them
    on another seat of the same bus (the seat was written anew, and they were lost)."""
    with demo_app.app_context():
        plan = _run()
        trip = next(t for t in plan.trips if len(t.seats) < t.coach_type.passenger_seats)
        seat = trip.seats[0]
        worker, when, old = seat.worker, seat.trip.date, seat.seat_no
        stamp = datetime.combine(when, time(7, 30), tzinfo=UTC)
        seat.reply, seat.replied_at = "confirmed", stamp
        seat.boarded_at = seat.pack_given_at = stamp
        db.session.commit()
        taken = {s.seat_no for s in trip.seats}
        free = max(n for n in range(1, trip.coach_type.passenger_seats + 1) if n not in taken)

        seats.place(trip, free, worker, None)
        db.session.commit()
        moved = seats.seat_at(trip, free)
        assert moved.worker_id == worker.id
        assert (moved.reply, moved.boarded_at, moved.pack_given_at) == ("confirmed", stamp, stamp)
        assert moved.replied_at == stamp
        assert seats.seat_at(trip, old) is None
