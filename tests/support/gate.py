"""The driver's gate in tests: a bus ready for QR boarding with its e-tickets, and how many of
its passengers are marked boarded."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip
from dispatch.services import etickets
from tests.support.published import busiest_trip, driver_token


def ticket(app: Flask, seat: SeatAssignment) -> str:
    """The text of the seat's e-ticket QR code."""
    return etickets.ticket_text(seat.worker_id, seat.trip_id, seat.seat_no, app.secret_key)


def scan_bus(app: Flask) -> dict:
    """The busiest bus: its driver link, two of its tickets, and a ticket of another bus."""
    trip_id = busiest_trip(app)
    token = driver_token(app, trip_id)
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        first, second = trip.seats[0], trip.seats[1]
        other = db.session.scalars(
            select(SeatAssignment)
            .where(SeatAssignment.trip_id != trip_id)
            .order_by(SeatAssignment.id)
        ).first()
        return {
            "trip_id": trip_id,
            "token": token,
            "url": f"/m/{token}",
            "ticket": ticket(app, first),
            "worker": first.worker_id,
            "name": first.worker.name,
            "seat": first.seat_no,
            "second_ticket": ticket(app, second),
            "second": second.worker_id,
            "other_ticket": ticket(app, other),
            "other_code": other.trip.code,
        }


def boarded_count(app: Flask, trip_id: int) -> int:
    """Passengers of the bus marked boarded."""
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(
                SeatAssignment.trip_id == trip_id, SeatAssignment.boarded_at.is_not(None)
            )
        )
