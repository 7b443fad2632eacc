"""Fixtures: apps on a temporary database (SQLite, or a throwaway PostgreSQL), a live
server in a thread, and real Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from dispatch import create_app
from dispatch.extensions import db
from tests import pg

pytest_plugins = ["tests.support.browser", "tests.support.field"]

REQUIRE_BROWSER = os.environ.get("DISPATCH_REQUIRE_BROWSER") == "1"
REQUIRE_POSTGRES = os.environ.get("DISPATCH_REQUIRE_POSTGRES") == "1"
CHROMIUM = os.environ.get("DISPATCH_CHROMIUM", "/usr/bin/chromium")
ADMIN_PASSWORD = "admin-pass-123"
COORD_PASSWORD = "coord-pass-123"

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["no_proxy"] = os.environ["NO_PROXY"]


def base_config(tmp_path: Path, uri: str | None = None) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": uri or f"sqlite:///{tmp_path / 'test.db'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "SCHEDULER_ENABLED": False,
        "SMS_QUIET_HOURS": "22:00-07:00",
        "SMS_MAX_PER_SECOND": 0,
    }


def make_app(tmp_path: Path, uri: str | None = None, **overrides) -> Flask:
    """An app with the schema created and no data."""
    app = create_app({**base_config(tmp_path, uri), **overrides}, instance_path=str(tmp_path))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A SQLite file with demo data and users, built once and copied per test."""
    path = tmp_path_factory.mktemp("template") / "demo.db"
    app = make_app(path.parent, f"sqlite:///{path}")
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.engine.dispose()
    return path


def seed_demo(workers: int = 200) -> None:
    """Demo data plus an admin, a Hongtong coordinator and a viewer."""
    from dispatch.services import accounts, demo

    demo.load_demo(workers=workers)
    accounts.create_user("admin", "admin", ADMIN_PASSWORD)
    accounts.create_user("hong", "coordinator", COORD_PASSWORD, ["hongtong"])
    accounts.create_user("viewer", "viewer", COORD_PASSWORD)


@pytest.fixture
def demo_app(tmp_path: Path, demo_template: Path) -> Iterator[Flask]:
    target = tmp_path / "demo.db"
    shutil.copy(demo_template, target)
    app = create_app(base_config(tmp_path, f"sqlite:///{target}"), instance_path=str(tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(demo_app: Flask):
    return demo_app.test_client()


def login(client, username: str = "admin", password: str = ADMIN_PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


# --- PostgreSQL -------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.Server]:
    if not pg.available():
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (DISPATCH_REQUIRE_POSTGRES=1) but initdb is missing")
        pytest.skip("PostgreSQL server not installed")
    server = pg.Server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: pg.Server) -> str:
    """A fresh, empty database on the throwaway server."""
    return pg_server.create_database()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path: Path) -> str:
    """Both databases, for the tests whose behaviour depends on the engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any.db'}"
    if not request.node.get_closest_marker("postgres"):
        request.applymarker(pytest.mark.postgres)
    return request.getfixturevalue("pg_url")


# --- Browser ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium is required (DISPATCH_REQUIRE_BROWSER=1) but {CHROMIUM} is missing")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    browser = manager.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    )
    from tests.support.browser import record_form_posts  # after pytest_plugins registered it

    record_form_posts(browser)
    yield browser
    browser.close()
    manager.stop()


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(demo_app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(demo_app)
    yield server
    server.stop()


@pytest.fixture
def page(chromium, live_server: LiveServer):
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
