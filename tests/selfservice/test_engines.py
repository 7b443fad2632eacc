"""The self-registration flow on SQLite and PostgreSQL: register, accept, decline, and the
retention rule's update of pending rows (its CASE expressions) on both engines."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import User, Worker, utcnow
from dispatch.services import registration_review, retention
from tests.support.apps import make_app, seed_demo
from tests.support.selfservice import join_fields, join_phone, sent_code


def _register(client, app, n: int) -> None:
    client.post("/join/code", data={"phone": join_phone(n)})
    code = sent_code(app, n)
    assert client.post("/join", data={**join_fields(n), "code": code}).status_code == 303


def test_register_review_and_anonymise_on_both_engines(db_url, tmp_path):
    app = make_app(tmp_path, db_url)
    with app.app_context():
        seed_demo(workers=10)
        db.session.commit()
    client = app.test_client()
    for n in (1, 2, 3):
        _register(client, app, n)
    now = utcnow()
    with app.app_context():
        hong = db.session.scalar(select(User).where(User.username == "hong"))
        ids = {
            w.name: w.id
            for w in db.session.scalars(select(Worker).where(Worker.status == "pending"))
        }
        assert set(ids) == {"自报1", "自报2", "自报3"}
        report = registration_review.accept(hong, [ids["自报1"]], now, app.config)
        assert [w.id for w in report.accepted] == [ids["自报1"]]
        registration_review.decline(hong, ids["自报2"], "details", "", now, app.config)
        db.session.commit()
        later = now + timedelta(days=31)
        result = retention.run_retention(later, 90, "Asia/Shanghai")
        assert result.workers >= 2  # the declined one and the one left pending (demo rows too)
        rows = {
            w.id: w for w in db.session.scalars(select(Worker).where(Worker.id.in_(ids.values())))
        }
        assert (
            rows[ids["自报1"]].anonymised_at is None and rows[ids["自报1"]].status == "registered"
        )
        declined, left = rows[ids["自报2"]], rows[ids["自报3"]]
        assert declined.anonymised_at and declined.decline_reason == "信息有误或不全，请来电核实"
        assert left.anonymised_at and left.status == "cancelled"
        assert left.decline_reason == retention.UNREVIEWED_REASON
    with app.app_context():
        db.engine.dispose()
