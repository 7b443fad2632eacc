"""Backups for real: back up, damage the database, restore, and the data is back."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text

from dispatch.extensions import db
from dispatch.models import AuditEvent, User, Worker
from dispatch.services import audit, backup
from tests.support.apps import make_app, seed_demo


def _snapshot() -> tuple:
    workers = db.session.execute(
        select(Worker.id, Worker.name, Worker.id_number).order_by(Worker.id)
    )
    users = db.session.scalars(select(User.username).order_by(User.id))
    events = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
    return [tuple(w) for w in workers], list(users), list(events)


def _release(app: Flask) -> None:
    """Close this test's connections, as a stopped app would have."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_backup_then_restore_after_damage(tmp_path: Path, db_url: str):
    app = make_app(tmp_path, db_url)
    with app.app_context():
        seed_demo(workers=30)
        audit.record(None, "test.marker", "worker", "1")
        db.session.commit()
        before = _snapshot()
    _release(app)
    runner = app.test_cli_runner()
    target = tmp_path / "backups" / "dispatch.backup"

    made = runner.invoke(args=["db", "backup", str(target)])
    assert made.exit_code == 0, made.output
    assert target.stat().st_size > 0
    again = runner.invoke(args=["db", "backup", str(target)])
    assert again.exit_code != 0 and "exists already" in again.output

    with app.app_context():  # damage: names overwritten, a table dropped, a row added
        db.session.execute(text("UPDATE worker SET name = 'damaged'"))
        db.session.execute(text("DROP TABLE audit_event"))
        db.session.add(User(username="intruder", password_hash="x"))
        db.session.commit()
        assert "audit_event" not in inspect(db.engine).get_table_names()
    _release(app)

    refused = runner.invoke(args=["db", "restore", str(target)], input="n\n")
    assert refused.exit_code != 0  # asks first
    restored = runner.invoke(args=["db", "restore", "--yes", str(target)])
    assert restored.exit_code == 0, restored.output
    with app.app_context():
        assert _snapshot() == before
        db.session.add(AuditEvent(action="after"))
        db.session.commit()  # the restored database takes writes
    _release(app)


def test_backup_of_an_unknown_file_or_engine_is_refused(tmp_path: Path):
    missing = tmp_path / "nothing.db"
    with pytest.raises(backup.BackupError, match="no SQLite database"):
        backup.backup(f"sqlite:///{missing}", tmp_path / "out.db")
    assert not (tmp_path / "out.db").exists() and not missing.exists()
    with pytest.raises(backup.BackupError, match="no backup method"):
        backup.backup("mysql://u@h/d", tmp_path / "out.db")
