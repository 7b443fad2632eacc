"""The departure day for coordinators: boarding progress, no-shows and welfare-pack counts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Trip, WelfareHandout
from dispatch.services import boarding
from dispatch.services import manifest as manifests
from dispatch.services.notices.journeys import pickup_stop
from tests.support.apps import COORD_PASSWORD, login
from tests.support.published import BEFORE_DEPARTURE


def _day_trips(app):
    with app.app_context():
        day = db.session.scalars(select(Trip.date).order_by(Trip.date)).first()
        return day, [
            t.id for t in db.session.scalars(select(Trip).where(Trip.date == day).order_by(Trip.id))
        ]


def test_boarding_counts_follow_the_marks_and_no_shows_are_listed_by_scope(published_app):
    day, trip_ids = _day_trips(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_ids[0])
        seats = trip.seats
        manifests.set_mark(
            trip, seats[0].worker_id, "boarded", True, BEFORE_DEPARTURE, None, "driver"
        )
        manifests.set_mark(
            trip, seats[1].worker_id, "no_show", True, BEFORE_DEPARTURE, None, "driver"
        )
        db.session.commit()
        absent, absent_county = seats[1].worker.name, seats[1].worker.county_id
        expected = len(seats)
    client = published_app.test_client()
    login(client)
    data = client.get(f"/boarding/data?date={day}").json
    bus = next(b for b in data["buses"] if b["trip_id"] == trip_ids[0])
    assert (bus["expected"], bus["boarded"], bus["no_show"], bus["waiting"]) == (
        expected,
        1,
        1,
        expected - 2,
    )
    assert [s["name"] for s in data["no_shows"]] == [absent]
    page = client.get(f"/boarding?date={day}").text
    assert absent in page and f'data-trip="{trip_ids[0]}"' in page
    hong = published_app.test_client()
    login(hong, "hong", COORD_PASSWORD)
    theirs = hong.get(f"/boarding/data?date={day}").json
    assert [s["name"] for s in theirs["no_shows"]] == (
        [absent] if absent_county == "hongtong" else []
    )
    assert len(theirs["buses"]) == len(data["buses"])  # whole-bus totals carry no names


def test_the_boarding_page_finds_the_nearest_day_and_names_a_bad_date(published_app):
    day, _ = _day_trips(published_app)
    client = published_app.test_client()
    login(client)
    assert client.get("/boarding/data").json["date"] is not None
    bad = client.get("/boarding?date=1st-of-March")
    assert bad.status_code == 200 and "2026-03-01" in bad.text  # the message shows the form to use


def test_welfare_packs_per_pickup_point_count_prepared_handed_out_and_missing(published_app):
    day, trip_ids = _day_trips(published_app)
    with published_app.app_context():
        trips = [db.session.get(Trip, i) for i in trip_ids]
        expected = Counter()
        for trip in trips:
            for seat in trip.seats:
                stop = pickup_stop(trip, seat.worker) or trip.stops[0]
                expected[stop.site_id] += 1
        site_id, prepare = expected.most_common(1)[0]
        seat = next(
            s
            for t in trips
            for s in t.seats
            if (pickup_stop(t, s.worker) or t.stops[0]).site_id == site_id
        )
        given_trip, given_worker = seat.trip_id, seat.worker_id
        db.session.add(
            WelfareHandout(
                site_id=site_id,
                date=day,
                place="县人社局一楼大厅",
                starts_at=datetime(2026, 2, 27, 23, tzinfo=UTC),
                ends_at=datetime(2026, 2, 28, 0, 30, tzinfo=UTC),
            )
        )
        db.session.commit()
        points = {
            p.site.id: p for p in boarding.handout_points(day, boarding.live_trips(day), None)
        }
        assert {k: p.to_prepare for k, p in points.items()} == dict(expected)
        assert points[site_id].place == "县人社局一楼大厅"
    client = published_app.test_client()
    login(client)
    response = client.post(
        "/welfare/handed-out", data={"trip_id": given_trip, "worker_id": given_worker}
    )
    assert response.status_code == 302
    page = client.get(f"/welfare?date={day}").text
    row = page.split(f'data-site="{site_id}"')[1].split("</tr>")[0]
    assert f'data-field="prepare">{prepare}<' in row
    assert 'data-field="handed">1<' in row and f'data-field="missing">{prepare - 1}<' in row
    assert "县人社局一楼大厅" in row and "07:00–08:30" in row
    section = page.split(f'id="site-{site_id}"')[1].split("</section>")[0]
    recent, missing = section.split("<table", 1)
    assert f'data-worker="{given_worker}"' not in missing  # collected: off the list
    assert (
        f'data-worker="{given_worker}"' in recent and 'name="value" value="0"' in recent
    )  # with its undo
    viewer = published_app.test_client()
    login(viewer, "viewer", COORD_PASSWORD)
    assert (
        viewer.post(
            "/welfare/handed-out", data={"trip_id": given_trip, "worker_id": given_worker}
        ).status_code
        == 403
    )
