"""The app factory and configuration layering (CONTRACTS.md §2)."""

from __future__ import annotations

from pathlib import Path

from dispatch import create_app


def test_defaults_sqlite_in_instance_and_generated_secret(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DISPATCH_SQLALCHEMY_DATABASE_URI", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'dispatch.db'}"
    assert app.config["TIMEZONE"] == "Asia/Shanghai"
    assert app.config["SMS_BACKEND"] == "console"
    assert app.config["SCHEDULER_ENABLED"] is False
    secret = (tmp_path / "secret_key").read_text()
    assert len(secret) == 64 and app.config["SECRET_KEY"] == secret
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    again = create_app(instance_path=str(tmp_path))
    assert again.config["SECRET_KEY"] == secret  # generated once, then kept


def test_layering_instance_file_then_environment_then_mapping(tmp_path: Path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SMS_SIGNATURE = '【测试】'\nPLANNER_TIME_LIMIT_S = 5\nSMS_BACKEND = 'console'\n"
    )
    monkeypatch.setenv("DISPATCH_PLANNER_TIME_LIMIT_S", "7")
    monkeypatch.setenv("DISPATCH_SCHEDULER_ENABLED", "true")
    app = create_app({"SECRET_KEY": "x", "SMS_QUIET_HOURS": ""}, instance_path=str(tmp_path))
    assert app.config["SMS_SIGNATURE"] == "【测试】"  # instance file over defaults
    assert app.config["PLANNER_TIME_LIMIT_S"] == 7  # environment over the instance file
    assert app.config["SCHEDULER_ENABLED"] is True
    assert app.config["SMS_QUIET_HOURS"] == ""  # the mapping over everything
    assert not (tmp_path / "secret_key").exists()  # a configured secret is used as is


def test_https_public_url_turns_on_secure_cookies(tmp_path: Path):
    app = create_app(
        {"SECRET_KEY": "x", "PUBLIC_BASE_URL": "https://dispatch.example.cn"},
        instance_path=str(tmp_path),
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    plain = create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert plain.config["SESSION_COOKIE_SECURE"] is False


def test_wsgi_exposes_app():
    import wsgi

    assert wsgi.app.name == "dispatch"


def test_behind_a_proxy_the_client_address_and_scheme_come_from_it(tmp_path: Path):
    from flask import request

    app = create_app({"SECRET_KEY": "x", "PROXY_COUNT": 1}, instance_path=str(tmp_path))
    app.add_url_rule(
        "/whoami", "whoami", lambda: f"{request.remote_addr} {request.scheme} {request.host}"
    )
    seen = app.test_client().get(
        "/whoami",
        headers={
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "d.example.cn",
        },
    )
    assert seen.get_data(as_text=True) == "203.0.113.7 https d.example.cn"
