"""Login, roles, county scoping, CSRF, throttling, tokens."""

from __future__ import annotations

import re

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import ApiToken, User
from dispatch.services import accounts
from tests.conftest import ADMIN_PASSWORD, COORD_PASSWORD, login


def test_login_required_then_dashboard_in_chinese(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location
    assert login(client).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "总览" in page and "已登记" in page and "按县区" in page


def test_wrong_password_is_refused(client):
    response = login(client, "admin", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sixth_failure_within_a_minute_is_throttled(client):
    for _ in range(5):
        assert login(client, "admin", "wrong-password").status_code == 401
    assert login(client, "admin", "wrong-password").status_code == 429
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 429  # even the right one


def test_successes_do_not_count_towards_the_limit(client):
    for _ in range(8):
        assert login(client).status_code == 302


def test_passwords_are_scrypt_hashed(demo_app):
    with demo_app.app_context():
        user = db.session.scalar(select(User).filter_by(username="admin"))
        assert user.password_hash.startswith("scrypt:")
        assert ADMIN_PASSWORD not in user.password_hash


def _dashboard_total(client, stage: str) -> int:
    html = client.get("/").get_data(as_text=True)
    return int(re.search(rf'data-stage="{stage}">(\d+)<', html).group(1))


def test_coordinator_sees_only_own_county(client, demo_app):
    with demo_app.app_context():
        from dispatch.models import Worker

        hongtong = len(db.session.scalars(select(Worker).filter_by(county_id="hongtong")).all())
    login(client, "hong", COORD_PASSWORD)
    assert _dashboard_total(client, "registered") == hongtong
    html = client.get("/").get_data(as_text=True)
    assert "洪洞县" in html and "隰县" not in html
    client.post("/logout")
    login(client)
    assert _dashboard_total(client, "registered") == 200


def test_csrf_is_required_on_forms(tmp_path, demo_template):
    import shutil

    from dispatch import create_app
    from tests.conftest import base_config

    shutil.copy(demo_template, tmp_path / "db.sqlite")
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}"), "WTF_CSRF_ENABLED": True}
    app = create_app(config, instance_path=str(tmp_path))
    client = app.test_client()
    assert login(client).status_code == 400  # no token
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_open_redirect_is_refused(client):
    response = client.post(
        "/login?next=//evil.example.com/x",
        data={"username": "admin", "password": ADMIN_PASSWORD},
    )
    assert response.location == "/"


def test_language_switch_to_english_and_back(client):
    login(client)
    client.post("/language", data={"lang": "en", "next": "/"})
    assert "Dashboard" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "zh_Hans_CN", "next": "/"})
    assert "总览" in client.get("/").get_data(as_text=True)


def test_browser_language_picks_the_catalogue(client):
    login(client)
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "By county" in english
    chinese = client.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).get_data(as_text=True)
    assert "按县区" in chinese


def test_security_headers(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_tokens_are_stored_hashed(demo_app):
    with demo_app.app_context():
        user = db.session.scalar(select(User).filter_by(username="hong"))
        token = accounts.create_token(user)
        stored = db.session.scalar(select(ApiToken).filter_by(user_id=user.id))
        assert token not in stored.token_hash and len(stored.token_hash) == 64
        assert accounts.user_for_token(token).username == "hong"
        assert accounts.user_for_token(token + "x") is None
        stored.user.active = False
        assert accounts.user_for_token(token) is None


def test_inactive_user_cannot_log_in(client, demo_app):
    with demo_app.app_context():
        db.session.scalar(select(User).filter_by(username="viewer")).active = False
        db.session.commit()
    assert login(client, "viewer", COORD_PASSWORD).status_code == 401
