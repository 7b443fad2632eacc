"""Fixtures for the field journeys: the demo plan published a week ahead of its buses,
its departure notices sent by ``notify tick`` (some delivered, one refused for want of
consent), served live for Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select, text

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan, SeatAssignment, Trip, Worker
from dispatch.services.notices import notices
from tests.support.apps import base_config
from tests.support.coaches import assign_coaches
from tests.support.tickets import give_coach

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]
PUBLISHED_AT = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)  # 10:00 local, a week before the buses
TICK_AT = "2026-02-20T11:00:00+08:00"
DELIVERED = 5  # departure notices whose receipt says delivered


@pytest.fixture(scope="session")
def field_template(demo_template: Path, tmp_path_factory) -> Path:
    """The demo planned, published and notified, built once per session."""
    folder = tmp_path_factory.mktemp("field")
    path = folder / "field.db"
    shutil.copy(demo_template, path)
    app = create_app(base_config(folder, f"sqlite:///{path}"), instance_path=str(folder))
    runner = app.test_cli_runner()
    with time_machine.travel(PUBLISHED_AT, tick=False):
        planned = runner.invoke(args=["plan", "run", *WINDOW, "--time-limit", "2"])
        assert planned.exit_code == 0, planned.output
        with app.app_context():  # departure notices wait for a plate (issue 18 §3): one
            plan = db.session.get(Plan, int(planned.output.splitlines()[0]))  # bus has none
            assign_coaches(plan, leave=1)
            db.session.commit()
        published = runner.invoke(args=["plan", "publish", planned.output.splitlines()[0]])
        assert published.exit_code == 0, published.output
    with app.app_context():
        refuser = no_consent_worker()
        refuser.sms_consent = False  # withdrew consent after publishing: the tick must refuse
        db.session.commit()
    ticked = runner.invoke(args=["notify", "tick", "--now", TICK_AT])
    assert ticked.exit_code == 0 and "sent=" in ticked.output, ticked.output
    with app.app_context():
        _receipts()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return path


def _receipts() -> None:
    """Delivery receipts for the first few departure notices (as a status callback would)."""
    om = OutboundMessage
    rows = db.session.scalars(
        select(om)
        .join(Worker, Worker.id == om.worker_id)
        .where(om.kind == "departure", om.status == "sent")
        .order_by(Worker.county_id != "hongtong", om.id)  # some in the demo coordinator's county
        .limit(DELIVERED)
    )
    for row in rows:
        row.status, row.delivered_at = "delivered", row.sent_at


def no_consent_worker() -> Worker:
    """The Hongtong passenger (lowest id) whose consent is withdrawn in the template."""
    query = (
        select(Worker)
        .join(SeatAssignment, SeatAssignment.worker_id == Worker.id)
        .where(Worker.county_id == "hongtong")
        .order_by(Worker.id)
    )
    return db.session.scalars(query).first()


@pytest.fixture
def field_app(tmp_path: Path, field_template: Path) -> Iterator[Flask]:
    """An app on a fresh copy of the notified plan."""
    target = tmp_path / "field.db"
    shutil.copy(field_template, target)
    app = create_app(base_config(tmp_path, f"sqlite:///{target}"), instance_path=str(tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


def on_the_day(app: Flask, trip_id: int) -> datetime:
    """06:00 local on the bus's day (check-in is open)."""
    with app.app_context():
        day = db.session.get(Trip, trip_id).date
    return datetime.combine(day - timedelta(days=1), time(22, 0), tzinfo=UTC)


def hongtong_trip(app: Flask) -> int:
    """The bus with the most Hongtong passengers (the demo coordinator ``hong``'s county)."""
    with app.app_context():
        trips = db.session.scalars(select(Trip).order_by(Trip.id)).all()
        return max(trips, key=lambda t: sum(s.worker.county_id == "hongtong" for s in t.seats)).id


def drivers_told(app: Flask) -> int:
    """The drivers of Hongtong's busiest bus told of it, as the bus page does once it has a
    coach (two days before it leaves); the drivers' notices of every bus carrying a Hongtong
    worker."""
    trip_id = hongtong_trip(app)
    give_coach(app, trip_id)
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        notices.schedule_driver_notices(trip, trip.departure_at - timedelta(days=2), app.config)
        db.session.commit()
        carrying = (
            select(SeatAssignment.trip_id)
            .join(Worker, Worker.id == SeatAssignment.worker_id)
            .where(Worker.county_id == "hongtong")
        )
        om = OutboundMessage
        told = select(om.id).where(om.kind == "driver", om.trip_id.in_(carrying))
        return len(db.session.scalars(told).all())
