"""Helpers for the bus-page tests: a planned demo, extra users and tokens, a bus's seats as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Flask
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import County, Trip, User, Worker
from dispatch.services import accounts

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]


@dataclass
class Bus:
    """A bus as the tests read it: seat number → (worker id, name, county)."""

    id: int
    code: str
    capacity: int
    version: int
    locked: bool
    captain_id: int | None
    seats: dict[int, tuple[int, str, str]] = field(default_factory=dict)

    @property
    def counties(self) -> set[str]:
        return {county for _id, _name, county in self.seats.values()}

    def free_seats(self) -> list[int]:
        return [n for n in range(1, self.capacity + 1) if n not in self.seats]

    def seat_of(self, worker_id: int) -> int | None:
        return next((n for n, (w, _name, _c) in self.seats.items() if w == worker_id), None)


def plan_demo(app: Flask) -> None:
    """A draft plan of the demo's days, run as the command line runs it."""
    result = app.test_cli_runner().invoke(args=["plan", "run", *WINDOW, "--time-limit", "2"])
    assert result.exit_code == 0, result.output


def add_user(
    app: Flask, username: str, role: str, password: str, counties: list[str] | None = None
) -> None:
    """A user; ``counties=None`` for a coordinator means every county (a city coordinator)."""
    with app.app_context():
        if counties is None and role == "coordinator":
            counties = list(db.session.scalars(select(County.id)))
        accounts.create_user(username, role, password, counties or [])
        db.session.commit()


def token_for(app: Flask, username: str) -> dict[str, str]:
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        token = accounts.create_token(user)
        db.session.commit()
    return {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}


def bus(app: Flask, trip_id: int) -> Bus:
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        found = Bus(
            trip.id,
            trip.code,
            trip.coach_type.passenger_seats,
            trip.version,
            trip.locked,
            trip.captain_worker_id,
        )
        found.seats = {
            s.seat_no: (s.worker_id, s.worker.name, s.worker.county_id) for s in trip.seats
        }
        return found


def buses(app: Flask) -> list[Bus]:
    with app.app_context():
        ids = list(db.session.scalars(select(Trip.id).order_by(Trip.id)))
    return [bus(app, i) for i in ids]


def waiting_worker(app: Flask, trip_id: int, name: str, seq: int, county: str | None = None) -> int:
    """A registered worker who fits the bus (its first pickup, its last drop-off, its day) and has no seat."""
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        first, last = trip.stops[0].site_id, trip.stops[-1].site_id
        worker = Worker(
            name=name,
            id_number=id_number(seq),
            phone="+8613800138000",
            birth_date=date(1949, 12, 31),
            sex="F",
            county_id=county or first,
            pickup_site_id=first,
            destination_site_id=last,
            earliest_date=trip.date,
            latest_date=trip.date,
        )
        db.session.add(worker)
        db.session.commit()
        return worker.id


def id_number(seq: int) -> str:
    """A valid GB 11643 ID number, different for each ``seq`` (100–999)."""
    body = f"11010519491231{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def set_captain(app: Flask, trip_id: int, worker_id: int) -> None:
    with app.app_context():
        db.session.get(Trip, trip_id).captain_worker_id = worker_id
        db.session.commit()
