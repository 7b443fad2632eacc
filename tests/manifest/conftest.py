"""Fixtures: the published demo plan of tests/notify/notices, and one bus filled to its last seat."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip
from tests.notify.notices.conftest import published_app, published_template  # noqa: F401

BEFORE_DEPARTURE = datetime(2026, 2, 27, 6, 0, tzinfo=UTC)  # the demo plan runs 2026-02-28…03-03


def check_in_time(app: Flask, trip_id: int) -> datetime:
    """06:00 local on the bus's day: check-in is open (it opens the day before, not earlier)."""
    with app.app_context():
        day = db.session.get(Trip, trip_id).date
    return datetime.combine(day - timedelta(days=1), time(22, 0), tzinfo=UTC)


def busiest_trip(app: Flask) -> int:
    with app.app_context():
        return max(db.session.scalars(select(Trip)), key=lambda t: len(t.seats)).id


@pytest.fixture
def full_bus(published_app: Flask) -> int:  # noqa: F811
    """A 51-seat bus of the published plan with every seat taken (passengers moved from other buses)."""
    with published_app.app_context():
        trips = list(db.session.scalars(select(Trip).order_by(Trip.id)))
        trip = max((t for t in trips if t.coach_type.passenger_seats == 51), key=lambda t: len(t.seats))
        free = [n for n in range(1, 52) if n not in {s.seat_no for s in trip.seats}]
        others = db.session.scalars(
            select(SeatAssignment).where(SeatAssignment.trip_id != trip.id).order_by(SeatAssignment.id)
        ).all()
        pickups = [s.site_id for s in trip.stops if s.kind == "pickup"]
        dropoffs = [s.site_id for s in trip.stops if s.kind == "dropoff"]
        for index, (seat_no, seat) in enumerate(zip(free, others, strict=False)):
            seat.trip_id, seat.seat_no = trip.id, seat_no
            # as if they had registered for this bus's route: every passenger gets on and off on it
            seat.worker.pickup_site_id = pickups[index % len(pickups)]
            seat.worker.destination_site_id = dropoffs[index % len(dropoffs)]
            db.session.flush()
        db.session.commit()
        assert len(db.session.get(Trip, trip.id).seats) == 51
        return trip.id
