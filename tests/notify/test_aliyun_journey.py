"""Publishing a plan with SMS_BACKEND=aliyun, on SQLite and PostgreSQL: each seated worker gets
one templated notice through the real SDK, and receipts turn them delivered."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from dispatch.models import OutboundMessage, Plan, SeatAssignment
from dispatch.models import messages as m
from dispatch.services import demo
from dispatch.services.notices import notices, templates
from tests.support.aliyun import TEMPLATES, aliyun_config
from tests.support.apps import make_app
from tests.support.published import BEFORE_DEPARTURE, plan_and_publish


def _published(app) -> int:
    plan_id = plan_and_publish(app)
    with app.app_context():
        # Publishing scheduled with the real clock; the test's clock is before departure.
        db.session.execute(delete(OutboundMessage))
        created = notices.schedule_for_published_plan(
            db.session.get(Plan, plan_id), BEFORE_DEPARTURE, app.config
        )
        db.session.commit()
        assert created > 0
    return plan_id


def test_publishing_sends_each_worker_one_templated_notice(db_url, tmp_path: Path, aliyun):
    app = make_app(tmp_path, db_url, **aliyun_config(aliyun))
    aliyun.now = lambda: BEFORE_DEPARTURE
    with app.app_context():
        demo.load_demo(workers=60)
        db.session.commit()
    _published(app)
    counts = run_tick(app, BEFORE_DEPARTURE)
    with app.app_context():
        seated = set(db.session.scalars(select(SeatAssignment.worker_id)))
        # What publishing sends at once: the departure notice, or "on the list, bus to follow"
        # while the bus has no coach yet; later notices (reminder, welfare) are not due.
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.due_at <= BEFORE_DEPARTURE)
        ).all()
        by_id = {r.id: r for r in rows}
        assert sorted(r.worker_id for r in rows) == sorted(seated) and seated
        assert {r.kind for r in rows} <= {notices.DEPARTURE, notices.WAITING}
        assert {r.status for r in rows} <= {m.MSG_SENT, m.MSG_SUPPRESSED}
        sent = [r for r in rows if r.status == m.MSG_SENT]
        assert counts["sent"] == len(sent) > 0
    assert len(aliyun.sent) == len(sent) and aliyun.duplicates() == {}
    for request in aliyun.sent:
        row = by_id[int(request["OutId"])]
        variables = json.loads(request["TemplateParam"])
        assert request["TemplateCode"] == TEMPLATES[row.kind]
        assert variables == row.params and variables  # the row's own variables, one by one
        wording = templates.TEMPLATES.get(row.kind)
        if wording is not None:  # exactly the variables of the template submitted for approval
            assert set(variables) == set(wording.variables())
        assert request["PhoneNumbers"] == row.to_phone.removeprefix("+86")
        assert request["SignName"] == "临汾人社"
    # The carriers report; the next tick reads the receipts that are due.
    for request in aliyun.sent:
        aliyun.report(request["BizId"], "delivered", at=BEFORE_DEPARTURE + timedelta(seconds=20))
    later = run_tick(app, BEFORE_DEPARTURE + timedelta(minutes=2))
    assert later["receipts"] == later["delivered"] == len(sent)
    with app.app_context():
        db.session.expire_all()
        for message_id in (r.id for r in sent):
            row = db.session.get(OutboundMessage, message_id)
            assert row.status == m.MSG_DELIVERED
            assert row.delivered_at == BEFORE_DEPARTURE + timedelta(seconds=20)
        db.session.commit()
    with app.app_context():
        db.engine.dispose()
