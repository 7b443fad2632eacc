"""One claimed batch keeps the carrier rules and a provider refusal as strictly as row-by-row sending."""

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from tests.support.sms import NOW, add_message, workers


def test_in_batch_limits(sms_app, fake_twilio):
    with sms_app.app_context():
        w, other, bad = workers(3)
        for i in range(6):
            add_message(w, body=f"distinct {i}")
        for _ in range(3):
            add_message(other, body="same text")
        bad_phone = bad.phone
        fake_twilio.behaviours[bad_phone] = "21610"
        add_message(bad, body="a")
        add_message(bad, body="b")
        db.session.commit()
    counts = run_tick(sms_app, NOW)
    assert counts == {"sent": 6, "held": 2, "suppressed": 2, "failed": 1}, counts
    assert fake_twilio.attempts[bad_phone] == 1
