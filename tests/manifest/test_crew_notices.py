"""What a crew or departure change on a published bus tells the drivers and the passengers: a
new time reaches the drivers, a new driver's phone reaches the passengers, whether their
departure notice went out already or still waits, and the API's crew PATCH tells a new driver
as the page does."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Coach, Driver, OutboundMessage, Trip
from dispatch.models import messages as m
from tests.support.apps import login
from tests.support.published import BEFORE_DEPARTURE, busiest_trip
from tests.support.seats import token_for


def _rows(kind: str, trip_id: int) -> list[OutboundMessage]:
    return db.session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.kind == kind, OutboundMessage.trip_id == trip_id)
        .order_by(OutboundMessage.id)
    ).all()


def _fitting_coach(trip: Trip) -> Coach:
    """A coach of the bus's type (its two usual drivers come with it)."""
    return db.session.scalars(
        select(Coach).where(Coach.coach_type_id == trip.coach_type_id)
    ).first()


def _another_driver(coach: Coach) -> tuple[int, str]:
    """A driver who is neither of the coach's: id and phone as dialled (no +86)."""
    other = db.session.scalars(
        select(Driver).where(Driver.id.not_in([coach.driver1_id, coach.driver2_id]))
    ).first()
    return other.id, other.phone[3:]


def _crewed(app, client, trip_id: int) -> tuple[Coach, int]:
    """The bus given a coach of its type and that coach's two drivers, on the page."""
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        version, coach_id = trip.version, _fitting_coach(trip).id
    form = {"version": version, "coach_id": coach_id}
    assert client.post(f"/trips/{trip_id}/crew", data=form).status_code == 302
    with app.app_context():
        return db.session.get(Coach, coach_id), db.session.get(Trip, trip_id).version


def test_a_new_departure_time_reaches_the_drivers_too(published_app):
    trip_id = busiest_trip(published_app)
    client = published_app.test_client()
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        login(client)
        _, version = _crewed(published_app, client, trip_id)
        with published_app.app_context():
            first = [(r.driver_id, r.version, r.status) for r in _rows("driver", trip_id)]
        assert len(first) == 2 and {v for _, v, _ in first} == {1}
        form = {"version": version, "departure": "06:15"}
        assert client.post(f"/trips/{trip_id}/departure", data=form).status_code == 302
    with published_app.app_context():
        rows = _rows("driver", trip_id)
        live = [r for r in rows if r.status == m.MSG_PENDING]
        assert sorted(r.version for r in live) == [2, 2]  # both drivers, the next version
        assert all("06:15" in r.body for r in live)
        withdrawn = [r for r in rows if r.status == m.MSG_CANCELLED]
        assert len(withdrawn) == 2 and all("departure time" in r.error_message for r in withdrawn)


def test_a_new_driver_replaces_the_number_in_the_departure_notices_still_waiting(published_app):
    trip_id = busiest_trip(published_app)
    client = published_app.test_client()
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        login(client)
        coach, version = _crewed(published_app, client, trip_id)
        with published_app.app_context():
            first = db.session.get(Driver, coach.driver1_id).phone[3:]
            waiting = [r for r in _rows("departure", trip_id) if r.status == m.MSG_PENDING]
            assert waiting and all(first in r.body for r in waiting)
            other_id, other_phone = _another_driver(coach)
        form = {"version": version, "coach_id": coach.id, "driver1_id": other_id}
        assert client.post(f"/trips/{trip_id}/crew", data=form).status_code == 302
    with published_app.app_context():
        rows = _rows("departure", trip_id)
        live = [r for r in rows if r.status == m.MSG_PENDING]
        seated = len(db.session.get(Trip, trip_id).seats)
        assert len(live) == seated  # one departure notice each, the new driver's number in it
        assert all(other_phone in r.body and first not in r.body for r in live)


def test_a_new_driver_after_the_departure_notice_went_out_sends_it_again(published_app):
    trip_id = busiest_trip(published_app)
    client = published_app.test_client()
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        login(client)
        coach, version = _crewed(published_app, client, trip_id)
        with published_app.app_context():
            for row in _rows("departure", trip_id):  # the notices went out
                row.status = m.MSG_SENT
            db.session.commit()
            other_id, other_phone = _another_driver(coach)
        form = {"version": version, "coach_id": coach.id, "driver1_id": other_id}
        assert client.post(f"/trips/{trip_id}/crew", data=form).status_code == 302
    with published_app.app_context():
        again = [r for r in _rows("departure", trip_id) if r.status == m.MSG_PENDING]
        assert len(again) == len(db.session.get(Trip, trip_id).seats)
        assert all(other_phone in r.body and r.version == 2 for r in again)
        assert not [r for r in _rows("change", trip_id) if r.status == m.MSG_PENDING]


def test_the_apis_crew_patch_tells_a_new_driver_as_the_page_does(published_app):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        coach = _fitting_coach(db.session.get(Trip, trip_id))
        coach_id, driver_id = coach.id, coach.driver1_id
    headers = token_for(published_app, "admin")
    client = published_app.test_client()
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        body = {"coach_id": coach_id, "driver1_id": driver_id}
        answer = client.patch(f"/api/v1/trips/{trip_id}", json=body, headers=headers)
        assert answer.status_code == 200, answer.get_json()
    with published_app.app_context():
        told = [r.driver_id for r in _rows("driver", trip_id) if r.status == m.MSG_PENDING]
        assert driver_id in told  # was none: the API set drivers who were never told
