"""/api/v1 coaches, drivers, employers, sites and the crew PATCH, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Trip, User
from dispatch.services import availability
from dispatch.services.accounts import create_token
from tests.support.apps import make_app
from tests.support.fleet import DAY, add_plan, add_trip, fresh_deployment


@pytest.fixture
def api_app(db_url, tmp_path):
    app = make_app(
        tmp_path, db_url, API_REQUESTS_PER_MINUTE=0, WTF_CSRF_ENABLED=True
    )  # as deployed
    with app.app_context():
        fresh_deployment()
        plan = add_plan()
        for code, days in (("T1", 0), ("T2", 1), ("T3", 1)):
            add_trip(plan, code, DAY + timedelta(days=days))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _bearer(app, username: str) -> dict[str, str]:
    with app.app_context():
        token = create_token(db.session.scalar(select(User).filter_by(username=username)))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _trip_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Trip.id).filter_by(code=code))


def test_admin_manages_the_fleet_and_a_coordinator_may_not(api_app):
    client, admin, hong = api_app.test_client(), _bearer(api_app, "admin"), _bearer(api_app, "hong")
    made = client.post(
        "/api/v1/coaches",
        json={"plate": "晋LA1234", "coach_type": "c53", "operator": "洪洞客运"},
        headers=admin,
    )
    assert (
        made.status_code == 201
        and made.json["plate"] == "晋L·A1234"
        and made.json["operator"] == "洪洞客运"
    )
    again = client.post(
        "/api/v1/coaches", json={"plate": "晋L·A1234", "coach_type": "c45"}, headers=admin
    )
    assert again.status_code == 409 and "plate" in again.json["fields"]
    bad = client.post(
        "/api/v1/coaches", json={"plate": "AB123", "coach_type": "c99"}, headers=admin
    )
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"plate", "coach_type"}
    assert (
        client.post(
            "/api/v1/coaches", json={"plate": "晋LB1234", "coach_type": "c53"}, headers=hong
        ).status_code
        == 403
    )
    listed = client.get("/api/v1/coaches?per_page=1", headers=hong).json
    assert (
        listed["total"] == 1 and listed["page"] == 1 and listed["items"][0]["plate"] == "晋L·A1234"
    )
    driver = client.post(
        "/api/v1/drivers", json={"name": "张师傅", "phone": "13800138001"}, headers=admin
    )
    assert driver.status_code == 201 and driver.json["phone"] == "+8613800138001"
    site = client.post(
        "/api/v1/sites",
        json={"id": "fr-paris", "kind": "dropoff", "name": "巴黎", "lat": 48.85, "lon": 2.35},
        headers=admin,
    )
    assert site.status_code == 422 and "lon" in site.json["fields"]
    employer = client.post(
        "/api/v1/employers",
        json={"name": "昆山精密", "destination": "js-kunshan", "contact_name": "刘经理"},
        headers=admin,
    )
    assert employer.status_code == 201 and employer.json["destination"] == "js-kunshan"
    assert (
        client.patch(
            f"/api/v1/employers/{employer.json['id']}", json={"active": False}, headers=admin
        ).json["active"]
        is False
    )
    assert (
        client.delete("/api/v1/sites/js-kunshan", headers=admin).status_code == 409
    )  # the buses stop there
    assert client.delete(f"/api/v1/coaches/{made.json['id']}", headers=hong).status_code == 403


def test_the_crew_patch_refuses_a_busy_coach_with_the_clashing_bus(api_app):
    client, admin = api_app.test_client(), _bearer(api_app, "admin")
    coach = client.post(
        "/api/v1/coaches", json={"plate": "晋LA1234", "coach_type": "c53"}, headers=admin
    ).json
    first = client.patch(
        f"/api/v1/trips/{_trip_id(api_app, 'T1')}", json={"coach_id": coach["id"]}, headers=admin
    )
    assert first.status_code == 200
    busy = client.patch(
        f"/api/v1/trips/{_trip_id(api_app, 'T2')}", json={"coach_id": coach["id"]}, headers=admin
    )
    assert (
        busy.status_code == 409
        and busy.json["trip"]["code"] == "T1"
        and "晋L·A1234" in busy.json["message"]
    )
    assert (
        client.delete(f"/api/v1/coaches/{coach['id']}", headers=admin).status_code == 409
    )  # on bus T1


def test_two_assignments_of_one_coach_at_once_one_wins(api_app, monkeypatch):
    client, admin = api_app.test_client(), _bearer(api_app, "admin")
    checked = threading.Barrier(2)
    original = availability.coach_clash

    def check_then_wait(trip, coach):  # both requests have looked before either writes
        found = original(trip, coach)
        with contextlib.suppress(
            threading.BrokenBarrierError
        ):  # the other waits on the coach's row lock
            checked.wait(timeout=3)
        return found

    monkeypatch.setattr(availability, "coach_clash", check_then_wait)
    coach = client.post(
        "/api/v1/coaches", json={"plate": "晋LA1234", "coach_type": "c53"}, headers=admin
    ).json
    trips = [_trip_id(api_app, code) for code in ("T2", "T3")]  # the same morning
    start, statuses = threading.Barrier(2), []

    def assign(
        trip_id: int, token: dict[str, str]
    ) -> None:  # two sessions, as two browsers would be
        own = api_app.test_client()
        start.wait()
        statuses.append(
            own.patch(
                f"/api/v1/trips/{trip_id}", json={"coach_id": coach["id"]}, headers=token
            ).status_code
        )

    tokens = [admin, _bearer(api_app, "admin")]
    threads = [
        threading.Thread(target=assign, args=args) for args in zip(trips, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 409]
    with api_app.app_context():
        assert len(db.session.scalars(select(Trip).filter_by(coach_id=coach["id"])).all()) == 1


def test_one_phone_is_one_drivers(api_app):
    """A second driver with the first one's phone was accepted: the crew lists showed two
    "139****0099" no one could tell apart, and the fleet import matched either."""
    client, admin = api_app.test_client(), _bearer(api_app, "admin")
    first = client.post(
        "/api/v1/drivers", json={"name": "韩磊", "phone": "13935710099"}, headers=admin
    )
    assert first.status_code == 201, first.json
    again = client.post(
        "/api/v1/drivers", json={"name": "韩磊2", "phone": "139 3571 0099"}, headers=admin
    )
    assert again.status_code == 409 and "韩磊" in again.json["fields"]["phone"]
    other = client.post(
        "/api/v1/drivers", json={"name": "周海", "phone": "13935710098"}, headers=admin
    )
    assert other.status_code == 201
    taken = client.patch(
        f"/api/v1/drivers/{other.json['id']}", json={"phone": "13935710099"}, headers=admin
    )
    assert taken.status_code == 409
    same = client.patch(
        f"/api/v1/drivers/{first.json['id']}", json={"phone": "13935710099"}, headers=admin
    )
    assert same.status_code == 200  # its own number again


def test_a_pickup_point_belongs_to_the_county_given(api_app):
    client, admin = api_app.test_client(), _bearer(api_app, "admin")
    body = {"id": "hongtong-bus", "kind": "pickup", "name": "洪洞县汽车站", "lat": 36.25,
            "lon": 111.67, "county": "洪洞县"}  # fmt: skip
    made = client.post("/api/v1/sites", json=body, headers=admin)
    assert made.status_code == 201 and made.json["county"] == "hongtong", made.json
    bad = client.post(
        "/api/v1/sites", json={**body, "id": "nowhere-bus", "county": "火星县"}, headers=admin
    )
    assert bad.status_code == 422 and "county" in bad.json["fields"]
