"""Security headers on every response, and size limits with a clear 413 (JSON or a page)."""

from __future__ import annotations

import io

import pytest

from dispatch.extensions import db
from tests.conftest import login, make_app, seed_demo
from tests.workers.conftest import token_for, worker_row


def _assert_hardened(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";")}
    assert directives["default-src"] == "default-src 'self'"
    assert directives["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no other host
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def admin(demo_app):
    return token_for(demo_app, "admin")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/login", 200),
        ("GET", "/", 302),
        ("GET", "/no-such-page", 404),
        ("POST", "/login?x", 400),  # the form is missing
        ("GET", "/static/app.css", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("GET", "/api/v1/workers", 401),
        ("GET", "/api/v1/no-such-thing", 404),
        ("POST", "/api/v1/workers/1", 405),
        ("POST", "/webhooks/twilio/status", 403),
    ],
)
def test_every_kind_of_response_carries_the_headers(client, method, path, status):
    response = client.open(path, method=method)
    response.close()
    assert response.status_code == status
    _assert_hardened(response)


def test_authenticated_api_and_error_bodies_carry_them_and_are_not_cached(client, admin):
    ok = client.get("/api/v1/workers?per_page=1", headers=admin)
    bad = client.get("/api/v1/workers?page=x", headers=admin)
    assert (ok.status_code, bad.status_code) == (200, 400)
    for response in (ok, bad):
        _assert_hardened(response)
        assert response.headers["Cache-Control"] == "no-store"  # personal data
    assert bad.get_json()["error"] == "bad_request"


def test_a_server_error_carries_the_headers_too(tmp_path):
    app = make_app(tmp_path, PROPAGATE_EXCEPTIONS=False)

    def boom():
        raise RuntimeError("boom")

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/api/v1/boom", view_func=boom, endpoint="api_boom")
    client = app.test_client()
    page, api = client.get("/boom"), client.get("/api/v1/boom")
    assert (page.status_code, api.status_code) == (500, 500)
    _assert_hardened(page)
    _assert_hardened(api)
    assert api.get_json()["error"] == "server_error" and "boom" not in api.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_405_from_the_api_says_what_is_allowed(client, admin):
    response = client.post("/api/v1/workers/1", headers=admin, json={})
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH", "DELETE"}
    assert response.get_json()["error"] == "method_not_allowed"


# --- Size limits ---------------------------------------------------------------------


def test_an_oversize_api_body_gets_a_json_413(client, admin, demo_app):
    limit = demo_app.config["API_MAX_BODY_BYTES"]
    body = worker_row(1, notes="x" * limit)
    response = client.post("/api/v1/workers", json=body, headers=admin)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large" and response.get_json()["message"]
    chunked = client.post(  # no Content-Length: the limit holds while reading
        "/api/v1/workers",
        input_stream=io.BytesIO(b'{"notes": "' + b"x" * limit + b'"}'),
        headers={**admin, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn says of chunked input
    )
    assert chunked.status_code == 413


def test_overlong_or_mistyped_fields_get_422_naming_each(client, admin):
    body = worker_row(1, name="张" * 41, notes="x" * 2001, township=7, group="\x00", sms_consent=None)
    response = client.post("/api/v1/workers", json=body, headers=admin)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"name", "notes", "township", "group", "sms_consent"}
    assert client.post("/api/v1/workers", json=worker_row(1), headers=admin).status_code == 201


def test_bad_query_parameters_get_400(client, admin):
    for query in ("page=0", "per_page=-1", "page=abc", "page=", "status=flying", "date=2026-13-01", "q=" + "x" * 101):
        response = client.get(f"/api/v1/workers?{query}", headers=admin)
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "bad_request"
    assert client.get("/api/v1/messages?trip_id=99999999999", headers=admin).status_code == 400
    assert client.get("/api/v1/workers/99999999999999999999", headers=admin).status_code == 404


@pytest.fixture
def small_upload_app(tmp_path):
    app = make_app(tmp_path, MAX_CONTENT_LENGTH=20_000)
    with app.app_context():
        seed_demo(workers=0)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-CN,zh;q=0.9", "上传的文件过大"), ("en-GB,en;q=0.9", "too large")]
)
def test_an_oversize_upload_gets_a_413_page_in_the_users_language(small_upload_app, language, expected):
    client = small_upload_app.test_client()
    login(client)
    response = client.post(
        "/workers/import",
        data={"file": (io.BytesIO(b"x" * 50_000), "big.csv")},
        headers={"Accept-Language": language},
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html" and expected in response.get_data(as_text=True)
    _assert_hardened(response)
