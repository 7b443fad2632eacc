"""The outbox tick through the real Alibaba Cloud SDK and the Dysmsapi stand-in: templates and
variables, each error class, kinds held for want of a template, per-number frequency limits."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from dispatch.models import OutboundMessage
from dispatch.models import messages as m
from dispatch.notify.outbox import HELD_TEMPLATE
from dispatch.notify.receipts import FIRST_POLLS
from dispatch.services import verification
from tests.support.aliyun import TEMPLATES
from tests.support.sms import NOW, add_message, reload_message, workers

PARAMS = {"date": "3月1日", "time": "08:00", "place": "洪洞县人社局门口", "plate": "晋L·A1234"}


RECEIPT_COUNTS = {"receipts", "delivered", "undelivered", "receipt_errors", "no_receipt"}


def tick(app, moment) -> dict[str, int]:
    """The tick's send counts (receipts read along the way are tested in test_aliyun_receipts)."""
    return {k: v for k, v in run_tick(app, moment).items() if k not in RECEIPT_COUNTS}


def _add(worker, kind: str = "departure", **values) -> int:
    params = {**PARAMS, "seat": str(worker.id)}
    return add_message(worker, kind=kind, params=params, **values).id


def test_due_rows_go_once_as_their_kinds_template_and_wait_for_a_receipt(aliyun_app, aliyun):
    with aliyun_app.app_context():
        group = workers(5)
        ids = [
            _add(w, kind)
            for w, kind in zip(
                group, ["departure", "reminder", "change", "welfare", "driver"], strict=True
            )
        ]
        db.session.commit()
    assert tick(aliyun_app, NOW) == {"sent": 5}
    assert tick(aliyun_app, NOW + timedelta(seconds=30)) == {}  # nothing due, no receipt due
    assert len(aliyun.sent) == 5 and aliyun.duplicates() == {}
    requests = {int(r["OutId"]): r for r in aliyun.sent}
    with aliyun_app.app_context():
        for message_id in ids:
            row = reload_message(message_id)
            request = requests[message_id]
            assert request["PhoneNumbers"] == row.to_phone.removeprefix("+86")
            assert request["SignName"] == "临汾人社"
            assert request["TemplateCode"] == TEMPLATES[row.kind]
            assert json.loads(request["TemplateParam"]) == row.params
            assert row.status == m.MSG_SENT and row.provider == "aliyun"
            assert row.provider_sid == request["BizId"] and row.attempts == 1
            assert row.receipt_due_at == row.sent_at + FIRST_POLLS[0]


def test_each_aliyun_answer_lands_where_it_should(aliyun_app, aliyun):
    behaviours = [
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.BUSINESS_LIMIT_CONTROL",
        "stall",
        "http500",
        "ok",
    ]
    with aliyun_app.app_context():
        group = workers(5)
        numbers = [w.phone.removeprefix("+86") for w in group]
        aliyun.behaviours.update(zip(numbers, behaviours, strict=True))
        ids = [_add(w) for w in group]
        db.session.commit()
    assert tick(aliyun_app, NOW) == {"failed": 1, "retry": 1, "unknown": 2, "sent": 1}
    with aliyun_app.app_context():
        illegal, limited, stalled, broken, fine = (reload_message(i) for i in ids)
        assert illegal.status == m.MSG_FAILED and illegal.error_code == "isv.MOBILE_NUMBER_ILLEGAL"
        assert illegal.worker.phone_invalid_at is not None
        assert (
            limited.status == m.MSG_PENDING and limited.error_code == "isv.BUSINESS_LIMIT_CONTROL"
        )
        assert timedelta(seconds=60) <= limited.due_at - NOW < timedelta(seconds=65)
        assert stalled.status == broken.status == m.MSG_UNKNOWN and stalled.error_code == "timeout"
        assert fine.status == m.MSG_SENT
        follow_up = _add(illegal.worker, "reminder")
        db.session.commit()
    aliyun.behaviours.clear()
    later = NOW + timedelta(minutes=2)
    counts = run_tick(aliyun_app, later)
    assert counts["sent"] == 1 and counts["suppressed"] == 1
    # The two in doubt are looked up by OutId: Aliyun has them, so they were sent (once).
    assert counts["found_sent"] == 2
    # The rows in doubt were never asked for again; the limited one went once, on its retry.
    assert [aliyun.attempts[n] for n in numbers] == [1, 2, 1, 1, 1]
    assert [len(aliyun.sent_to(n)) for n in numbers] == [0, 1, 1, 1, 1]
    with aliyun_app.app_context():
        assert reload_message(ids[1]).status == m.MSG_SENT
        assert reload_message(follow_up).status == m.MSG_SUPPRESSED
        for found in (reload_message(i) for i in ids[2:4]):
            assert found.status == m.MSG_SENT and found.provider == "aliyun"
            assert found.sent_at == found.claimed_at and found.error_code is None


def test_a_kind_without_template_is_held_then_sent_once_configured(aliyun_app_factory, aliyun):
    without_welfare = {k: v for k, v in TEMPLATES.items() if k != "welfare"}
    app = aliyun_app_factory(ALIYUN_SMS_TEMPLATES=json.dumps(without_welfare))
    with app.app_context():
        first, second = workers(2)
        held = _add(first, "welfare")
        departure = _add(second, "departure")
        db.session.commit()
        held_number = first.phone.removeprefix("+86")
    assert tick(app, NOW) == {"sent": 1, "no_template": 1}
    assert tick(app, NOW + timedelta(hours=1)) == {}  # not claimed again, not sent as text
    assert aliyun.attempts[held_number] == 0
    with app.app_context():
        row = reload_message(held)
        assert row.status == m.MSG_PENDING and row.error_code == HELD_TEMPLATE
        assert row.attempts == 0 and "welfare" in row.error_message
        assert reload_message(departure).status == m.MSG_SENT
    # The template is approved and configured (the app restarts with it): the next tick sends.
    configured = aliyun_app_factory()
    assert tick(configured, NOW + timedelta(hours=2)) == {"sent": 1}
    assert tick(configured, NOW + timedelta(hours=3)) == {}
    (request,) = aliyun.sent_to(held_number)
    assert request["TemplateCode"] == TEMPLATES["welfare"]
    with configured.app_context():
        row = reload_message(held)
        assert row.status == m.MSG_SENT and row.error_code is None and row.attempts == 1


def test_a_held_row_can_still_be_withdrawn_and_expires(aliyun_app_factory, aliyun):
    app = aliyun_app_factory(ALIYUN_SMS_TEMPLATES=json.dumps({"departure": "SMS_1"}))
    with app.app_context():
        one, two = workers(2)
        soon = _add(one, "reminder", expires_at=NOW + timedelta(minutes=30))
        withdrawn = _add(two, "change")
        db.session.commit()
    assert tick(app, NOW) == {"no_template": 2}
    with app.app_context():
        reload_message(withdrawn).status = m.MSG_CANCELLED  # as a republish withdraws pending rows
        db.session.commit()
    assert tick(app, NOW + timedelta(hours=1)) == {"expired": 1}
    assert tick(aliyun_app_factory(), NOW + timedelta(hours=2)) == {}
    assert aliyun.sent == []
    with app.app_context():
        assert reload_message(soon).status == m.MSG_EXPIRED


def test_per_number_limits_hold_rather_than_race_into_refusals(aliyun_app, aliyun):
    with aliyun_app.app_context():
        worker = workers(1)[0]
        number = worker.phone.removeprefix("+86")
        ids = [_add(worker, kind) for kind in ("departure", "welfare", "reminder")]
        db.session.commit()
    assert tick(aliyun_app, NOW) == {"sent": 1, "held": 2}
    with aliyun_app.app_context():
        first = reload_message(ids[0])
        held = [reload_message(i) for i in ids[1:]]
        assert {r.status for r in held} == {m.MSG_PENDING}
        assert {r.error_code for r in held} == {"carrier:rate"}
        assert {r.due_at for r in held} == {first.sent_at + timedelta(minutes=1)}
        assert {r.attempts for r in held} == {0}
    # A minute later one more may go (1 a minute), and a minute after that the last.
    assert tick(aliyun_app, NOW + timedelta(seconds=61)) == {"sent": 1, "held": 1}
    assert tick(aliyun_app, NOW + timedelta(seconds=122)) == {"sent": 1}
    assert len(aliyun.sent_to(number)) == 3 and aliyun.attempts[number] == 3


def test_hour_limit_counts_earlier_sends_and_verification_codes(aliyun_app, aliyun):
    phone_limits = "1/minute,2/hour"
    with aliyun_app.app_context():
        worker = workers(1)[0]
        number = worker.phone.removeprefix("+86")
        aliyun_app.config["ALIYUN_SMS_PER_NUMBER_LIMITS"] = phone_limits
        # the site's own minute between codes off: the carrier's minute is what is tested here
        aliyun_app.config["VERIFY_CODE_INTERVAL_S"] = 0
    from dispatch.notify.gateway import build_gateway

    aliyun_app.extensions["sms_gateway"] = build_gateway(aliyun_app.config)
    code_at = NOW - timedelta(minutes=30)
    with aliyun_app.test_request_context():
        outcome = verification.request_code(
            worker.phone,
            "ticket",
            "10.0.0.1",
            code_at,
            aliyun_app.config,
            aliyun_app.extensions["sms_gateway"],
        )
        assert outcome == "sent"
        # A second code within the minute is refused here, not by Aliyun.
        again = verification.request_code(
            worker.phone,
            "ticket",
            "10.0.0.1",
            code_at + timedelta(seconds=20),
            aliyun_app.config,
            aliyun_app.extensions["sms_gateway"],
        )
        assert again == "suppressed"
        first = _add(worker, "departure")
        second = _add(worker, "reminder")
        db.session.commit()
    assert tick(aliyun_app, NOW) == {"sent": 1, "held": 1}
    with aliyun_app.app_context():
        held = reload_message(second)
        # 2 an hour: the code 30 minutes ago and the departure now; free when the code is an hour old.
        assert held.error_code == "carrier:rate" and held.due_at == code_at + timedelta(hours=1)
        assert reload_message(first).status == m.MSG_SENT
        codes = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "verification")
        ).all()
        assert sorted(r.status for r in codes) == [m.MSG_SENT, m.MSG_SUPPRESSED]
        assert {r.error_code for r in codes if r.status == m.MSG_SUPPRESSED} == {"carrier:rate"}
    assert [r["TemplateCode"] for r in aliyun.sent_to(number)] == [
        TEMPLATES["verification"],
        TEMPLATES["departure"],
    ]
    assert json.loads(aliyun.sent_to(number)[0]["TemplateParam"])["code"].isdigit()


def test_a_code_without_a_verification_template_fails_and_is_never_sent_as_text(
    aliyun_app_factory, aliyun
):
    without = {k: v for k, v in TEMPLATES.items() if k != "verification"}
    app = aliyun_app_factory(ALIYUN_SMS_TEMPLATES=json.dumps(without))
    with app.test_request_context():
        phone = workers(1)[0].phone
        outcome = verification.request_code(
            phone, "ticket", "10.0.0.2", NOW, app.config, app.extensions["sms_gateway"]
        )
        row = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "verification")
        ).one()
        assert outcome == "failed" and row.status == m.MSG_FAILED and row.error_code == "template"
    assert sum(aliyun.attempts.values()) == 0
