"""A coordinator's review of self-registrations: scope, checks, SMS, audit, retention."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import AuditEvent, User, Worker, utcnow
from dispatch.models.workers import PENDING, SOURCE_SELF
from dispatch.services import registration_review as service
from dispatch.services import retention, seats
from dispatch.services.worker_fields import Lookups
from dispatch.services.workers import create_worker
from tests.support.apps import COORD_PASSWORD, login
from tests.support.selfservice import e164, join_fields, join_phone, notices
from tests.support.workers import workers_where


def _pending(app, n: int, county: str = "hongtong", **changes) -> int:
    """A self-registration as /join stores it (the form's checks, then pending)."""
    fields = join_fields(n, county=county, **changes)
    with app.app_context():
        worker = create_worker(fields, None, Lookups.load())
        worker.status, worker.source = PENDING, SOURCE_SELF
        db.session.commit()
        return worker.id


def _status(app, worker_id: int) -> Worker:
    return workers_where(app, id=worker_id)[0]


def test_hong_accepts_in_bulk_and_each_worker_is_told_and_audited(client, demo_app):
    ids = [_pending(demo_app, n) for n in (1, 2)]
    login(client, "hong", COORD_PASSWORD)
    page = client.get("/registrations/").get_data(as_text=True)
    assert "自报1" in page and "自报2" in page and "通过所选" in page
    answer = client.post("/registrations/accept", data={"worker_id": [str(i) for i in ids]})
    assert answer.status_code == 303
    for worker_id, n in zip(ids, (1, 2), strict=True):
        worker = _status(demo_app, worker_id)
        assert worker.status == "registered" and worker.reviewed_at is not None
        sms = notices(demo_app, "registration", e164(join_phone(n)))
        assert len(sms) == 1 and "已审核通过" in sms[0].body and "0357-12333" in sms[0].body
        assert sms[0].params["result"].startswith("已审核通过")
    with demo_app.app_context():
        hong = db.session.scalar(select(User).where(User.username == "hong"))
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "registration.accept")
        ).all()
        assert {(e.user_id, int(e.object_id)) for e in events} == {(hong.id, i) for i in ids}
    # Accepting again changes nothing and sends nothing.
    client.post("/registrations/accept", data={"worker_id": str(ids[0])})
    assert len(notices(demo_app, "registration", e164(join_phone(1)))) == 1


def test_decline_needs_a_reason_and_sends_it(client, demo_app):
    worker_id = _pending(demo_app, 3)
    login(client, "hong", COORD_PASSWORD)
    client.post(f"/registrations/{worker_id}/decline", data={"reason": "other", "reason_text": ""})
    assert _status(demo_app, worker_id).status == "pending"
    client.post(
        f"/registrations/{worker_id}/decline", data={"reason": "dates", "reason_text": "请改报4月"}
    )
    worker = _status(demo_app, worker_id)
    assert worker.status == "cancelled" and worker.decline_reason == "所选日期暂无专车，请改报4月"
    body = notices(demo_app, "registration", e164(join_phone(3)))[0].body
    assert "未通过审核：所选日期暂无专车" in body


def test_a_coordinator_acts_only_on_their_counties(client, demo_app):
    other = _pending(demo_app, 4, county="yaodu", pickup_point="")
    login(client, "hong", COORD_PASSWORD)
    assert "自报4" not in client.get("/registrations/").get_data(as_text=True)
    client.post("/registrations/accept", data={"worker_id": str(other)})
    client.post(f"/registrations/{other}/decline", data={"reason": "dates"})
    assert _status(demo_app, other).status == "pending"
    assert notices(demo_app, "registration") == []


def test_viewers_read_masked_and_cannot_review(client, demo_app):
    worker_id = _pending(demo_app, 5)
    login(client, "viewer", COORD_PASSWORD)
    page = client.get("/registrations/").get_data(as_text=True)
    assert "自报5" in page and join_fields(5)["id_number"] not in page
    assert (
        client.post("/registrations/accept", data={"worker_id": str(worker_id)}).status_code == 403
    )


def test_acceptance_runs_the_forms_checks_again(client, demo_app):
    stale = _pending(demo_app, 6)
    with demo_app.app_context():
        worker = db.session.get(Worker, stale)
        worker.earliest_date = worker.latest_date = date.today() - timedelta(days=1)
        db.session.commit()
    login(client, "hong", COORD_PASSWORD)
    answer = client.post("/registrations/accept", data={"worker_id": str(stale)})
    assert _status(demo_app, stale).status == "pending"
    assert "最晚出发日期已过" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_a_pending_worker_cannot_be_seated_by_hand(published_app):
    from dispatch.models import Trip

    worker_id = _pending(published_app, 7)
    with published_app.app_context():
        worker = db.session.get(Worker, worker_id)
        trip = db.session.scalars(select(Trip).order_by(Trip.id)).first()
        free = max(s.seat_no for s in trip.seats) if trip.seats else 1
        try:
            seats.place(trip, free, worker, None)
        except seats.SeatError as error:
            assert "审核" in str(error)
        else:
            raise AssertionError("a pending worker was seated")


def test_registrations_nobody_accepted_are_anonymised_after_30_days(demo_app):
    now = utcnow()
    old, young, accepted, declined = (_pending(demo_app, n) for n in (8, 9, 10, 11))
    with demo_app.app_context():
        db.session.get(Worker, old).created_at = now - timedelta(days=31)
        db.session.get(Worker, young).created_at = now - timedelta(days=29)
        hong = db.session.scalar(select(User).where(User.username == "hong"))
        service.accept(hong, [accepted], now - timedelta(days=40), demo_app.config)
        service.decline(hong, declined, "dates", "", now - timedelta(days=31), demo_app.config)
        db.session.commit()
        report = retention.run_retention(now, 90, "Asia/Shanghai")
        assert report.workers >= 2
    gone = _status(demo_app, old)
    assert gone.anonymised_at is not None and gone.name == f"#{old}"
    assert gone.id_number.startswith("ANON") and gone.phone == ""
    assert gone.status == "cancelled" and gone.decline_reason == retention.UNREVIEWED_REASON
    assert _status(demo_app, declined).anonymised_at is not None
    assert _status(demo_app, young).anonymised_at is None
    assert _status(demo_app, young).status == "pending"
    assert _status(demo_app, accepted).anonymised_at is None
    assert "自报8" not in str(notices(demo_app, "registration")[0].body)  # SMS bodies blanked too


def test_the_retention_command_anonymises_a_registration_left_pending(demo_app):
    worker_id = _pending(demo_app, 12)
    later = (utcnow() + timedelta(days=31)).isoformat()
    sooner = (utcnow() + timedelta(days=29)).isoformat()
    runner = demo_app.test_cli_runner()
    assert runner.invoke(args=["retention", "run", "--now", sooner]).exit_code == 0
    assert _status(demo_app, worker_id).anonymised_at is None
    result = runner.invoke(args=["retention", "run", "--now", later])
    assert result.exit_code == 0, result.output
    gone = _status(demo_app, worker_id)
    assert gone.anonymised_at is not None and gone.status == "cancelled"
    assert gone.id_number.startswith("ANON") and gone.name == f"#{worker_id}"
