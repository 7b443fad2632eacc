"""Pages and API calls that list many rows load them in a few queries, not one per row (bench/load.py)."""

from __future__ import annotations

from contextlib import contextmanager

import time_machine
from sqlalchemy import event

from dispatch.extensions import db
from dispatch.models import Trip
from tests.support.apps import login
from tests.support.published import busiest_trip, check_in_time, driver_token
from tests.support.workers import token_for


@contextmanager
def counted(app):
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_of_the_worker_api_takes_a_few_queries_whatever_its_size(published_app):
    client = published_app.test_client()
    headers = token_for(published_app, "admin")
    with counted(published_app) as few:
        small = client.get("/api/v1/workers?per_page=5", headers=headers)
    with counted(published_app) as many:
        large = client.get("/api/v1/workers?per_page=100", headers=headers)
    assert len(small.json["items"]) == 5 and len(large.json["items"]) == 100
    assert (
        sum(1 for w in large.json["items"] if w["trip_id"]) > 50
    )  # seated workers, seats looked up
    assert len(many) <= len(few) + 2, many


def test_a_trip_page_does_not_query_per_seat_and_skips_the_planner_problem(published_app):
    trip_id = busiest_trip(published_app)
    client = published_app.test_client()
    login(client)
    client.get(f"/trips/{trip_id}")
    with counted(published_app) as statements:
        assert client.get(f"/trips/{trip_id}").status_code == 200
    assert len(statements) <= 25, len(statements)
    assert not any("plan.problem" in s for s in statements)


def test_the_hand_over_list_and_the_drivers_page_load_the_employers_in_one_query(published_app):
    trip_id = busiest_trip(published_app)
    token = driver_token(published_app, trip_id)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        employers = {s.worker.employer_id for s in trip.seats} - {None}
    assert len(employers) > 1  # one query per employer would show
    client = published_app.test_client()
    with time_machine.travel(check_in_time(published_app, trip_id), tick=False):
        for path in (f"/m/{token}/handover", f"/m/{token}"):
            with counted(published_app) as statements:
                assert client.get(path).status_code == 200
            assert sum(1 for s in statements if "FROM employer" in s) == 1, path
