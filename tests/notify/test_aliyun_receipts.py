"""Delivery receipts polled with QuerySendDetails through the real SDK and the stand-in: the
back-off ladder, delivered and failed, the 72 h end, and nothing ever moving backwards."""

from __future__ import annotations

from datetime import timedelta

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from dispatch.models import messages as m
from dispatch.notify.outbox import STALE_CLAIM, claim_next
from dispatch.notify.receipts import next_receipt_poll
from tests.support.sms import NOW, add_message, reload_message, workers

PARAMS = {"date": "3月1日", "time": "08:00", "place": "洪洞县人社局门口", "plate": "晋L·A1234"}


def _sent(app, count: int = 1) -> list[int]:
    """``count`` departure notices sent at NOW (one per worker); their ids."""
    with app.app_context():
        ids = [add_message(w, params=PARAMS).id for w in workers(count)]
        db.session.commit()
    assert run_tick(app, NOW) == {"sent": count}
    return ids


def test_a_receipt_turns_the_row_delivered_and_polling_stops(aliyun_app, aliyun):
    (message_id,) = _sent(aliyun_app)
    assert run_tick(aliyun_app, NOW + timedelta(seconds=30)) == {}
    assert aliyun.queries == []  # not due before a minute
    assert run_tick(aliyun_app, NOW + timedelta(seconds=61)) == {"receipts": 1}
    with aliyun_app.app_context():
        row = reload_message(message_id)
        assert row.status == m.MSG_SENT and row.receipt_due_at == row.sent_at + timedelta(minutes=5)
        biz_id = row.provider_sid
    aliyun.report(biz_id, "delivered", at=NOW + timedelta(seconds=90))
    assert run_tick(aliyun_app, NOW + timedelta(minutes=2)) == {}  # next question at 5 min
    counts = run_tick(aliyun_app, NOW + timedelta(minutes=5, seconds=1))
    assert counts == {"receipts": 1, "delivered": 1}
    with aliyun_app.app_context():
        row = reload_message(message_id)
        assert row.status == m.MSG_DELIVERED and row.provider_status == "delivered"
        assert row.delivered_at == NOW + timedelta(seconds=90)  # the carrier's time, not ours
        assert row.receipt_due_at is None
    assert run_tick(aliyun_app, NOW + timedelta(hours=2)) == {}
    assert len(aliyun.queries) == 2


def test_receipts_back_off_then_stop_after_72_hours(aliyun_app, aliyun):
    (message_id,) = _sent(aliyun_app)
    asked = []
    while (due := _due_at(aliyun_app, message_id)) is not None:
        # A tick a second early asks nothing; one a second late asks once.
        assert run_tick(aliyun_app, due - timedelta(seconds=1)) == {}
        before = len(aliyun.queries)
        run_tick(aliyun_app, due + timedelta(seconds=1))
        assert len(aliyun.queries) == before + 1
        asked.append(due)
        assert len(asked) < 100, "polling never stops"
    sent_at = asked[0] - timedelta(minutes=1)
    offsets = [(t - sent_at) / timedelta(minutes=1) for t in asked]
    # 1, 5 and 15 minutes, then every hour up to 72 h: 75 questions, never more.
    assert offsets == [1, 5, 15, *(60 * h for h in range(1, 73))]
    assert run_tick(aliyun_app, NOW + timedelta(hours=80)) == {}
    with aliyun_app.app_context():
        row = reload_message(message_id)
        assert row.status == m.MSG_SENT and row.provider_status == "no-receipt"
        assert row.receipt_due_at is None and row.sent_at == sent_at


def _due_at(app, message_id: int):
    with app.app_context():
        due = reload_message(message_id).receipt_due_at
        db.session.commit()
        return due


def test_the_ladder_skips_rungs_a_late_tick_missed():
    sent = NOW
    assert next_receipt_poll(sent, sent + timedelta(seconds=61)) == sent + timedelta(minutes=5)
    assert next_receipt_poll(sent, sent + timedelta(minutes=40)) == sent + timedelta(hours=1)
    assert next_receipt_poll(sent, sent + timedelta(hours=5, minutes=1)) == sent + timedelta(
        hours=6
    )
    assert next_receipt_poll(sent, sent + timedelta(hours=71, minutes=59)) == sent + timedelta(
        hours=72
    )
    assert next_receipt_poll(sent, sent + timedelta(hours=72)) is None


def test_a_failed_receipt_keeps_its_code_and_an_illegal_number_is_marked(aliyun_app, aliyun):
    illegal, other = _sent(aliyun_app, 2)
    with aliyun_app.app_context():
        aliyun.report(reload_message(illegal).provider_sid, "failed", "isv.MOBILE_NUMBER_ILLEGAL")
        aliyun.report(reload_message(other).provider_sid, "failed", "MK:0001")
    assert run_tick(aliyun_app, NOW + timedelta(minutes=1, seconds=5)) == {
        "receipts": 2,
        "undelivered": 2,
    }
    with aliyun_app.app_context():
        bad, switched_off = reload_message(illegal), reload_message(other)
        assert bad.status == switched_off.status == m.MSG_FAILED
        assert (
            bad.error_code == "isv.MOBILE_NUMBER_ILLEGAL" and switched_off.error_code == "MK:0001"
        )
        assert bad.worker.phone_invalid_at is not None
        # A carrier's own code mixes "no such number" with "switched off": the number stays.
        assert switched_off.worker.phone_invalid_at is None
        follow_up = add_message(bad.worker, params=PARAMS, kind="reminder").id
        db.session.commit()
    assert run_tick(aliyun_app, NOW + timedelta(minutes=10)) == {"suppressed": 1}
    with aliyun_app.app_context():
        assert reload_message(follow_up).status == m.MSG_SUPPRESSED


def test_receipts_never_move_a_row_backwards(aliyun_app, aliyun):
    done, cancelled = _sent(aliyun_app, 2)
    with aliyun_app.app_context():
        # Something got there first (a person, another process): the rows are final.
        first, second = reload_message(done), reload_message(cancelled)
        first.status, second.status = m.MSG_DELIVERED, m.MSG_FAILED
        db.session.commit()
        aliyun.report(second.provider_sid, "delivered")
    assert run_tick(aliyun_app, NOW + timedelta(minutes=1, seconds=5)) == {}
    assert aliyun.queries == []
    with aliyun_app.app_context():
        assert reload_message(done).status == m.MSG_DELIVERED
        assert reload_message(cancelled).status == m.MSG_FAILED


def test_an_unreachable_provider_postpones_receipts_and_the_tick_stops_early(aliyun_app, aliyun):
    ids = _sent(aliyun_app, 5)
    aliyun.stop()  # connections refused from now on
    counts = run_tick(aliyun_app, NOW + timedelta(minutes=1, seconds=5))
    assert counts == {"receipt_errors": 3}  # three failures in a row: the rest wait
    with aliyun_app.app_context():
        rows = [reload_message(i) for i in ids]
        assert {r.status for r in rows} == {m.MSG_SENT}
        due = sorted(r.receipt_due_at - r.sent_at for r in rows)
        assert due == [timedelta(minutes=1)] * 2 + [timedelta(minutes=5)] * 3


def test_cli_tick_prints_the_receipts_it_read(aliyun_app, aliyun):
    (message_id,) = _sent(aliyun_app)
    with aliyun_app.app_context():
        aliyun.report(reload_message(message_id).provider_sid, "delivered", at=NOW)
    later = (NOW + timedelta(minutes=2)).isoformat()
    result = aliyun_app.test_cli_runner().invoke(args=["notify", "tick", "--now", later])
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["delivered=1", "receipts=1"]


def test_a_row_in_doubt_aliyun_never_got_stays_for_a_person_and_is_never_resent(aliyun_app, aliyun):
    with aliyun_app.app_context():
        worker = workers(1)[0]
        message_id = add_message(worker, params=PARAMS).id
        db.session.commit()
        # A tick claimed it and died before the request left.
        assert claim_next(NOW, NOW, "doomed-tick", urgent_only=False) == message_id
    stale_at = NOW + STALE_CLAIM + timedelta(seconds=1)
    assert run_tick(aliyun_app, stale_at) == {"stale": 1, "in_doubt": 1}
    query = aliyun.queries[-1]
    assert "BizId" not in query and query["SendDate"] == "20260301"
    moment = stale_at
    for _ in range(200):
        with aliyun_app.app_context():
            due = reload_message(message_id).receipt_due_at
            db.session.commit()
        if due is None:
            break
        moment = due + timedelta(seconds=1)
        assert run_tick(aliyun_app, moment) == {"in_doubt": 1}
    assert moment - NOW <= timedelta(hours=72, seconds=2)  # asked for 72 h, then left alone
    assert aliyun.sent == [] and aliyun.attempts == {}
    with aliyun_app.app_context():
        row = reload_message(message_id)
        assert row.status == m.MSG_UNKNOWN and row.error_code == "stale"


def test_a_send_that_timed_out_is_found_by_its_out_id_and_then_delivered(aliyun_app, aliyun):
    with aliyun_app.app_context():
        worker = workers(1)[0]
        aliyun.behaviours[worker.phone.removeprefix("+86")] = "stall"
        message_id = add_message(worker, params=PARAMS).id
        db.session.commit()
    assert run_tick(aliyun_app, NOW) == {"unknown": 1}
    aliyun.behaviours.clear()
    assert run_tick(aliyun_app, NOW + timedelta(minutes=1, seconds=5)) == {"found_sent": 1}
    with aliyun_app.app_context():
        row = reload_message(message_id)
        assert row.status == m.MSG_SENT and row.provider == "aliyun" and row.error_code is None
        assert row.provider_sid is None  # Aliyun lists OutId, not BizId: later asked by OutId
    (accepted,) = aliyun.sent
    aliyun.report(accepted["BizId"], "delivered", at=NOW + timedelta(seconds=40))
    assert run_tick(aliyun_app, NOW + timedelta(minutes=5, seconds=5)) == {
        "receipts": 1,
        "delivered": 1,
    }
    assert len(aliyun.sent) == 1 and aliyun.attempts[accepted["PhoneNumbers"]] == 1
    with aliyun_app.app_context():
        assert reload_message(message_id).status == m.MSG_DELIVERED
