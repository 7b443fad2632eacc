"""The demo plan published: planned once per session and copied per test (planning takes seconds);
one bus filled to its last seat, and the times around its departure."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, select, text

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan, SeatAssignment, Trip
from tests.support.apps import base_config
from tests.support.browser import LiveServer

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]
BEFORE_DEPARTURE = datetime(2026, 2, 27, 6, 0, tzinfo=UTC)  # the demo plan runs 2026-02-28…03-03


@pytest.fixture(scope="session")
def published_template(demo_template: Path, tmp_path_factory) -> tuple[Path, int]:
    """The demo database with a plan run and published (as tests/plans/test_planning.py does it)."""
    folder = tmp_path_factory.mktemp("published")
    path = folder / "published.db"
    shutil.copy(demo_template, path)
    app = create_app(base_config(folder, f"sqlite:///{path}"), instance_path=str(folder))
    plan_id = plan_and_publish(app)
    with app.app_context():
        # Whatever publishing scheduled (with the real clock) is cleared: tests schedule at NOW.
        db.session.execute(delete(OutboundMessage))
        db.session.commit()
        assert db.session.get(Plan, plan_id).status == "published"
        db.session.remove()
        db.engine.dispose()  # every connection closed: SQLite folds its WAL into the file
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return path, plan_id


def plan_and_publish(app: Flask) -> int:
    """Plan the demo's days and publish the plan, as the command line does; the plan's id."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plan", "run", *WINDOW, "--time-limit", "2"])
    assert result.exit_code == 0, result.output
    plan_id = int(result.output.splitlines()[0])
    published = runner.invoke(args=["plan", "publish", str(plan_id)])
    assert published.exit_code == 0, published.output
    return plan_id


@pytest.fixture
def published_app(tmp_path: Path, published_template: tuple[Path, int]) -> Iterator[Flask]:
    """An app on a fresh copy of the published plan; ``app.config['TEST_PLAN_ID']`` names it."""
    source, plan_id = published_template
    target = tmp_path / "published.db"
    shutil.copy(source, target)
    config = {**base_config(tmp_path, f"sqlite:///{target}"), "TEST_PLAN_ID": plan_id}
    app = create_app(config, instance_path=str(tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def published_server(published_app: Flask) -> Iterator[LiveServer]:
    """The published plan's app served on a local port, for Chromium."""
    live = LiveServer(published_app)
    yield live
    live.stop()


def check_in_time(app: Flask, trip_id: int) -> datetime:
    """06:00 local on the bus's day: check-in is open (it opens the day before, not earlier)."""
    with app.app_context():
        day = db.session.get(Trip, trip_id).date
    return datetime.combine(day - timedelta(days=1), time(22, 0), tzinfo=UTC)


def busiest_trip(app: Flask) -> int:
    with app.app_context():
        return max(db.session.scalars(select(Trip)), key=lambda t: len(t.seats)).id


@pytest.fixture
def full_bus(published_app: Flask) -> int:
    """A 51-seat bus of the published plan with every seat taken (passengers moved from other buses)."""
    with published_app.app_context():
        trips = list(db.session.scalars(select(Trip).order_by(Trip.id)))
        trip = max(
            (t for t in trips if t.coach_type.passenger_seats == 51), key=lambda t: len(t.seats)
        )
        free = [n for n in range(1, 52) if n not in {s.seat_no for s in trip.seats}]
        others = db.session.scalars(
            select(SeatAssignment)
            .where(SeatAssignment.trip_id != trip.id)
            .order_by(SeatAssignment.id)
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


def driver_token(app: Flask, trip_id: int) -> str:
    """The signed token of a trip's driver link (the path /m/<token>)."""
    from dispatch.services import driver_links

    with app.app_context():
        return driver_links.token_for(db.session.get(Trip, trip_id), app.secret_key)
