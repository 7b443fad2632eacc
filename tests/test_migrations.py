"""Migrations build the schema from empty, on SQLite and PostgreSQL, matching the models."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dispatch import create_app
from dispatch.extensions import db
from tests.conftest import base_config


def test_upgrade_from_empty_matches_models_then_downgrades(tmp_path: Path, db_url: str):
    app = create_app(base_config(tmp_path, db_url), instance_path=str(tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"worker", "trip", "seat_assignment", "outbound_message", "user"} <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_constraints_have_stable_names(tmp_path: Path):
    app = create_app(base_config(tmp_path), instance_path=str(tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        uniques = inspect(db.engine).get_unique_constraints("seat_assignment")
        names = {u["name"] for u in uniques}
        assert "uq_seat_assignment_trip_id_seat_no" in names
        assert "uq_seat_assignment_plan_id_worker_id" in names
        db.engine.dispose()
