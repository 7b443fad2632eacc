"""Who may change which seat and which bus: the rule of services/scope.py, through the page's
actions and the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Trip, User
from dispatch.services import scope
from tests.support import seats as data
from tests.support.apps import COORD_PASSWORD, login, make_app, seed_demo

REFUSED_SEAT = "该座位的乘客属于其他县区"
REFUSED_BUS = "整车调整"


@pytest.fixture
def planned(demo_app):
    data.plan_demo(demo_app)
    return demo_app


def _foreign(app) -> data.Bus:
    return next(
        b
        for b in data.buses(app)
        if "hongtong" not in b.counties and len(b.seats) >= 2 and b.free_seats()
    )


def _user(name: str) -> User:
    return db.session.scalar(select(User).filter_by(username=name))


def test_the_rule_for_each_role(planned):
    data.add_user(planned, "city", "coordinator", COORD_PASSWORD)
    foreign = _foreign(planned)
    with planned.app_context():
        trip = db.session.get(Trip, foreign.id)
        worker = trip.seats[0].worker
        hong, city, admin, viewer = (_user(n) for n in ("hong", "city", "admin", "viewer"))
        assert scope.seat_refusal(hong, worker) and scope.bus_refusal(hong, trip)
        assert not scope.may_see(hong, worker)
        assert scope.seat_refusal(city, worker) is None and scope.bus_refusal(city, trip) is None
        assert scope.seat_refusal(admin, worker) is None and scope.bus_refusal(admin, trip) is None
        assert scope.seat_refusal(viewer, worker) and scope.bus_refusal(viewer, trip)
        for seat in list(
            trip.seats
        ):  # an empty bus: the plan's counties decide (here: all of them)
            db.session.delete(seat)
        db.session.flush()
        db.session.expire(trip, ["seats"])
        assert scope.bus_refusal(hong, trip) and scope.bus_refusal(city, trip) is None
        trip.plan.scope = {"counties": ["hongtong"], "destinations": []}
        assert scope.bus_refusal(hong, trip) is None
        db.session.rollback()


def test_every_page_action_on_another_countys_bus_is_refused(planned):
    foreign = _foreign(planned)
    mine = data.waiting_worker(planned, foreign.id, "洪洞乙", 102, county="hongtong")
    client = planned.test_client()
    login(client, "hong", COORD_PASSWORD)
    a, b = sorted(foreign.seats)[:2]
    stranger = foreign.seats[a][0]
    free = foreign.free_seats()[0]
    attempts = [
        ("seats/free", {"seat_no": a}, REFUSED_SEAT),
        ("seats/swap", {"seat_no": a, "other_seat": b}, REFUSED_SEAT),
        ("seats/swap", {"seat_no": a, "other_seat": free}, REFUSED_SEAT),
        ("seats/lock", {"seat_no": a}, REFUSED_SEAT),
        ("seats/unlock", {"seat_no": a}, REFUSED_SEAT),
        ("seats/place", {"worker_id": stranger, "seat_no": free}, REFUSED_SEAT),
        ("lock", {}, REFUSED_BUS),
        ("unlock", {}, REFUSED_BUS),
        ("departure", {"departure": "05:00"}, REFUSED_BUS),
        ("crew", {"coach_id": "", "captain_worker_id": stranger}, REFUSED_BUS),
    ]
    for action, form, message in attempts:
        response = client.post(
            f"/trips/{foreign.id}/{action}", data={**form, "version": foreign.version}
        )
        assert response.status_code == 403, action
        assert message in response.get_data(as_text=True), action
    assert data.bus(planned, foreign.id) == foreign
    english = client.post(
        f"/trips/{foreign.id}/seats/free",
        data={"seat_no": a},
        headers={"Accept-Language": "en"},
    )
    assert "belongs to another county" in english.get_data(as_text=True)
    seated = client.post(
        f"/trips/{foreign.id}/seats/place", data={"worker_id": mine, "seat_no": free}
    )
    assert seated.status_code == 302  # his own worker may take a free seat on any bus that fits
    assert data.bus(planned, foreign.id).seat_of(mine) == free


@pytest.fixture
def api_app(request, db_url, tmp_path):
    """The planned demo on SQLite or on a throwaway PostgreSQL."""
    if db_url.startswith("sqlite"):
        app = request.getfixturevalue("demo_app")
    else:
        app = make_app(tmp_path, db_url)
        with app.app_context():
            seed_demo()
            db.session.commit()
    data.plan_demo(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_api_keeps_the_same_rule(api_app):
    foreign = _foreign(api_app)
    mine = data.waiting_worker(api_app, foreign.id, "洪洞丙", 103, county="hongtong")
    client, hong = api_app.test_client(), data.token_for(api_app, "hong")
    a = min(foreign.seats)
    free = foreign.free_seats()[0]
    url = f"/api/v1/trips/{foreign.id}"
    moved = client.put(f"{url}/seats/{free}", json={"worker_id": foreign.seats[a][0]}, headers=hong)
    assert moved.status_code == 403 and REFUSED_SEAT in moved.get_json()["message"]
    freed = client.delete(f"{url}/seats/{a}", headers=hong)
    assert freed.status_code == 403 and REFUSED_SEAT in freed.get_json()["message"]
    assert data.bus(api_app, foreign.id) == foreign
    shown = client.get(url, headers=hong).get_json()["seats"]
    assert all(s["name"] is None and s["worker_id"] is None for s in shown)
    taken = client.put(f"{url}/seats/{a}", json={"worker_id": mine}, headers=hong)
    assert taken.status_code == 409  # his worker cannot take another county's seat either
    ok = client.put(f"{url}/seats/{free}", json={"worker_id": mine}, headers=hong)
    assert ok.status_code == 200, ok.get_json()
    assert [s["name"] for s in ok.get_json()["seats"] if s["name"]] == ["洪洞丙"]
    admin = data.token_for(api_app, "admin")
    assert client.delete(f"{url}/seats/{a}", headers=admin).status_code == 200
