"""The worker API (CONTRACTS.md §5): same rules as the form, the JSON error shape, scoping."""

from __future__ import annotations

import pytest

from tests.support.workers import (
    audit_actions,
    id_number,
    token_for,
    worker_count,
    worker_row,
    workers_where,
)


@pytest.fixture
def admin(demo_app):
    return token_for(demo_app, "admin")


@pytest.fixture
def hong(demo_app):
    return token_for(demo_app, "hong")


@pytest.fixture
def viewer(demo_app):
    return token_for(demo_app, "viewer")


def _assert_error_shape(response, status: int, fields: set[str] | None = None):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"] and isinstance(body["message"], str)
    if fields is not None:
        assert set(body["fields"]) == fields, body
        assert all(isinstance(v, str) and v for v in body["fields"].values())


def test_create_read_update_withdraw(client, admin, demo_app):
    response = client.post(
        "/api/v1/workers", json=worker_row(1, id_number=id_number(1).lower()), headers=admin
    )
    assert response.status_code == 201
    created = response.get_json()
    assert created["id_number"] == id_number(1) and created["phone"] == "+8613903570001"
    assert created["status"] == "registered" and created["birth_date"] == "1990-05-01"
    assert created["pickup_point"] == "hongtong" and created["sex"] == "F"
    url = f"/api/v1/workers/{created['id']}"
    assert client.get(url, headers=admin).get_json() == created
    patched = client.patch(
        url, json={"phone": "13903570077", "group": "P1"}, headers=admin
    ).get_json()
    assert patched["phone"] == "+8613903570077" and patched["group"] == "P1"
    withdrawn = client.delete(url, headers=admin)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "cancelled"
    assert workers_where(demo_app, id=created["id"])[0].status == "cancelled"  # kept
    actions = audit_actions(demo_app)
    assert {"worker.create", "worker.update", "worker.withdraw"} <= set(actions)


def test_invalid_fields_give_422_naming_each(client, admin, demo_app):
    before = worker_count(demo_app)
    bad = worker_row(2, phone="0357-2345678", id_number=id_number(2)[:17] + "Y", county="nowhere")
    _assert_error_shape(
        client.post("/api/v1/workers", json=bad, headers=admin),
        422,
        {"phone", "id_number", "county"},
    )
    _assert_error_shape(client.post("/api/v1/workers", json={}, headers=admin), 422)
    _assert_error_shape(
        client.post(
            "/api/v1/workers", json=worker_row(2, earliest_date="99999999999-01-01"), headers=admin
        ),
        422,
        {"earliest_date"},
    )
    _assert_error_shape(client.post("/api/v1/workers", json=[1], headers=admin), 400)
    _assert_error_shape(client.post("/api/v1/workers", data="not json", headers=admin), 400)
    assert worker_count(demo_app) == before


def test_a_duplicate_id_is_409_never_a_second_worker(client, admin, demo_app):
    first = client.post("/api/v1/workers", json=worker_row(3), headers=admin).get_json()
    again = client.post("/api/v1/workers", json=worker_row(3, name="又一次"), headers=admin)
    _assert_error_shape(again, 409)
    assert again.get_json()["error"] == "duplicate"
    assert str(first["id"]) in str(again.get_json())
    assert len(workers_where(demo_app, id_number=id_number(3))) == 1
    other = client.post("/api/v1/workers", json=worker_row(4), headers=admin).get_json()
    clash = client.patch(
        f"/api/v1/workers/{other['id']}", json={"id_number": id_number(3)}, headers=admin
    )
    _assert_error_shape(clash, 409)


def test_patch_refuses_unknown_and_read_only_keys(client, admin):
    created = client.post("/api/v1/workers", json=worker_row(5), headers=admin).get_json()
    response = client.patch(
        f"/api/v1/workers/{created['id']}", json={"status": "boarded", "x": 1}, headers=admin
    )
    _assert_error_shape(response, 422, {"status", "x"})
    response = client.patch(
        f"/api/v1/workers/{created['id']}", json={"group": "g" * 41}, headers=admin
    )
    _assert_error_shape(response, 422, {"group"})


def test_without_a_token_401(client):
    _assert_error_shape(client.get("/api/v1/workers"), 401)
    _assert_error_shape(
        client.get("/api/v1/workers", headers={"Authorization": "Bearer nope"}), 401
    )
    _assert_error_shape(client.post("/api/v1/workers", json=worker_row(6)), 401)


def test_viewer_token_reads_only(client, viewer, demo_app):
    assert client.get("/api/v1/workers", headers=viewer).status_code == 200
    [worker] = workers_where(demo_app, county_id="hongtong")[:1]
    _assert_error_shape(client.post("/api/v1/workers", json=worker_row(7), headers=viewer), 403)
    _assert_error_shape(
        client.patch(f"/api/v1/workers/{worker.id}", json={"notes": "x"}, headers=viewer), 403
    )
    _assert_error_shape(client.delete(f"/api/v1/workers/{worker.id}", headers=viewer), 403)
    assert workers_where(demo_app, id=worker.id)[0].status == worker.status


def test_county_scoping_applies_to_tokens(client, hong, demo_app):
    hongtong = {w.id for w in workers_where(demo_app, county_id="hongtong")}
    [other] = workers_where(demo_app, county_id="xixian")[:1]
    listed = client.get("/api/v1/workers?per_page=200", headers=hong).get_json()
    assert {w["id"] for w in listed["items"]} == hongtong and listed["total"] == len(hongtong)
    _assert_error_shape(client.get(f"/api/v1/workers/{other.id}", headers=hong), 404)
    _assert_error_shape(
        client.patch(f"/api/v1/workers/{other.id}", json={"notes": "x"}, headers=hong), 404
    )
    _assert_error_shape(client.delete(f"/api/v1/workers/{other.id}", headers=hong), 404)
    _assert_error_shape(
        client.post("/api/v1/workers", json=worker_row(8, county="xixian"), headers=hong),
        422,
        {"county"},
    )
    mine = client.post("/api/v1/workers", json=worker_row(8), headers=hong).get_json()
    moved = client.patch(f"/api/v1/workers/{mine['id']}", json={"county": "xixian"}, headers=hong)
    _assert_error_shape(moved, 422, {"county"})


def test_pagination_and_filters(client, admin, demo_app):
    first = client.get("/api/v1/workers?per_page=30", headers=admin).get_json()
    assert first["total"] == 200 and len(first["items"]) == 30 and first["per_page"] == 30
    seen = set()
    for page in range(1, 8):
        body = client.get(f"/api/v1/workers?per_page=30&page={page}", headers=admin).get_json()
        seen |= {w["id"] for w in body["items"]}
    assert len(seen) == 200
    assert (
        len(client.get("/api/v1/workers?per_page=5000", headers=admin).get_json()["items"]) == 200
    )
    kunshan = client.get(
        "/api/v1/workers?destination=js-kunshan&per_page=200", headers=admin
    ).get_json()
    assert kunshan["total"] == len(workers_where(demo_app, destination_site_id="js-kunshan"))
    _assert_error_shape(client.get("/api/v1/workers?date=yesterday", headers=admin), 400)
    huge = client.get("/api/v1/workers?page=99999999999999999999999", headers=admin)
    assert huge.status_code == 200 and huge.get_json()["items"] == []


def test_openapi_describes_the_worker_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert {"get", "post"} <= set(spec["paths"]["/workers"])
    assert {"get", "patch", "delete"} <= set(spec["paths"]["/workers/{worker_id}"])
    assert set(spec["components"]["schemas"]["WorkerInput"]["properties"]) == set(worker_row())


def test_a_duplicate_from_another_county_reveals_nothing_about_that_worker(
    client, admin, hong, demo_app
):
    theirs = client.post(
        "/api/v1/workers", json=worker_row(21, county="xixian", pickup_point=""), headers=admin
    ).get_json()
    clash = client.post("/api/v1/workers", json=worker_row(21, name="冒名"), headers=hong)
    _assert_error_shape(clash, 409)
    body = clash.get_json()
    assert (
        "fields" not in body
        and str(theirs["id"]) not in str(body)
        and theirs["name"] not in str(body)
    )
