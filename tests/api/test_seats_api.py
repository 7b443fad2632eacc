"""The trip and seat API: seats taken once, conflicts reported as 409, capacity kept."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip, User, Worker
from dispatch.services.accounts import create_token

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]


@pytest.fixture
def planned(demo_app):
    result = demo_app.test_cli_runner().invoke(args=["plan", "run", *WINDOW, "--time-limit", "2"])
    assert result.exit_code == 0, result.output
    with demo_app.app_context():
        admin = db.session.scalar(select(User).filter_by(username="admin"))
        token = create_token(admin)
        db.session.commit()
    return demo_app, {"Authorization": f"Bearer {token}"}


def _waiting_worker(app, trip_id: int) -> int:
    """A new registered worker who fits the bus: its first pickup, its last drop-off, its day."""
    with app.app_context():
        seated = select(SeatAssignment.worker_id)
        trip = db.session.get(Trip, trip_id)
        first, last = trip.stops[0].site_id, trip.stops[-1].site_id
        worker = Worker(
            name="候补",
            id_number="11010519491231002X",
            phone="+8613800138000",
            birth_date=__import__("datetime").date(1949, 12, 31),
            sex="F",
            county_id=first,
            pickup_site_id=first,
            destination_site_id=last,
            earliest_date=trip.date,
            latest_date=trip.date,
        )
        db.session.add(worker)
        db.session.commit()
        assert worker.id not in set(db.session.scalars(seated))
        return worker.id


def _trip_with_free_seat(app) -> tuple[int, int, int]:
    with app.app_context():
        for trip in db.session.scalars(select(Trip).order_by(Trip.id)):
            taken = {s.seat_no for s in trip.seats}
            free = [n for n in range(1, trip.coach_type.passenger_seats + 1) if n not in taken]
            if free:
                return trip.id, free[0], trip.version
    raise AssertionError("no free seat")


def test_trips_list_and_detail(planned):
    app, auth = planned
    client = app.test_client()
    with app.app_context():
        plan_id = db.session.scalar(select(Trip.plan_id))
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    listing = client.get(f"/api/v1/trips?plan_id={plan_id}", headers=auth).get_json()
    event.remove(engine, "before_cursor_execute", count)
    assert listing["items"] and all(t["stops"] and t["seats"] for t in listing["items"])
    # the buses with their stops, seats, coach, type and plan: a few statements, not a few a bus
    assert len(listing["items"]) > 10 and len(statements) < 20, len(statements)
    assert (
        client.get("/api/v1/trips?date=2026-03-01", headers=auth).get_json()["items"] == []
    )  # nothing live yet
    one = client.get(f"/api/v1/trips/{listing['items'][0]['id']}", headers=auth).get_json()
    assert one["stops"][0]["kind"] == "pickup" and one["stops"][-1]["kind"] == "dropoff"
    assert client.get("/api/v1/trips/999999", headers=auth).status_code == 404
    assert client.get("/api/v1/trips").status_code == 401


def test_put_then_conflict_then_delete(planned):
    app, auth = planned
    client = app.test_client()
    trip_id, seat_no, _version = _trip_with_free_seat(app)
    worker_id = _waiting_worker(app, trip_id)
    url = f"/api/v1/trips/{trip_id}/seats/{seat_no}"
    ok = client.put(url, json={"worker_id": worker_id}, headers=auth)
    assert ok.status_code == 200, ok.get_json()
    assert {"seat_no": seat_no, "worker_id": worker_id} in [
        {k: s[k] for k in ("seat_no", "worker_id")} for s in ok.get_json()["seats"]
    ]
    with app.app_context():
        other = db.session.scalar(
            select(SeatAssignment).where(
                SeatAssignment.trip_id == trip_id, SeatAssignment.seat_no != seat_no
            )
        )
        other_worker = other.worker_id
    taken = client.put(url, json={"worker_id": other_worker}, headers=auth)
    assert taken.status_code == 409 and taken.get_json()["error"] == "conflict"
    assert (
        client.put(
            f"/api/v1/trips/{trip_id}/seats/99", json={"worker_id": worker_id}, headers=auth
        ).status_code
        == 422
    )
    stale = client.put(url, json={"worker_id": worker_id, "version": 1}, headers=auth)
    assert stale.status_code in (200, 409)  # same seat again is a no-op unless the map is stale
    assert client.delete(url, headers=auth).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(SeatAssignment).filter_by(worker_id=worker_id)) is None


def test_stale_version_is_refused(planned):
    app, auth = planned
    client = app.test_client()
    trip_id, seat_no, version = _trip_with_free_seat(app)
    worker_id = _waiting_worker(app, trip_id)
    response = client.put(
        f"/api/v1/trips/{trip_id}/seats/{seat_no}",
        json={"worker_id": worker_id, "version": version - 1},
        headers=auth,
    )
    assert response.status_code == 409


def test_two_clients_racing_for_one_seat_one_wins(planned):
    app, auth = planned
    trip_id, seat_no, _version = _trip_with_free_seat(app)
    first = _waiting_worker(app, trip_id)
    with app.app_context():
        second = Worker(
            **{
                c.key: getattr(db.session.get(Worker, first), c.key)
                for c in Worker.__table__.columns
                if c.key not in ("id", "id_number", "version")
            },
            id_number="440524188001010014",
        )
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    barrier, results = threading.Barrier(2), {}

    def take(worker_id: int) -> None:
        client = app.test_client()
        barrier.wait()
        results[worker_id] = client.put(
            f"/api/v1/trips/{trip_id}/seats/{seat_no}", json={"worker_id": worker_id}, headers=auth
        ).status_code

    threads = [threading.Thread(target=take, args=(w,)) for w in (first, second_id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == [200, 409], results
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).where(
                SeatAssignment.trip_id == trip_id, SeatAssignment.seat_no == seat_no
            )
        )
        assert count == 1


def test_a_bus_that_does_not_serve_the_worker_is_refused(planned):
    app, auth = planned
    client = app.test_client()
    trip_id, seat_no, _version = _trip_with_free_seat(app)
    worker_id = _waiting_worker(app, trip_id)
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        served = {s.site_id for s in trip.stops}
        worker = db.session.get(Worker, worker_id)
        worker.destination_site_id = next(
            d for d in ("js-nantong", "sh-pudong", "js-wuxi") if d not in served
        )
        db.session.commit()
    response = client.put(
        f"/api/v1/trips/{trip_id}/seats/{seat_no}", json={"worker_id": worker_id}, headers=auth
    )
    assert response.status_code == 422 and "seat_no" in response.get_json()["fields"]
