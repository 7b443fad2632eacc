"""Helpers for the ticket lookup tests (/ticket): a seated worker of the published demo plan,
a coach and a welfare-pack handout for their bus, the code out of the console gateway."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from dispatch import config
from dispatch.extensions import db
from dispatch.identity import make_id_number
from dispatch.models import Coach, Plan, SeatAssignment, Trip, WelfareHandout, Worker
from dispatch.services.notices.journeys import pickup_stop

ZONE = ZoneInfo("Asia/Shanghai")
# How far to move the clock for a number's next SMS code to go (codes are a minute apart).
NEXT_CODE = timedelta(seconds=config.VERIFY_CODE_INTERVAL_S + 1)


@dataclass(frozen=True)
class Passenger:
    worker_id: int
    name: str
    id_number: str
    phone: str  # as typed on a phone: 11 digits
    trip_id: int
    trip_code: str
    seat_no: int
    pickup_at: datetime  # local
    pickup_site_id: str
    pickup_name: str
    pickup_address: str


def seated_worker(app: Flask, county: str = "hongtong") -> Passenger:
    """The lowest-id worker of ``county`` with a seat in the published plan."""
    with app.app_context():
        seat = db.session.scalars(
            select(SeatAssignment)
            .join(Plan, Plan.id == SeatAssignment.plan_id)
            .join(Worker, Worker.id == SeatAssignment.worker_id)
            .where(Plan.status == "published", Worker.county_id == county)
            .order_by(Worker.id)
        ).first()
        worker, trip = seat.worker, seat.trip
        stop = pickup_stop(trip, worker)
        return Passenger(
            worker_id=worker.id,
            name=worker.name,
            id_number=worker.id_number,
            phone=worker.phone.removeprefix("+86"),
            trip_id=trip.id,
            trip_code=trip.code,
            seat_no=seat.seat_no,
            pickup_at=stop.eta.astimezone(ZONE),
            pickup_site_id=stop.site_id,
            pickup_name=stop.site.name_zh,
            pickup_address=stop.site.address,
        )


def give_coach(app: Flask, trip_id: int) -> tuple[str, str]:
    """Put a demo coach with its first driver on the bus; (plate, driver's 11-digit number)."""
    with app.app_context():
        coach = db.session.scalars(
            select(Coach).where(Coach.driver1_id.is_not(None)).order_by(Coach.id)
        ).first()
        trip = db.session.get(Trip, trip_id)
        trip.coach_id, trip.driver1_id = coach.id, coach.driver1_id
        db.session.commit()
        return coach.plate, db.session.get(Trip, trip_id).driver1.phone.removeprefix("+86")


def add_handout(app: Flask, site_id: str, day: date, place: str, opens: time, closes: time) -> None:
    """Where and when the pickup point's workers collect the welfare pack on ``day``."""
    with app.app_context():
        db.session.add(
            WelfareHandout(
                site_id=site_id,
                date=day,
                place=place,
                starts_at=datetime.combine(day, opens, tzinfo=ZONE),
                ends_at=datetime.combine(day, closes, tzinfo=ZONE),
            )
        )
        db.session.commit()


def stranger_id_number(app: Flask) -> str:
    """A valid ID number nobody registered."""
    with app.app_context():
        for sequence in range(901, 999):
            value = make_id_number("141024", date(1990, 5, 17), sequence)
            if db.session.scalar(select(Worker.id).filter_by(id_number=value)) is None:
                return value
    raise AssertionError("no free ID number")


def codes_sent(app: Flask, to: str) -> list[str]:
    """The 6-digit codes the console gateway sent to ``to`` (11 digits), oldest first."""
    sent = app.extensions["sms_gateway"].sent
    found = [
        re.search(r"\d{6}", sms.body)
        for sms in sent
        if sms.to == "+86" + to and sms.kind == "verification"
    ]
    return [match.group() for match in found if match]


def before_departure(passenger: Passenger) -> datetime:
    """The evening before the bus (the plan is published, the ticket worth looking up)."""
    return datetime.combine(passenger.pickup_at.date() - timedelta(days=1), time(19, 0), ZONE)
