"""Moving a passenger to a bus on another day of their window, from that bus's page, in one step."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip, Worker
from tests.support import seats as data
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def _a_later_bus(app) -> tuple[int, int, int, int, date]:
    """A bus with a free seat and a passenger of another day's bus who could ride it but for
    their window, which now also holds its day (as when a worker says they can leave a day
    later); the other day's bus, the passenger and that day. A second such passenger keeps
    their window, so this bus's day stays outside it."""
    with app.app_context():
        trips = db.session.scalars(select(Trip).order_by(Trip.date, Trip.id)).all()
        for later in trips:
            if len(later.seats) >= later.coach_type.passenger_seats:
                continue
            pickups = {s.site_id for s in later.stops if s.kind == "pickup"}
            drops = {s.site_id for s in later.stops if s.kind == "dropoff"}
            fits = [
                seat
                for t in trips
                if t.plan_id == later.plan_id and t.date != later.date
                for seat in t.seats
                if seat.worker.pickup_site_id in pickups
                and seat.worker.destination_site_id in drops
                and not seat.locked
                and not seat.worker.earliest_date <= later.date <= seat.worker.latest_date
            ]
            alone = [seat for seat in fits if not seat.worker.group_code]  # no group to split
            if alone and len(fits) >= 2:
                moving = alone[0]
                staying = next(seat for seat in fits if seat is not moving)
                worker = moving.worker
                worker.earliest_date = min(worker.earliest_date, later.date)
                worker.latest_date = max(worker.latest_date, later.date)
                db.session.commit()
                return (
                    later.id,
                    moving.trip_id,
                    moving.worker_id,
                    staying.worker_id,
                    moving.trip.date,
                )
    raise AssertionError("the demo's plan has no passenger who fits another day's bus")


def test_a_passenger_moves_to_a_bus_of_another_day_of_their_window_in_one_step(
    journey, shot, demo_app
):
    page, app = journey, demo_app
    data.plan_demo(app)
    data.add_user(app, "city", "coordinator", COORD_PASSWORD)
    later_id, earlier_id, moving_id, staying_id, earlier_day = _a_later_bus(app)
    with app.app_context():
        earlier = db.session.get(Trip, earlier_id)
        name = db.session.get(Worker, moving_id).name
        staying_name = db.session.get(Worker, staying_id).name
        earlier_code = earlier.code
    log_in(page, "city", COORD_PASSWORD)
    page.goto(f"/trips/{later_id}")
    pick = page.locator("#pick-list button.pick", has_text=name)
    expect(pick).to_contain_text(f"{earlier_code}/")  # where they sit now, on which day
    expect(pick).to_contain_text(earlier_day.isoformat())
    expect(page.locator("#pick-list button.pick", has_text=staying_name)).to_have_count(0)
    shot(page, "another day's passenger offered")

    free = data.bus(app, later_id).free_seats()[0]
    pick.click()
    expect(page.locator("#move-status")).to_contain_text(f"已选中{name}")
    with page.expect_navigation():
        page.locator(f'.seatmap [data-seat="{free}"]').click()
    expect(page.locator(".flash-success")).to_contain_text(f"已将{name}从{earlier_code}车")
    expect(page.locator(f'.seatmap [data-seat="{free}"]')).to_contain_text(name)
    shot(page, "moved to this day")
    with app.app_context():
        seat = db.session.scalar(select(SeatAssignment).filter_by(worker_id=moving_id))
        assert (seat.trip_id, seat.seat_no) == (later_id, free)
