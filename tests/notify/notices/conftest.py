"""Fixtures: a published demo plan, planned once per session and copied per test (planning takes seconds)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, text

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan
from tests.conftest import base_config

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]


@pytest.fixture(scope="session")
def published_template(demo_template: Path, tmp_path_factory) -> tuple[Path, int]:
    """The demo database with a plan run and published (as tests/test_planning.py does it)."""
    folder = tmp_path_factory.mktemp("published")
    path = folder / "published.db"
    shutil.copy(demo_template, path)
    app = create_app(base_config(folder, f"sqlite:///{path}"), instance_path=str(folder))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plan", "run", *WINDOW, "--time-limit", "2"])
    assert result.exit_code == 0, result.output
    plan_id = int(result.output.splitlines()[0])
    published = runner.invoke(args=["plan", "publish", str(plan_id)])
    assert published.exit_code == 0, published.output
    with app.app_context():
        # Whatever publishing scheduled (with the real clock) is cleared: tests schedule at NOW.
        db.session.execute(delete(OutboundMessage))
        db.session.commit()
        assert db.session.get(Plan, plan_id).status == "published"
        db.session.remove()
        db.engine.dispose()  # every connection closed: SQLite folds its WAL into the file
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return path, plan_id


@pytest.fixture
def published_app(tmp_path: Path, published_template: tuple[Path, int]) -> Iterator[Flask]:
    """An app on a fresh copy of the published plan; ``app.config['TEST_PLAN_ID']`` names it."""
    source, plan_id = published_template
    target = tmp_path / "published.db"
    shutil.copy(source, target)
    config = {**base_config(tmp_path, f"sqlite:///{target}"), "TEST_PLAN_ID": plan_id}
    app = create_app(config, instance_path=str(tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()
