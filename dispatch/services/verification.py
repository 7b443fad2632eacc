"""SMS codes that prove a worker holds a mobile (/join, /ticket).

A code is 6 digits, valid 5 minutes, and allows 5 tries; only its keyed hash is kept. Each
number gets at most one code every VERIFY_CODE_INTERVAL_S seconds (the wait /join's button
counts down), 5 an hour and 10 a day, and each client address at most VERIFY_CODES_PER_IP_HOUR
an hour; the counts are read from the codes themselves, so every web process sees the same.
The SMS goes out at once (notify.immediate): /join sends it from the request; /ticket issues
it (`issue_code`) and sends it in a thread of its own beside its answer, so the time to answer
does not tell a stranger whether an ID number and mobile belong to a worker.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import VerificationCode
from dispatch.notify.gateway import SmsGateway
from dispatch.notify.immediate import send_now
from dispatch.services.notices.single import verification_row

VALID_FOR = timedelta(minutes=5)
MAX_TRIES = 5
PER_NUMBER_HOUR = 5
PER_NUMBER_DAY = 10
PER_IP_HOUR = 30


@dataclass(eq=False)  # not frozen: Python sets an exception's __traceback__ and __context__
class TooMany(Exception):
    """Over a limit: no code was sent. ``scope`` is "number" (its codes an hour or a day),
    "interval" (its last code is younger than VERIFY_CODE_INTERVAL_S) or "address"."""

    scope: str
    retry_after_s: int

    @property
    def retry_after_minutes(self) -> int:
        """The wait in whole minutes, rounded up (at least one), as the pages say it."""
        return max(1, -(-self.retry_after_s // 60))

    def too_soon(self) -> str:
        """What /join and /ticket say when the number's last code is younger than the interval."""
        return _(
            "A code was sent to this number a moment ago. You can ask for another in %(n)d "
            "seconds.",
            n=self.retry_after_s,
        )


@dataclass(frozen=True)
class Outgoing:
    """A code's SMS, in the outbox already claimed (``sending``, the code masked there), with
    the real text to hand the gateway."""

    message_id: int
    body: str
    params: Mapping[str, str] | None
    now: datetime

    def send(self, gateway: SmsGateway) -> str:
        """Hand it to the gateway: the outcome (sent, suppressed, failed…)."""
        return send_now(gateway, self.message_id, self.body, self.params, self.now)


def request_code(
    phone: str,
    purpose: str,
    client_ip: str,
    now: datetime,
    config: Mapping[str, Any],
    gateway: SmsGateway,
) -> str:
    """Send a new code to ``phone`` (E.164) for ``purpose``; the send's outcome (sent,
    suppressed, failed…). Raises TooMany over a limit. Commits."""
    return issue_code(phone, purpose, client_ip, now, config).send(gateway)


def issue_code(
    phone: str, purpose: str, client_ip: str, now: datetime, config: Mapping[str, Any]
) -> Outgoing:
    """A new code for ``phone`` (E.164) and ``purpose``, recorded with its SMS; the caller
    sends it. Raises TooMany over a limit. Commits."""
    _check_limits(phone, client_ip, now, config)
    code = f"{secrets.randbelow(10**6):06d}"
    record = VerificationCode(
        phone=phone,
        purpose=purpose,
        code_hash=_hash(config, phone, purpose, code),
        created_at=now,
        expires_at=now + VALID_FOR,
        client_ip=client_ip[:64],
    )
    db.session.add(record)
    db.session.flush()
    row, body, params = verification_row(
        phone, code, dedupe_key=f"verification:c{record.id}", now=now, settings=config
    )
    db.session.commit()
    return Outgoing(row.id, body, params, now)


def count_unsent(
    phone: str, purpose: str, client_ip: str, now: datetime, config: Mapping[str, Any]
) -> None:
    """Count a request that sends nothing (a /ticket lookup matching no worker) against the
    same limits, so neither the answer nor the limits tell a stranger who is registered.
    Raises TooMany over a limit. Commits."""
    _check_limits(phone, client_ip, now, config)
    # Born used and expired, with no hash: it counts, and never displaces a live code.
    db.session.add(
        VerificationCode(
            phone=phone,
            purpose=purpose,
            code_hash="",
            created_at=now,
            expires_at=now,
            used_at=now,
            client_ip=client_ip[:64],
        )
    )
    db.session.commit()


def check_code(
    phone: str, purpose: str, code: str, now: datetime, config: Mapping[str, Any]
) -> bool:
    """True once for the newest live code of ``phone`` that matches; each wrong try counts,
    and after MAX_TRIES the code is dead. Commits."""
    record = db.session.scalars(
        select(VerificationCode)
        .where(
            VerificationCode.phone == phone,
            VerificationCode.purpose == purpose,
            VerificationCode.used_at.is_(None),
            VerificationCode.expires_at > now,
        )
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if record is None or record.tries >= MAX_TRIES:
        db.session.rollback()
        return False
    record.tries += 1
    matched = hmac.compare_digest(record.code_hash, _hash(config, phone, purpose, code.strip()))
    if matched:
        record.used_at = now
    db.session.commit()
    return matched


def _check_limits(phone: str, client_ip: str, now: datetime, config: Mapping[str, Any]) -> None:
    vc = VerificationCode
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    per_ip = int(config.get("VERIFY_CODES_PER_IP_HOUR", PER_IP_HOUR))
    rows = [
        ("number", vc.phone == phone, hour, PER_NUMBER_HOUR),
        ("number", vc.phone == phone, day, PER_NUMBER_DAY),
        ("address", vc.client_ip == client_ip[:64], hour, per_ip),
    ]
    for scope, who, since, limit in rows:
        count, oldest = db.session.execute(
            select(func.count(), func.min(vc.created_at)).where(who, vc.created_at > since)
        ).one()
        if count >= limit:
            window = (now - since).total_seconds()
            waited = (now - oldest).total_seconds() if oldest else 0  # UTCDateTime: aware
            raise TooMany(scope, max(1, int(window - waited)))
    interval = timedelta(seconds=int(config["VERIFY_CODE_INTERVAL_S"]))  # for any purpose
    latest = db.session.scalar(
        select(func.max(vc.created_at)).where(vc.phone == phone, vc.created_at > now - interval)
    )
    if latest is not None:
        raise TooMany("interval", max(1, math.ceil((latest + interval - now).total_seconds())))


def _hash(config: Mapping[str, Any], phone: str, purpose: str, code: str) -> str:
    return keyed_hash(config, f"{purpose}:{phone}:{code}")


def keyed_hash(config: Mapping[str, Any], message: str) -> str:
    """HMAC-SHA256 of ``message`` under the app's SECRET_KEY, as hex (codes, ID numbers)."""
    key = str(config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
