"""Verification codes are not kept: their rows (phone, client address, hash) go after two
days, and the numbers on verification SMS go with the retention period (DOMAIN.md, PIPL)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, VerificationCode, utcnow
from dispatch.services import retention, verification

PHONE = "+8613912345678"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_codes_go_after_two_days_and_verification_numbers_with_retention(app):
    sent_at = utcnow() - timedelta(days=40)
    with app.app_context():
        gateway = app.extensions["sms_gateway"]
        verification.request_code(PHONE, "join", "10.0.0.1", sent_at, app.config, gateway)
        verification.request_code(PHONE, "join", "10.0.0.1", utcnow(), app.config, gateway)
        assert _count(VerificationCode) == 2

        report = retention.run_retention(utcnow(), 30, "Asia/Shanghai")

        assert report.codes == 1
        left = db.session.scalars(select(VerificationCode)).one()
        assert left.created_at > utcnow() - timedelta(days=1)
        phones = sorted(m.to_phone for m in db.session.scalars(select(OutboundMessage)))
        assert phones == ["", PHONE]  # the old send's number is gone, today's is kept
        assert all("******" in m.body for m in db.session.scalars(select(OutboundMessage)))
        # A second run finds nothing more to do.
        again = retention.run_retention(utcnow(), 30, "Asia/Shanghai")
        assert again.codes == 0


def test_over_a_limit_stays_itself_through_a_context_manager():
    """A frozen exception could not take the traceback Python gives it on the way out of a
    ``with`` block: it came out as FrozenInstanceError, a 500 instead of "wait N seconds"."""

    @contextmanager
    def block():
        yield

    with pytest.raises(verification.TooMany) as refused, block():
        raise verification.TooMany("interval", 40)
    assert (refused.value.scope, refused.value.retry_after_minutes) == ("interval", 1)
