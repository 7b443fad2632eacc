"""Security headers on every response, and size limits with a clear 413 (JSON or a page)."""

from __future__ import annotations

import io

import pytest

from dispatch.extensions import db
from dispatch.web import unstorable_text
from tests.support.apps import login, make_app, seed_demo
from tests.support.workers import token_for, worker_row


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
    body = worker_row(
        1, name="张" * 41, notes="x" * 2001, township=7, group="\x00", sms_consent=None
    )
    response = client.post("/api/v1/workers", json=body, headers=admin)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {
        "name",
        "notes",
        "township",
        "group",
        "sms_consent",
    }
    assert client.post("/api/v1/workers", json=worker_row(1), headers=admin).status_code == 201


def test_bad_query_parameters_get_400(client, admin):
    for query in (
        "page=0",
        "per_page=-1",
        "page=abc",
        "page=",
        "status=flying",
        "date=2026-13-01",
        "q=" + "x" * 101,
    ):
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
    ("language", "expected"),
    [("zh-CN,zh;q=0.9", "上传的文件过大"), ("en-GB,en;q=0.9", "too large")],
)
def test_an_oversize_upload_gets_a_413_page_in_the_users_language(
    small_upload_app, language, expected
):
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


# --- Bulk reads of ID numbers and phones ----------------------------------------------------


def _api_reads(app) -> list:
    from sqlalchemy import select

    from dispatch.models import AuditEvent

    with app.app_context():
        return [
            (e.user.username, e.detail)
            for e in db.session.scalars(
                select(AuditEvent).filter_by(action="worker.api_read").order_by(AuditEvent.id)
            )
        ]


def test_viewers_get_masked_numbers_and_full_reads_are_audited(client, demo_app):
    viewer, admin, hong = (token_for(demo_app, name) for name in ("viewer", "admin", "hong"))
    masked = client.get("/api/v1/workers?per_page=200", headers=viewer).get_json()["items"]
    assert len(masked) == 200
    assert all(
        "*" in w["id_number"] and "*" in w["phone"] and len(w["id_number"]) == 18 for w in masked
    )
    one = client.get(f"/api/v1/workers/{masked[0]['id']}", headers=viewer).get_json()
    assert "*" in one["id_number"] and "*" in one["phone"]
    assert _api_reads(demo_app) == []  # nothing full was read

    full = client.get(
        "/api/v1/workers?per_page=30&status=registered&q=1", headers=admin
    ).get_json()["items"]
    assert full and all("*" not in w["id_number"] and w["phone"].startswith("+86") for w in full)
    own = client.get("/api/v1/workers?county=hongtong", headers=hong).get_json()["items"]
    assert own and all(w["county"] == "hongtong" and "*" not in w["id_number"] for w in own)
    client.get(f"/api/v1/workers/{own[0]['id']}", headers=hong)
    reads = _api_reads(demo_app)
    assert [who for who, _ in reads] == ["admin", "hong", "hong"]
    assert reads[0][1]["count"] == len(full) and reads[0][1]["filters"] == {
        "status": "registered",
        "q": "1",
    }
    assert reads[1][1]["filters"] == {"county": "hongtong"} and reads[2][1]["count"] == 1


# --- Admin pages are for admins -------------------------------------------------------------


ADMIN_PAGES = [
    ("GET", "/admin/users/"),
    ("POST", "/admin/users/"),
    ("GET", "/admin/users/1"),
    ("POST", "/admin/users/1/access"),
    ("POST", "/admin/users/1/active"),
    ("POST", "/admin/users/1/password"),
    ("POST", "/admin/users/1/tokens"),
    ("POST", "/admin/users/1/tokens/1/revoke"),
]


@pytest.mark.parametrize("username", ["hong", "viewer"])
def test_every_admin_page_is_403_for_others(client, demo_app, username):
    login(client, username, "coord-pass-123")
    for method, path in ADMIN_PAGES:
        response = client.open(path, method=method, data={"role": "admin", "active": "0"})
        assert response.status_code == 403, (method, path)
        assert "您没有执行此操作的权限" in response.get_data(as_text=True)
    with demo_app.app_context():
        from dispatch.models import User

        assert db.session.get(User, 1).role == "admin" and db.session.get(User, 1).active


def test_logged_out_admin_pages_send_to_login(client):
    response = client.get("/admin/users/")
    assert response.status_code == 302 and "/login" in response.location


def test_the_favicon_is_served(client):
    for path, start in (("/favicon.ico", b"\x00\x00\x01\x00"), ("/static/favicon.svg", b"<svg")):
        response = client.get(path)
        assert response.status_code == 200 and response.data.startswith(start)
        response.close()
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_no_template_carries_inline_script_or_style():
    import re
    from pathlib import Path

    root = Path(__file__).parents[2] / "dispatch" / "templates"
    inline = re.compile(r"\sstyle=|\son[a-z]+=|<script>|<script\s(?![^>]*\bsrc=)|javascript:", re.I)
    offenders = [
        str(p.relative_to(root)) for p in root.rglob("*.html") if inline.search(p.read_text())
    ]
    assert offenders == []


def test_a_view_that_checks_its_own_text_gets_its_form_fields(tmp_path):
    from flask import request

    from dispatch.web import checks_its_own_text

    app = make_app(tmp_path)

    @checks_its_own_text
    def own():  # e.g. the worker form: the error goes on the field, with what was typed
        return "bad" if unstorable_text(request.form["name"]) else "ok"

    app.add_url_rule("/own", view_func=own, methods=["GET", "POST"])
    client = app.test_client()
    assert client.post("/own", data={"name": "张\x00三"}).get_data(as_text=True) == "bad"
    assert client.get("/own?name=%00").status_code == 400  # its query still goes through the guard
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        (str(2**31 - 1), 2**31 - 1),
        (str(2**31), None),
        ("9" * 30, None),
        ("0", None),
        ("-1", None),
        ("1.5", None),
        ("²", None),
        ("١٢", None),
        ("", None),
        (None, None),
        ("0x10", None),
    ],
)
def test_parse_id_takes_only_ids_a_row_can_have(raw, expected):
    from dispatch.web import parse_id

    assert parse_id(raw) == expected
