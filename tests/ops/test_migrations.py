"""Migrations build the schema from empty, on SQLite and PostgreSQL, matching the models."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models.types import exists_on
from tests.support.apps import base_config


def _context(conn) -> MigrationContext:
    """What autogenerate compares, as migrations/env.py configures it (dialect-only items aside)."""

    def include_object(obj, name, type_, reflected, compare_to):
        return reflected or exists_on(obj, conn.dialect.name)

    return MigrationContext.configure(
        conn, opts={"compare_type": True, "include_object": include_object}
    )


def test_upgrade_from_empty_matches_models_then_downgrades(tmp_path: Path, db_url: str):
    app = create_app(base_config(tmp_path, db_url), instance_path=str(tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"worker", "trip", "seat_assignment", "outbound_message", "user"} <= tables
        with db.engine.connect() as conn:
            assert compare_metadata(_context(conn), db.metadata) == []
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


def test_create_all_matches_migrations(tmp_path: Path, db_url: str):
    """Tests build their schema with create_all: it must be the schema migrations build."""
    app = create_app(base_config(tmp_path, db_url), instance_path=str(tmp_path))
    with app.app_context():
        db.create_all()
        with db.engine.connect() as conn:
            diff = compare_metadata(_context(conn), db.metadata)
        # Indexes only: SQLite's create_all may leave out the county↔site cycle's ALTER-added key.
        assert [d for d in diff if d[0] in ("add_index", "remove_index")] == []
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("worker")}
        postgres = db.engine.dialect.name == "postgresql"
        assert ("ix_worker_name_trgm" in indexes) is postgres
        db.engine.dispose()


FILL = """
INSERT INTO county (id, name_zh, name_en) VALUES ('c', '县', 'County');
INSERT INTO site (id, kind, name_zh, name_en, province, lat, lon, address)
VALUES ('p', 'pickup', '上', 'P', '', 36, 111, ''), ('d', 'dropoff', '下', 'D', '', 31, 121, '');
INSERT INTO worker (name, id_number, phone, birth_date, sex, county_id, township, pickup_site_id,
    destination_site_id, earliest_date, latest_date, sms_consent, notes, status, created_at, updated_at, version)
SELECT '工人' || i, '1410' || lpad(i::text, 14, '0'), '+86138' || lpad(i::text, 8, '0'), '1990-01-01', 'M',
    'c', '', 'p', 'd', '2026-03-01', '2026-03-02', true, '', 'registered', now(), now(), 1
FROM generate_series(1, 20000) AS i;
INSERT INTO coach_type (id, name, rated_seats, crew_seats, fixed_cost, cost_per_km) VALUES ('c53', 'C', 53, 2, 1, 1);
INSERT INTO plan (status, date_from, date_to, scope, progress, progress_message, unassigned, created_at)
VALUES ('published', '2026-03-01', '2026-03-02', '{}', 1, '', '[]', now());
INSERT INTO trip (plan_id, code, date, departure_at, coach_type_id, locked, km, cost, manifest_key, version)
SELECT 1, 'T' || t, '2026-03-01', now(), 'c53', false, 0, 0, '', 1 FROM generate_series(1, 400) AS t;
INSERT INTO seat_assignment (plan_id, trip_id, seat_no, worker_id, locked)
SELECT 1, 1 + (i - 1) / 50, 1 + (i - 1) % 50, i, false FROM generate_series(1, 20000) AS i;
INSERT INTO outbound_message (dedupe_key, kind, version, worker_id, to_phone, body, segments, urgent,
    due_at, status, attempts, created_at)
SELECT 'k' || i, 'departure', 1, i, '+86138', 'x', 1, false, now() - interval '1 day' + i * interval '1 second',
    CASE WHEN i % 100 = 0 THEN 'pending' ELSE 'sent' END, 0, now()
FROM generate_series(1, 20000) AS i;
"""


def _plan(statement) -> str:
    compiled = statement.compile(dialect=db.engine.dialect)
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    return "\n".join(row[0] for row in rows)


@pytest.mark.postgres
def test_hot_queries_use_their_indexes_on_postgresql(tmp_path: Path, pg_url: str):
    """Worker search, a trip's seats and the outbox claim are index scans on 20,000 rows."""
    from datetime import UTC, datetime

    from dispatch.models import OutboundMessage, SeatAssignment, User
    from dispatch.services.workers import WorkerFilter, filtered_query

    app = create_app(base_config(tmp_path, pg_url), instance_path=str(tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        db.session.execute(text(FILL))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum would: GIN's pending list merged
        admin = User(role="admin")
        search = filtered_query(admin, WorkerFilter(q="00012345")).limit(50)
        assert "ix_worker_phone_trgm" in _plan(search)
        assert "ix_worker_id_number_trgm" in _plan(search)
        assert "ix_worker_name_trgm" in _plan(
            filtered_query(admin, WorkerFilter(q="工人1234")).limit(50)
        )
        seats = select(SeatAssignment).where(SeatAssignment.trip_id == 7)
        assert "uq_seat_assignment_trip_id_seat_no" in _plan(seats)
        now = datetime(2030, 1, 1, tzinfo=UTC)
        claim = (
            select(OutboundMessage.id)
            .where(OutboundMessage.status == "pending", OutboundMessage.due_at <= now)
            .order_by(OutboundMessage.due_at)
            .limit(50)
            .with_for_update(skip_locked=True)
        )
        assert "ix_outbound_message_due" in _plan(claim)
        db.session.rollback()
        db.engine.dispose()


@pytest.mark.postgres
def test_postgresql_connections_run_without_jit(tmp_path: Path, pg_url: str):
    """JIT stays off on every pooled connection, also after the pool's rollback on check-in and
    on a new connection: it cost the dashboard 400-750 ms of compiling per view at 100,000
    workers (dispatch/web.py)."""
    app = create_app(base_config(tmp_path, pg_url), instance_path=str(tmp_path))
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
            conn.rollback()
        for _ in range(2):
            assert db.session.execute(text("SHOW jit")).scalar() == "off"
            db.session.rollback()
            db.session.remove()
        db.engine.dispose()
        assert db.session.execute(text("SHOW jit")).scalar() == "off"
        db.session.remove()
        db.engine.dispose()
