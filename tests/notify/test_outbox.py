"""The outbox tick end to end: real twilio client, fake Twilio server, SQLite demo data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from dispatch.models import OutboundMessage, utcnow
from dispatch.models import messages as m
from dispatch.notify.outbox import STALE_CLAIM, TickOptions, claim_next
from dispatch.notify.sending import MAX_ATTEMPTS, send_due_messages
from tests.support.sms import NOW, add_message, reload_message, workers


def test_due_rows_are_sent_once_and_recorded(sms_app, fake_twilio):
    with sms_app.app_context():
        ids = [add_message(w).id for w in workers(5)]
        later = add_message(workers(6)[5], due_at=NOW + timedelta(hours=1)).id
        db.session.commit()
    assert run_tick(sms_app, NOW) == {"sent": 5}
    assert run_tick(sms_app, NOW + timedelta(minutes=1)) == {}
    assert len(fake_twilio.created) == 5 and not fake_twilio.duplicates()
    with sms_app.app_context():
        for message_id in ids:
            row = reload_message(message_id)
            assert row.status == m.MSG_SENT and row.provider == "twilio"
            assert row.provider_sid.startswith("SM") and row.provider_status == "queued"
            assert row.segments == 1 and row.attempts == 1
            assert abs(row.sent_at - NOW) < timedelta(seconds=5)
        assert reload_message(later).status == m.MSG_PENDING


def test_each_provider_answer_lands_where_it_should(sms_app, fake_twilio):
    behaviours = ["21211", "21610", "429", "hang", "ok"]
    with sms_app.app_context():
        group = workers(5)
        phones = [w.phone for w in group]
        fake_twilio.behaviours.update(zip(phones, behaviours, strict=True))
        ids = [add_message(w).id for w in group]
        db.session.commit()
    counts = run_tick(sms_app, NOW)
    assert counts == {"failed": 2, "retry": 1, "unknown": 1, "sent": 1}
    with sms_app.app_context():
        invalid, unsubscribed, busy, slow, fine = (reload_message(i) for i in ids)
        assert invalid.status == m.MSG_FAILED and invalid.error_code == "21211"
        assert invalid.worker.phone_invalid_at is not None
        assert unsubscribed.worker.opted_out_at is not None
        assert unsubscribed.worker.opt_out_source == "provider"
        assert busy.status == m.MSG_PENDING and busy.attempts == 1
        assert timedelta(seconds=60) <= busy.due_at - NOW < timedelta(seconds=65)
        assert slow.status == m.MSG_UNKNOWN and fine.status == m.MSG_SENT
        # Later notices to the refused numbers never reach the provider.
        follow_ups = [add_message(r.worker).id for r in (invalid, unsubscribed)]
        db.session.commit()
    fake_twilio.behaviours.clear()
    assert run_tick(sms_app, NOW + timedelta(minutes=2)) == {"sent": 1, "suppressed": 2}
    assert fake_twilio.sent_to(phones[3]) == 1  # the unknown one was not sent again
    assert fake_twilio.attempts[phones[2]] == 2 and fake_twilio.sent_to(phones[2]) == 1
    with sms_app.app_context():
        assert {reload_message(i).status for i in follow_ups} == {m.MSG_SUPPRESSED}


def test_temporary_failures_retry_with_backoff_then_give_up(sms_app, fake_twilio):
    with sms_app.app_context():
        worker = workers(1)[0]
        phone = worker.phone
        fake_twilio.behaviours[phone] = "500"
        message_id = add_message(worker).id
        db.session.commit()
    moment = NOW
    for _ in range(MAX_ATTEMPTS + 2):
        run_tick(sms_app, moment)
        moment += timedelta(hours=2)
    assert fake_twilio.attempts[phone] == MAX_ATTEMPTS
    with sms_app.app_context():
        row = reload_message(message_id)
        assert (
            row.status == m.MSG_FAILED and row.attempts == MAX_ATTEMPTS and row.error_code == "500"
        )


def test_a_provider_outage_stops_the_tick_early(sms_app, fake_twilio):
    with sms_app.app_context():
        group = workers(6)
        for worker in group:
            fake_twilio.behaviours[worker.phone] = "500"
        for worker in group:
            add_message(worker)
        db.session.commit()
    assert run_tick(sms_app, NOW) == {"retry": 3}
    with sms_app.app_context():
        untouched = db.session.scalars(select(OutboundMessage).filter_by(attempts=0)).all()
        assert len(untouched) == 3 and {r.status for r in untouched} == {m.MSG_PENDING}


def test_expired_rows_are_not_sent_and_validity_follows_expiry(sms_app, fake_twilio):
    with sms_app.app_context():
        old, fresh = workers(2)
        fresh_phone = fresh.phone
        gone = add_message(old, expires_at=NOW - timedelta(seconds=1)).id
        add_message(fresh, expires_at=NOW + timedelta(hours=2))
        db.session.commit()
    assert run_tick(sms_app, NOW) == {"expired": 1, "sent": 1}
    (form,) = fake_twilio.created
    assert form["To"] == fresh_phone and 7190 <= int(form["ValidityPeriod"]) <= 7200
    with sms_app.app_context():
        assert reload_message(gone).status == m.MSG_EXPIRED


def test_no_consent_opt_out_invalid_or_changed_number_is_suppressed(sms_app, fake_twilio):
    with sms_app.app_context():
        no_consent, opted_out, invalid, moved, fine = workers(5)
        no_consent.sms_consent = False
        opted_out.opted_out_at, opted_out.opt_out_source = NOW, "hotline"
        invalid.phone_invalid_at = NOW
        stale_number = add_message(moved).id
        moved.phone = "+8613900139000"
        for worker in (no_consent, opted_out, invalid, fine):
            add_message(worker)
        fine_phone = fine.phone
        db.session.commit()
    assert run_tick(sms_app, NOW) == {"suppressed": 4, "sent": 1}
    assert [f["To"] for f in fake_twilio.created] == [fine_phone]
    with sms_app.app_context():
        reasons = [
            r.error_message
            for r in db.session.scalars(select(OutboundMessage).filter_by(status="suppressed"))
        ]
        assert any("consent" in r for r in reasons) and any("hotline" in r for r in reasons)
        assert any("invalid" in r for r in reasons)
        assert "number changed" in reload_message(stale_number).error_message


def test_carrier_limits_hold_a_fifth_distinct_text_and_drop_a_third_identical(sms_app, fake_twilio):
    with sms_app.app_context():
        worker, other = workers(2)
        # 23:30 on 28 Feb in Shanghai is yesterday, though the same UTC day as 01:00 on 1 March.
        add_message(
            worker,
            body="昨天的通知",
            status=m.MSG_SENT,
            sent_at=datetime(2026, 2, 28, 15, 30, tzinfo=UTC),
        )
        for hour in (17, 18, 19):  # 01:00-03:00 on 1 March, Shanghai
            add_message(
                worker,
                body=f"今天{hour}",
                status=m.MSG_SENT,
                sent_at=datetime(2026, 2, 28, hour, tzinfo=UTC),
            )
        fourth = add_message(worker, body="第四条").id
        db.session.commit()
    assert run_tick(sms_app, NOW) == {"sent": 1}  # yesterday's text does not count
    with sms_app.app_context():
        worker, other = workers(2)
        fifth = add_message(worker, body="第五条").id
        urgent = add_message(worker, body="紧急变更", urgent=True).id
        repeat = add_message(worker, body="今天17").id  # not a new distinct text
        add_message(other, body="同一条", status=m.MSG_SENT, sent_at=NOW - timedelta(hours=23))
        add_message(other, body="同一条", status=m.MSG_SENT, sent_at=NOW - timedelta(hours=2))
        third = add_message(other, body="同一条").id
        db.session.commit()
    assert run_tick(sms_app, NOW) == {"held": 1, "suppressed": 2, "sent": 1}
    with sms_app.app_context():
        assert (
            reload_message(fourth).status == m.MSG_SENT
            and reload_message(repeat).status == m.MSG_SENT
        )
        held = reload_message(fifth)
        assert held.status == m.MSG_PENDING and held.attempts == 0
        assert held.due_at == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # midnight in Shanghai
        assert (
            reload_message(urgent).status == m.MSG_SUPPRESSED
            and reload_message(urgent).error_code == "carrier:daily"
        )
        assert reload_message(third).error_code == "carrier:repeat"
    # Next local day, once quiet hours are over (07:00 Shanghai), the held text goes.
    assert run_tick(sms_app, datetime(2026, 3, 1, 23, 0, tzinfo=UTC)) == {"sent": 1}


def test_crash_between_claim_and_send_is_never_sent_and_becomes_unknown(sms_app, fake_twilio):
    with sms_app.app_context():
        message_id = add_message(workers(1)[0]).id
        db.session.commit()
        assert claim_next(NOW, NOW, "doomed-tick", urgent_only=False) == message_id
        # ...the process dies here, before the send.
    assert run_tick(sms_app, NOW + timedelta(minutes=1)) == {}
    assert run_tick(sms_app, NOW + STALE_CLAIM + timedelta(seconds=1)) == {"stale": 1}
    assert run_tick(sms_app, NOW + timedelta(days=1)) == {}
    assert fake_twilio.created == []
    with sms_app.app_context():
        row = reload_message(message_id)
        assert row.status == m.MSG_UNKNOWN and row.claimed_by == "doomed-tick"


class _DyingGateway:
    """A process killed while the request is in flight (BaseException escapes every handler)."""

    name = "dying"

    def send(self, sms):
        raise KeyboardInterrupt


def test_crash_during_send_leaves_the_row_to_a_person(sms_app):
    with sms_app.app_context():
        message_id = add_message(workers(1)[0]).id
        db.session.commit()
        try:
            send_due_messages(_DyingGateway(), NOW, TickOptions())
        except KeyboardInterrupt:
            db.session.rollback()
        assert reload_message(message_id).status == m.MSG_SENDING
    assert run_tick(sms_app, NOW + STALE_CLAIM * 2) == {"stale": 1}


def test_quiet_hours_and_the_eight_hour_trap(sms_app, fake_twilio):
    seven_local = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # 07:00 on 1 March in Shanghai
    with sms_app.app_context():
        reminder_worker, urgent_worker = workers(2)
        reminder = add_message(reminder_worker, kind="reminder", due_at=seven_local).id
        add_message(
            urgent_worker, kind="change", urgent=True, due_at=seven_local - timedelta(hours=2)
        )
        db.session.commit()
    # 05:00 Shanghai: only the urgent change goes; the reminder is not yet due.
    assert run_tick(sms_app, seven_local - timedelta(hours=2)) == {"sent": 1}
    # 06:59 Shanghai (22:59 UTC): inside quiet hours, even though the row is due.
    with sms_app.app_context():
        db.session.get(OutboundMessage, reminder).due_at = seven_local - timedelta(minutes=30)
        db.session.commit()
    assert run_tick(sms_app, seven_local - timedelta(minutes=1)) == {"quiet": 1}
    # 07:00 Shanghai = 23:00 UTC the day before: it goes now, not 8 h later.
    assert run_tick(sms_app, seven_local) == {"sent": 1}
    with sms_app.app_context():
        assert abs(reload_message(reminder).sent_at - seven_local) < timedelta(seconds=5)


def test_pacing_spaces_sends(sms_app, fake_twilio):
    import time

    with sms_app.app_context():
        for worker in workers(3):
            add_message(worker)
        db.session.commit()
        started = time.monotonic()
        counts = send_due_messages(
            sms_app.extensions["sms_gateway"], NOW, TickOptions(per_second=10)
        )
        assert counts == {"sent": 3} and time.monotonic() - started >= 0.2


def test_cli_tick_prints_counts_and_reads_naive_times_as_shanghai(sms_app, fake_twilio):
    with sms_app.app_context():
        add_message(workers(1)[0], due_at=datetime(2026, 2, 28, 22, 30, tzinfo=UTC))
        db.session.commit()
    runner = sms_app.test_cli_runner()
    early = runner.invoke(args=["notify", "tick", "--now", "2026-03-01T06:59"])
    assert early.exit_code == 0 and early.output.strip() == "quiet=1"
    result = runner.invoke(args=["notify", "tick", "--now", "2026-03-01T07:00"])
    assert result.exit_code == 0 and result.output.strip() == "sent=1"
    again = runner.invoke(args=["notify", "tick", "--now", utcnow().isoformat()])
    assert again.output.strip() == "nothing due"
