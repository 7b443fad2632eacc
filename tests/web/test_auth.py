"""Login, roles, county scoping, CSRF, throttling, tokens."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import ApiToken, User
from dispatch.services import accounts
from dispatch.web import safe_local_path
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD, login


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
    from tests.support.apps import base_config

    shutil.copy(demo_template, tmp_path / "db.sqlite")
    config = {
        **base_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}"),
        "WTF_CSRF_ENABLED": True,
    }
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


# --- Redirects stay on this site ---------------------------------------------------------

OFF_SITE = [
    "//evil.example/x",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\x00/evil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_local_path_refuses_everything_off_site(target):
    assert safe_local_path(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/workers?page=2&q=%E5%BC%A0", "/plans/3#trip-2"])
def test_safe_local_path_keeps_paths_on_this_site(target):
    assert safe_local_path(target, "/home") == target


@pytest.mark.parametrize(
    "query",
    [
        "next=/%09/evil.example",
        "next=%2F%2Fevil.example",
        "next=/%5Cevil.example",
        "next=%09//evil.example",
        "next=/%0D%0A/evil.example",
    ],
)
def test_login_never_redirects_off_site(client, query):
    response = client.post(
        f"/login?{query}", data={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.location == "/"


def test_language_switch_never_redirects_off_site(client):
    login(client)
    for target in OFF_SITE:
        response = client.post("/language", data={"lang": "en", "next": target.replace("\x00", "")})
        assert response.status_code in (302, 400), target
        assert response.status_code == 400 or response.location == "/", target
    assert (
        client.post("/language", data={"lang": "en", "next": "/workers?page=2"}).location
        == "/workers?page=2"
    )


# --- Sessions end when they should --------------------------------------------------------


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_logout_ends_the_session_even_for_a_copied_cookie(demo_app):
    client = demo_app.test_client()
    login(client)
    copied = _session_cookie(client)
    assert client.get("/").status_code == 200
    client.post("/logout")
    thief = demo_app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_new_password_or_disabling_ends_open_sessions(demo_app, change):
    client = demo_app.test_client()
    login(client, "hong", COORD_PASSWORD)
    assert client.get("/").status_code == 200
    with demo_app.app_context():
        hong = db.session.scalar(select(User).filter_by(username="hong"))
        admin = db.session.scalar(select(User).filter_by(username="admin"))
        token = accounts.create_token(hong)
        if change == "password":
            accounts.change_password(hong, "a-brand-new-password")
        else:
            accounts.set_active(hong, False, admin)
        db.session.commit()
    assert client.get("/").status_code == 302
    api = client.get("/api/v1/workers?per_page=1", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == (200 if change == "password" else 401)  # disabling revokes tokens
    if change == "disable":
        with demo_app.app_context():
            assert db.session.scalars(select(ApiToken).filter_by(revoked_at=None)).all() == []


def test_sessions_expire_after_the_absolute_cap(demo_app):
    client = demo_app.test_client()
    login(client)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["login_at"] -= demo_app.config["SESSION_MAX_HOURS"] * 3600 + 1
    assert client.get("/").status_code == 302


def test_the_session_cookie_expires_after_idle_hours(client, demo_app):
    response = login(client)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie  # a permanent session, renewed by each request
    assert demo_app.permanent_session_lifetime.total_seconds() == 12 * 3600


# --- The login throttle counts per account too ----------------------------------------------


def _login_from(client, address: str, password: str = "wrong-password", username: str = "admin"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_overrides={"REMOTE_ADDR": address},
    )


def test_guessing_one_account_from_many_addresses_is_throttled(client):
    limit = int(
        client.application.config.get("LOGIN_FAILURES_PER_ACCOUNT", "10 per 10 minutes").split()[0]
    )
    answers = [_login_from(client, f"10.0.0.{i % 6 + 1}").status_code for i in range(limit + 2)]
    assert answers[:limit] == [401] * limit and answers[limit:] == [429, 429]
    throttled = _login_from(client, "10.9.9.9", ADMIN_PASSWORD)  # a new address, the right password
    assert throttled.status_code == 429
    assert "登录失败次数过多" in throttled.get_data(as_text=True)  # on the login page, in Chinese
    assert (
        _login_from(client, "10.9.9.9", COORD_PASSWORD, "hong").status_code == 302
    )  # others may log in


def test_an_unknown_username_costs_a_password_check_too(client, monkeypatch):
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(
        accounts, "check_password_hash", lambda h, p: checked.append(h) or real(h, p)
    )
    assert login(client, "nobody-by-this-name", "whatever-password").status_code == 401
    assert len(checked) == 1 and checked[0].startswith("scrypt:")


def test_the_throttled_login_page_is_in_chinese(client):
    for _ in range(5):
        login(client, "admin", "wrong-password")
    page = login(client, "admin", "wrong-password")
    assert page.status_code == 429
    html = page.get_data(as_text=True)
    assert "登录失败次数过多" in html and 'name="password"' in html


def test_the_page_asked_for_opens_after_logging_in(client):
    response = client.get("/workers/?page=2")
    assert response.status_code == 302 and "next=" in response.location
    login_page = response.location.split("localhost")[-1]
    answer = client.post(login_page, data={"username": "admin", "password": ADMIN_PASSWORD})
    assert answer.location == "/workers/?page=2"


def test_a_remember_cookie_opens_no_session(demo_app):
    from flask_login.utils import encode_cookie

    with demo_app.app_context():
        admin = db.session.scalar(select(User).filter_by(username="admin"))
        session_id = admin.get_id()
    with demo_app.test_request_context():
        cookie = encode_cookie(session_id)  # as Flask-Login would sign it, the version included
    client = demo_app.test_client()
    client.set_cookie("remember_token", cookie)
    assert client.get("/").status_code == 302  # sessions start at the login form only
