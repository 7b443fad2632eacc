"""Helpers of the top-up tests (issue 17 §1): late registrants, plans run and published from the
command line, and the live seats and buses to compare before and after."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import Coach, Plan, SeatAssignment, Trip, Worker
from dispatch.services import planning
from dispatch.services import workers as worker_service
from dispatch.services.worker_fields import Lookups
from tests.support.drafts import clone_trip
from tests.support.plans import plan_from_rows
from tests.support.workers import worker_row

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]
# The same days for 洪洞县 alone, seated workers who have not boarded allowed to move.
MOVES = planning.Scope(date(2026, 2, 28), date(2026, 3, 3), ("hongtong",), (), True)


def register(n: int, count: int, **fields) -> list[int]:
    """Workers registered through the service, as the form and the API do."""
    values = {"destination": "js-wuxi", "earliest_date": "2026-02-28", "latest_date": "2026-03-02"}
    ids = []
    for i in range(count):
        row = worker_row(n + i, **{**values, **fields})
        ids.append(worker_service.create_worker(row, None, Lookups.load()).id)
    db.session.commit()
    return ids


def plan_run(app: Flask, *extra: str) -> Plan:
    result = app.test_cli_runner().invoke(
        args=["plan", "run", *WINDOW, "--time-limit", "2", *extra]
    )
    assert result.exit_code == 0, result.output
    plan = db.session.get(Plan, int(result.output.splitlines()[0]))
    assert planner.check(planner.load_problem(plan.problem), plan_from_rows(plan)) == []
    return plan


def publish(app: Flask, plan: Plan) -> str:
    result = app.test_cli_runner().invoke(args=["plan", "publish", str(plan.id)])
    assert result.exit_code == 0, result.output
    return result.output


def seats_by_worker() -> dict[int, tuple[int, int]]:
    """Every live seat: worker → (trip id, seat number)."""
    rows = db.session.execute(
        select(SeatAssignment.worker_id, SeatAssignment.trip_id, SeatAssignment.seat_no)
        .join(Plan, Plan.id == SeatAssignment.plan_id)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .where(Plan.status == "published", Trip.cancelled_at.is_(None))
    )
    return {w: (t, s) for w, t, s in rows}


def live_trips() -> dict[int, tuple[str, int, int | None]]:
    """Every published bus: id → (code, plan, coach)."""
    query = select(Trip).join(Plan).where(Plan.status == "published", Trip.cancelled_at.is_(None))
    return {t.id: (t.code, t.plan_id, t.coach_id) for t in db.session.scalars(query)}


def hongtong_to_wuxi() -> list[Trip]:
    """Published buses that stop at 洪洞县 and go to 无锡, with a coach each (so notices carry
    the plate: the departure notice rather than the waiting one)."""
    query = select(Trip).join(Plan).where(Plan.status == "published")
    found = [
        t
        for t in db.session.scalars(query)
        if {"hongtong", "js-wuxi"} <= {s.site_id for s in t.stops}
    ]
    spare = iter(db.session.scalars(select(Coach).order_by(Coach.id)))
    for trip in found:
        trip.coach = next(c for c in spare if c.coach_type_id == trip.coach_type_id)
    db.session.commit()
    return found


def bus_to_empty() -> tuple[list[int], Trip]:
    """Two workers just seated alone on T99, a second published bus on the road of the emptiest
    洪洞县 → 无锡 bus: planning again with moves allowed (MOVES) empties T99 into it."""
    (road, *_) = sorted(hongtong_to_wuxi(), key=lambda t: len(t.seats))
    movers = register(900, 2, earliest_date=str(road.date), latest_date=str(road.date))
    twin = clone_trip(road.plan, road, "T99", seats=False)
    for n, worker_id in enumerate(movers, start=1):
        twin.seats.append(SeatAssignment(plan_id=road.plan_id, seat_no=n, worker_id=worker_id))
        db.session.get(Worker, worker_id).status = "assigned"
    db.session.commit()
    return movers, twin
