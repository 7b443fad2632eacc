"""dispatch: point-to-point charter buses for migrant workers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the app: defaults, instance/config.py, DISPATCH_* environment, then test_config."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    _load_config(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT reverse proxies, take the client's address, scheme and host from them."""
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object("dispatch.config")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("DISPATCH")
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_path = Path(app.instance_path) / "dispatch.db"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if str(app.config["PUBLIC_BASE_URL"]).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _instance_secret(path: Path) -> str:
    """Read the instance's secret key, generating it once on first use.

    gunicorn's workers start at once: the key is written whole to a file of this process's
    own, then linked into place (atomic; the first wins), so none reads a half-written key."""
    if not path.exists():
        own = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(own, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(own, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            os.unlink(own)
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from dispatch import models, web  # noqa: F401  (models: register the tables)
    from dispatch.extensions import babel, csrf, db, limiter, login_manager, migrate
    from dispatch.notify.gateway import build_gateway

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(
        app, locale_selector=web.select_locale, timezone_selector=lambda: app.config["TIMEZONE"]
    )
    web.init_app(app)
    app.extensions["sms_gateway"] = build_gateway(app.config)


def _register_blueprints(app: Flask) -> None:
    from dispatch.routes import (
        admin_fleet,
        admin_users,
        api,
        auth,
        boarding,
        dashboard,
        gate,
        join,
        manifest,
        messages,
        plan_advice,
        plans,
        registrations,
        replies,
        ticket,
        trips,
        webhooks,
        workers,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(workers.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(plan_advice.bp)
    app.register_blueprint(trips.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(replies.bp)
    app.register_blueprint(manifest.bp)
    app.register_blueprint(gate.bp)
    app.register_blueprint(boarding.bp)
    app.register_blueprint(ticket.bp)
    app.register_blueprint(admin_users.bp)
    app.register_blueprint(admin_fleet.bp)
    app.register_blueprint(join.bp)
    app.register_blueprint(registrations.bp)


def _register_commands(app: Flask) -> None:
    from dispatch import commands

    commands.init_app(app)
