"""Apps on a temporary database: an empty one, or the demo data copied per test from a
template built once; the demo users' passwords, and clients logged in as each of them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from dispatch import create_app
from dispatch.extensions import db

ADMIN_PASSWORD = "admin-pass-123"
COORD_PASSWORD = "coord-pass-123"


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


def seed_demo(workers: int = 200) -> None:
    """Demo data plus an admin, a Hongtong coordinator and a viewer."""
    from dispatch.services import accounts, demo

    demo.load_demo(workers=workers, profile=demo.SPREAD)
    accounts.create_user("admin", "admin", ADMIN_PASSWORD)
    accounts.create_user("hong", "coordinator", COORD_PASSWORD, ["hongtong"])
    accounts.create_user("viewer", "viewer", COORD_PASSWORD)


def login(client, username: str = "admin", password: str = ADMIN_PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


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


@pytest.fixture
def demo_app(tmp_path: Path, demo_template: Path) -> Iterator[Flask]:
    target = tmp_path / "demo.db"
    shutil.copy(demo_template, target)
    app = create_app(base_config(tmp_path, f"sqlite:///{target}"), instance_path=str(tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


def start_planning_worker(app: Flask):
    """A planning worker in this process (as under `make run`), quick to notice queued plans."""
    from dispatch.jobs.planning_worker import PlanningWorker

    app.config.update(PLANNER_POLL_S=0.2, PLANNER_HEARTBEAT_S=0.5)
    return PlanningWorker(app, slots=1).start()


@pytest.fixture
def planning_worker(demo_app: Flask):
    """The demo app's queued plans are run, as the scheduler does under `make run`."""
    worker = start_planning_worker(demo_app)
    yield worker
    worker.stop()


@pytest.fixture
def client(demo_app: Flask):
    return demo_app.test_client()


@pytest.fixture
def admin_client(client):
    login(client)
    return client


@pytest.fixture
def hong_client(client):
    login(client, "hong", COORD_PASSWORD)
    return client


@pytest.fixture
def viewer_client(client):
    login(client, "viewer", COORD_PASSWORD)
    return client
