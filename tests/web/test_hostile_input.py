"""Input no database can store and ids no row can have, on SQLite and PostgreSQL: a clear 400,
404 or 422 naming the field, never a 500, and nothing stored."""

from __future__ import annotations

import json

import pytest

from dispatch.extensions import db
from dispatch.web import unstorable_text
from tests.support.apps import login, make_app, seed_demo
from tests.support.workers import token_for, worker_row

# --- Input no database stores, ids no row has (SQLite and PostgreSQL) ------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_app(request, tmp_path):
    """A small demo (20 workers, the three demo users) on SQLite or on PostgreSQL."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        uri = request.getfixturevalue("pg_url")
    else:
        uri = None
    app = make_app(tmp_path, uri)
    with app.app_context():
        seed_demo(workers=20)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


HUGE_IDS = [2**31, 2**40, 2**63, 10**20]


def test_ids_no_row_can_have_are_404_on_pages_and_api(any_db_app):
    client = any_db_app.test_client()
    login(client)
    api = token_for(any_db_app, "admin")
    for n in HUGE_IDS:
        for path in (f"/workers/{n}", f"/plans/{n}", f"/trips/{n}", f"/trips/{n}/manifest"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "页面不存在" in response.get_data(as_text=True)
        for method, path in (
            ("GET", f"/api/v1/workers/{n}"),
            ("PATCH", f"/api/v1/workers/{n}"),
            ("GET", f"/api/v1/trips/{n}"),
            ("PUT", f"/api/v1/trips/1/seats/{n}"),
        ):
            response = client.open(path, method=method, headers=api, json={})
            assert response.status_code == 404, (method, path)
            assert response.get_json()["error"] == "not_found"
    assert (
        client.get("/m/%00abc%01").status_code == 404
    )  # a path with control characters names nothing
    assert client.get("/api/v1/sites/%01x", headers=api).get_json()["error"] == "not_found"


# (A lone surrogate cannot arrive in a form: werkzeug leaves undecodable bytes percent-encoded.)
HOSTILE_TEXT = ["张\x00三", "张\x01三", "张\x1b三", "\x7f", "a\x85b", "\x0b"]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_control_characters_and_broken_text_in_a_form_get_a_clear_400(any_db_app, text):
    client = any_db_app.test_client()
    login(client, "hong", "coord-pass-123")
    before = _worker_count(any_db_app)
    response = client.post("/plans/", data={"date_from": text, "date_to": "2026-03-02"})
    assert response.status_code == 400
    assert "控制字符或乱码" in response.get_data(as_text=True)
    assert client.get("/workers/", query_string={"q": text}).status_code == 400
    # The worker form checks its own fields: the error is on the field and what was typed stays.
    row = worker_row(1)
    page = client.post("/workers/new", data={**row, "name": text}).get_data(as_text=True)
    assert 'id="err-name"' in page and row["id_number"] in page
    assert _worker_count(any_db_app) == before


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\x00", "\x1b"])
def test_broken_text_is_recognised_anywhere_in_json(text):
    assert unstorable_text({"a": [1, {"b": text}]}) and unstorable_text({text: 1})
    assert not unstorable_text({"a": ["张三\t\n\r", 1.5, None, True]})


def test_tabs_and_newlines_stay_allowed_in_text(any_db_app):
    client = any_db_app.test_client()
    login(client)
    assert client.get("/workers/", query_string={"q": "张\t三"}).status_code == 200
    assert client.post("/language", data={"lang": "en", "next": "/workers"}).status_code == 302


@pytest.mark.parametrize("raw", ['"张\\u0000三"', '"\\ud800"', '"a\\udc00b"', '"\\u001b[31m"'])
def test_broken_text_in_api_json_gets_422_naming_the_field(any_db_app, raw):
    client = any_db_app.test_client()
    api = {**token_for(any_db_app, "admin"), "Content-Type": "application/json"}
    before = _worker_count(any_db_app)
    body = json.dumps(worker_row(1, name="@@")).replace('"@@"', raw)
    response = client.post("/api/v1/workers", data=body, headers=api)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid" and "name" in response.get_json()["fields"]
    worker_id = client.get("/api/v1/workers?per_page=1", headers=api).get_json()["items"][0]["id"]
    patch = client.patch(f"/api/v1/workers/{worker_id}", data=f'{{"notes": {raw}}}', headers=api)
    assert patch.status_code == 422 and "notes" in patch.get_json()["fields"]
    assert _worker_count(any_db_app) == before
    assert client.get("/api/v1/workers", query_string={"q": "\x1b"}, headers=api).status_code == 400


def _worker_count(app) -> int:
    from dispatch.models import Worker

    with app.app_context():
        return db.session.query(Worker).count()
