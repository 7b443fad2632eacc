"""Exactly once through Alibaba Cloud: a real `flask notify tick` process SIGKILLed while it
sends through the SDK to the stand-in; the next tick sends the rest and nothing twice."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from dispatch.models import OutboundMessage
from dispatch.models import messages as m
from dispatch.notify.outbox import STALE_CLAIM
from tests.support.aliyun import TEMPLATES, aliyun_config
from tests.support.gunicorn import app_env
from tests.support.sms import NOW, add_message, tick_process, workers


def tick_env(app, standin) -> dict[str, str]:
    """A tick process's environment: ``app``'s database, unpaced, through the stand-in."""
    settings = {k: str(v) for k, v in aliyun_config(standin).items()}
    settings["ALIYUN_SMS_TEMPLATES"] = json.dumps(TEMPLATES)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    return app_env(uri, SMS_MAX_PER_SECOND="0", **settings)


def test_a_tick_killed_mid_send_never_sends_a_row_twice(aliyun_app, aliyun):
    with aliyun_app.app_context():
        group = workers()
        for worker in group:
            add_message(worker, params={"date": "3月1日", "seat": str(worker.id)})
        db.session.commit()
    total = len(group)
    aliyun.delay_s = 0.03  # a slow provider: the kill lands inside a batch
    first = tick_process(tick_env(aliyun_app, aliyun))
    deadline = time.monotonic() + 60
    while len(aliyun.sent) < 60:  # inside its second batch of 50
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    killed_after = len(aliyun.sent)
    assert killed_after < total, "the tick finished before it could be killed"
    aliyun.delay_s = 0
    # The next tick hands the dead claims to people and sends the rest.
    counts = run_tick(aliyun_app, NOW + STALE_CLAIM + timedelta(minutes=2))
    assert counts["stale"] > 0 and counts["sent"] > 0
    run_tick(aliyun_app, NOW + timedelta(hours=1))
    assert aliyun.duplicates() == {}
    reached = Counter(int(request["OutId"]) for request in aliyun.sent)
    with aliyun_app.app_context():
        rows = db.session.scalars(select(OutboundMessage)).all()
    assert len(rows) == total and set(reached) <= {r.id for r in rows}
    for row in rows:
        assert row.status in (m.MSG_SENT, m.MSG_UNKNOWN), (row.id, row.status)
        if row.status == m.MSG_SENT:
            assert reached[row.id] == 1 and row.provider == "aliyun"
        else:  # never reached Aliyun (what did was found there by OutId and is ``sent``)
            assert reached[row.id] == 0 and row.error_code == "stale"
    unknown = sum(r.status == m.MSG_UNKNOWN for r in rows)
    assert unknown < 50  # at most the unsent rest of the batch in hand when it died
    assert counts["found_sent"] > 0  # the batch's sent rows, found by OutId
    assert sum(r.status == m.MSG_SENT for r in rows) == total - unknown
