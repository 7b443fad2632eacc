"""Two real `flask notify tick` processes draining one outbox: nothing is sent twice."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import OutboundMessage
from tests.support.sms import add_message, tick_process, twilio_env, workers

PER_WORKER = 3  # distinct texts per worker: within the carrier's 4 a day


def test_two_tick_processes_never_send_a_message_twice(db_url, app_on, fake_twilio):
    app = app_on(db_url)
    fake_twilio.delay_s = 0.03  # long enough for both processes to be draining at once
    with app.app_context():
        for worker in workers():
            for n in range(PER_WORKER):
                add_message(worker, body=f"【临汾人社】第{n}条通知。回T退订")
        db.session.commit()
        total = len(workers()) * PER_WORKER
    processes = [
        tick_process(twilio_env(db_url, fake_twilio, SMS_MAX_PER_SECOND="0")) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    sent = sum(int(p.split("=")[1]) for o, _ in outputs for p in o.split() if p.startswith("sent="))
    assert sent == total
    assert len(fake_twilio.created) == total and fake_twilio.duplicates() == {}
    with app.app_context():
        rows = db.session.scalars(select(OutboundMessage)).all()
        assert {r.status for r in rows} == {"sent"}
        assert len({r.provider_sid for r in rows}) == total
        owners = Counter(r.claimed_by for r in rows)
    assert len(owners) == 2, f"the processes did not overlap: {owners} {outputs}"
