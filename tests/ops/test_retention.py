"""Retention: personal data anonymised RETENTION_DAYS after the trip, the counts kept."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.jobs import scheduler
from dispatch.models import (
    AuditEvent,
    OutboundMessage,
    Plan,
    SeatAssignment,
    Trip,
    Worker,
)
from dispatch.models.workers import BOARDED, CANCELLED, REGISTERED
from dispatch.services import audit, retention, stats
from tests.support.apps import login, make_app, seed_demo
from tests.support.workers import token_for

TRIP_DAY = date(2026, 3, 2)
DAYS = 90
DUE = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # TRIP_DAY + 91 days (Shanghai date)
NOT_YET = datetime(2026, 5, 30, 4, 0, tzinfo=UTC)  # TRIP_DAY + 89 days


def _seat(worker: Worker, day: date, seat_no: int) -> None:
    plan = Plan(status="published", date_from=day, date_to=day)
    trip = Trip(
        plan=plan,
        code=f"T{seat_no}",
        date=day,
        coach_type_id="c53",
        departure_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
    )
    db.session.add_all([plan, trip])
    db.session.flush()
    db.session.add(SeatAssignment(plan_id=plan.id, trip_id=trip.id, seat_no=seat_no, worker=worker))


def _sms(worker: Worker, status: str, n: int) -> None:
    db.session.add(
        OutboundMessage(
            dedupe_key=f"departure:{worker.id}:{n}",
            kind="departure",
            worker_id=worker.id,
            to_phone=worker.phone,
            body=f"{worker.name}，请于3月2日08:00到洪洞集合点上车",
            due_at=datetime(2026, 3, 1, tzinfo=UTC),
            status=status,
            error_message=f"The 'To' number {worker.phone} is not valid"
            if status == "failed"
            else None,
        )
    )


def _cast(app: Flask) -> dict[str, int]:
    """Give demo workers the histories retention cares about; returns their ids by role."""
    with app.app_context():
        workers = db.session.scalars(select(Worker).order_by(Worker.id)).all()
        for w in workers:  # every demo worker is past retention at DUE, unless changed below
            w.earliest_date, w.latest_date = TRIP_DAY, TRIP_DAY
        carried, late_seat, withdrawn_late, future, withdrawn_early = workers[:5]
        carried.status, carried.notes, carried.group_code = BOARDED, "腿脚不便", "ZHANG-FAMILY"
        _seat(carried, TRIP_DAY, 1)
        _sms(carried, "delivered", 1)
        _sms(carried, "failed", 2)
        _sms(carried, "pending", 3)
        _seat(late_seat, TRIP_DAY + timedelta(days=30), 2)  # a seat after the latest date counts
        withdrawn_late.status = CANCELLED
        future.latest_date = date(2026, 9, 1)
        withdrawn_early.status = CANCELLED
        db.session.flush()
        audit.record(None, "worker.create", "worker", carried.id, {"name": carried.name})
        db.session.add(
            AuditEvent(
                action="worker.export",
                object_type="export",
                object_id="csv",
                at=datetime(2026, 3, 2, 12, tzinfo=UTC),
                detail={"filters": {"q": carried.name}},
            )
        )
        ids = {
            "carried": carried.id,
            "late_seat": late_seat.id,
            "withdrawn_late": withdrawn_late.id,
            "future": future.id,
            "withdrawn_early": withdrawn_early.id,
        }
        db.session.commit()
        # A withdrawal counts from when it happened: this one is recent at DUE.
        db.session.execute(
            Worker.__table__.update()
            .where(Worker.id == withdrawn_late.id)
            .values(updated_at=datetime(2026, 5, 20, tzinfo=UTC))
        )
        db.session.execute(
            Worker.__table__.update()
            .where(Worker.id == withdrawn_early.id)
            .values(updated_at=datetime(2026, 1, 5, tzinfo=UTC))
        )
        db.session.commit()
        return ids


@pytest.fixture
def cast_app(tmp_path: Path, db_url: str):
    app = make_app(tmp_path, db_url, RETENTION_DAYS=DAYS)
    with app.app_context():
        seed_demo(workers=40)
        db.session.commit()
    ids = _cast(app)
    yield app, ids
    with app.app_context():
        db.engine.dispose()


def _funnels() -> tuple:
    found = stats.funnels(None)
    return [(r.key, r.counts) for r in found.by_county], [
        (r.key, r.counts) for r in found.by_destination
    ]


def _facts() -> list[tuple]:
    """What statistics may use: per worker, everything but the personal fields."""
    rows = db.session.execute(
        select(
            Worker.id,
            Worker.county_id,
            Worker.destination_site_id,
            Worker.pickup_site_id,
            Worker.employer_id,
            Worker.sex,
            Worker.status,
            func.extract("year", Worker.birth_date),
        ).order_by(Worker.id)
    )
    seats = db.session.execute(select(SeatAssignment.worker_id, SeatAssignment.trip_id))
    return [tuple(r) for r in rows] + sorted(tuple(s) for s in seats)


def test_anonymises_past_workers_and_keeps_the_counts(cast_app):
    app, ids = cast_app
    with app.app_context():
        before_funnels, before_facts = _funnels(), _facts()
        carried = db.session.get(Worker, ids["carried"])
        personal = (carried.name, carried.id_number, carried.phone)
        assert retention.run_retention(NOT_YET, DAYS, "Asia/Shanghai").workers == 0

        report = retention.run_retention(DUE, DAYS, "Asia/Shanghai", batch_size=7)

        kept = {ids["late_seat"], ids["withdrawn_late"], ids["future"]}
        assert report.workers == 40 - len(kept)
        assert _funnels() == before_funnels and _facts() == before_facts
        workers = db.session.scalars(select(Worker)).all()
        for w in workers:
            assert (w.anonymised_at is None) == (w.id in kept)
        w = db.session.get(Worker, ids["carried"])
        assert (w.name, w.id_number, w.phone, w.township, w.notes, w.group_code) == (
            f"#{w.id}",
            f"ANON{w.id:014d}",
            "",
            "",
            "",
            None,
        )
        assert w.birth_date.month == w.birth_date.day == 1
        assert len({x.id_number for x in workers}) == len(workers)
        messages = db.session.scalars(select(OutboundMessage)).all()
        assert report.messages == len(messages) == 3
        assert all(m.body == m.to_phone == "" and m.error_message is None for m in messages)
        assert {m.status for m in messages} == {"delivered", "failed", "cancelled"}
        everything = " ".join(str(e.detail) for e in db.session.scalars(select(AuditEvent)))
        for value in personal:
            assert value not in everything
        [entry] = db.session.scalars(select(AuditEvent).filter_by(action="retention.anonymise"))
        assert entry.detail["workers"] == report.workers and entry.detail["messages"] == 3
        assert entry.detail["audit_events"] == report.audit_events == 2


def test_running_again_changes_nothing(cast_app):
    app, _ = cast_app
    with app.app_context():
        assert retention.run_retention(DUE, DAYS, "Asia/Shanghai").workers > 0
        snapshot = [(w.id, w.name, w.version) for w in db.session.scalars(select(Worker))]
        again = retention.run_retention(DUE, DAYS, "Asia/Shanghai")
        assert not again.changed
        assert [(w.id, w.name, w.version) for w in db.session.scalars(select(Worker))] == snapshot
        assert (
            db.session.scalar(
                select(func.count()).where(AuditEvent.action == "retention.anonymise")
            )
            == 1
        )


def test_dry_run_counts_and_writes_nothing(cast_app):
    app, _ = cast_app
    with app.app_context():
        report = retention.run_retention(DUE, DAYS, "Asia/Shanghai", dry_run=True)
        assert report.dry_run and report.workers == 37 and report.messages == 3
        assert db.session.scalar(select(func.count()).where(Worker.anonymised_at.is_not(None))) == 0


def test_old_import_previews_are_deleted(tmp_path: Path, app: Flask):
    imports = tmp_path / "imports"
    imports.mkdir()
    old, fresh = imports / "old.json", imports / "fresh.json"
    old.write_text("{}")
    fresh.write_text("{}")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    with app.app_context():
        report = retention.run_retention(datetime.now(UTC), DAYS, "Asia/Shanghai", imports)
    assert report.import_previews == 1 and not old.exists() and fresh.exists()


def test_scheduler_runs_retention_daily_at_the_configured_time(tmp_path: Path):
    app = make_app(tmp_path, RETENTION_DAYS=30, RETENTION_TIME="02:15")
    background = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler._add_retention(background, app)
    job = background.get_job("retention")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "15")
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    (tmp_path / "off").mkdir()
    off = make_app(tmp_path / "off", RETENTION_DAYS=None)
    background = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler._add_retention(background, off)
    assert background.get_job("retention") is None and scheduler.run_retention(off) is None


# --- the command line, pages, API and exports on the demo -----------------------------


@pytest.fixture
def anonymised_demo(demo_app: Flask) -> Flask:
    """The demo with every worker anonymised (the demo's trips are spring 2026)."""
    result = demo_app.test_cli_runner().invoke(
        args=["retention", "run", "--now", "2030-01-01T04:00"]
    )
    assert result.exit_code == 0, result.output
    assert "200 workers anonymised" in result.output
    return demo_app


def test_cli_dry_run_then_run(demo_app: Flask):
    runner = demo_app.test_cli_runner()
    dry = runner.invoke(args=["retention", "run", "--dry-run", "--now", "2030-01-01T04:00"])
    assert dry.exit_code == 0 and "200 workers due" in dry.output
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).where(Worker.anonymised_at.is_not(None))) == 0
    early = runner.invoke(args=["retention", "run", "--now", "2026-03-01T04:00"])
    assert early.exit_code == 0 and "0 workers anonymised" in early.output


def test_pages_show_anonymised_workers_and_refuse_edits(anonymised_demo: Flask):
    client = anonymised_demo.test_client()
    login(client)
    with anonymised_demo.app_context():
        worker = db.session.scalars(select(Worker).order_by(Worker.id.desc())).first()
        assert worker.status == REGISTERED
    listing = client.get("/workers/")
    assert listing.status_code == 200 and f"#{worker.id}</a>" in listing.text
    page = client.get(f"/workers/{worker.id}")
    assert page.status_code == 200 and 'id="anonymised"' in page.text
    assert 'class="primary" type="submit"' not in page.text  # no Save
    assert "/withdraw" not in page.text
    posted = client.post(f"/workers/{worker.id}", data={"name": "张三", "id_number": "x"})
    assert posted.status_code == 200
    with anonymised_demo.app_context():
        assert db.session.get(Worker, worker.id).name == f"#{worker.id}"


def test_api_marks_anonymised_workers_and_refuses_changes(anonymised_demo: Flask):
    client = anonymised_demo.test_client()
    auth = token_for(anonymised_demo, "admin")
    listed = client.get("/api/v1/workers?per_page=5", headers=auth).get_json()["items"]
    assert listed and all(w["anonymised"] and w["phone"] == "" for w in listed)
    worker_id = listed[0]["id"]
    patched = client.patch(f"/api/v1/workers/{worker_id}", json={"notes": "x"}, headers=auth)
    assert patched.status_code == 409


def test_exports_of_anonymised_workers(anonymised_demo: Flask):
    client = anonymised_demo.test_client()
    login(client)
    full_csv = client.get("/workers/export.csv?full=1")
    assert full_csv.status_code == 200
    rows = list(csv.reader(io.StringIO(full_csv.data.decode("utf-8-sig"))))[1:]
    assert len(rows) == 200 and all(r[0].startswith("#") and r[1].startswith("ANON") for r in rows)
    xlsx = client.get("/workers/export.xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book.worksheets[0].max_row == 201


def test_pages_with_published_trips_and_sms_after_anonymising(demo_app: Flask):
    """Trip, plan, message, manifest and dashboard pages still work and show no personal data."""
    runner = demo_app.test_cli_runner()
    planned = runner.invoke(
        args=["plan", "run", "--from", "2026-02-28", "--to", "2026-03-03", "--time-limit", "2"]
    )
    plan_id = int(planned.output.splitlines()[0])
    assert runner.invoke(args=["plan", "publish", str(plan_id)]).exit_code == 0
    with demo_app.app_context():
        trip = db.session.scalars(select(Trip).where(Trip.plan_id == plan_id)).first()
        seated = [s.worker for s in trip.seats]
        personal = [w.name for w in seated] + [w.phone[3:] for w in seated]
        personal += [w.id_number for w in seated]
        for n, worker in enumerate(seated):  # publishing after the trip queued nothing
            _sms(worker, "delivered", n)
        db.session.commit()
        sms = db.session.scalar(select(func.count()).where(OutboundMessage.body != ""))
        trip_id = trip.id
    assert sms > 0
    result = runner.invoke(args=["retention", "run", "--now", "2030-01-01T04:00"])
    assert result.exit_code == 0 and f"{sms} SMS" in result.output
    client = demo_app.test_client()
    login(client)
    auth = token_for(demo_app, "admin")
    pages = [
        "/",
        "/messages/",
        f"/plans/{plan_id}",
        f"/trips/{trip_id}",
        f"/trips/{trip_id}/manifest",
        "/workers/?status=assigned",
        "/workers/audit",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        leaked = [p for p in personal if p in response.text]
        assert not leaked, (url, leaked)
    for url in (f"/api/v1/trips/{trip_id}", "/api/v1/messages"):
        response = client.get(url, headers=auth)
        assert response.status_code == 200, url
        assert not [p for p in personal if p in response.text], url
