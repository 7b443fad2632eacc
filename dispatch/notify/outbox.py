"""Draining the outbox: claim what is due, send it once, record the outcome.

Each row is claimed by a conditional UPDATE (pending → sending) committed before the
send, so two tick processes never both send it. A row left in ``sending`` by a crash
is never retried: its outcome is unknown, so it is handed to a person.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from dispatch.extensions import db
from dispatch.models import OutboundMessage
from dispatch.models import messages as m
from dispatch.notify.gateway import (
    OutgoingSms,
    PermanentFailure,
    SmsGateway,
    TemporaryFailure,
    UnknownOutcome,
)

BACKOFF_S = (60, 300, 900, 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
STALE_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True)
class TickOptions:
    batch: int = 500
    per_second: float = 0  # 0: no pacing
    quiet: tuple[int, int] | None = None  # (start minute, end minute) local time
    tz: str = "Asia/Shanghai"
    owner: str = "tick"


def send_due_messages(gateway: SmsGateway, now: datetime, options: TickOptions) -> Counter[str]:
    """Send every message due at ``now`` (once); return counts by outcome."""
    outcomes: Counter[str] = Counter()
    outcomes["stale"] = _hand_stale_claims_to_people(now)
    outcomes["expired"] = _expire(now)
    quiet = in_quiet_hours(now, options)
    last = 0.0
    for message_id in _due_ids(now, options.batch, urgent_only=quiet):
        if not _claim(message_id, now, options.owner):
            outcomes["skipped"] += 1
            continue
        last = _pace(last, options.per_second)
        outcomes[_send_one(gateway, message_id, now)] += 1
    return +outcomes


def in_quiet_hours(now: datetime, options: TickOptions) -> bool:
    """Whether local wall-clock ``now`` lies inside the quiet window (which may cross midnight)."""
    if options.quiet is None:
        return False
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(options.tz))
    minute = local.hour * 60 + local.minute
    start, end = options.quiet
    return start <= minute < end if start < end else minute >= start or minute < end


def _due_ids(now: datetime, limit: int, urgent_only: bool) -> list[int]:
    query = (
        select(OutboundMessage.id)
        .where(OutboundMessage.status == m.MSG_PENDING, OutboundMessage.due_at <= now)
        .order_by(OutboundMessage.due_at, OutboundMessage.id)
        .limit(limit)
    )
    if urgent_only:
        query = query.where(OutboundMessage.urgent.is_(True))
    ids = list(db.session.scalars(query))
    db.session.commit()
    return ids


def _claim(message_id: int, now: datetime, owner: str) -> bool:
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == m.MSG_PENDING)
        .values(
            status=m.MSG_SENDING,
            claimed_at=now,
            claimed_by=owner,
            attempts=OutboundMessage.attempts + 1,
        )
    )
    db.session.commit()
    return result.rowcount == 1


def _send_one(gateway: SmsGateway, message_id: int, now: datetime) -> str:
    message = db.session.get(OutboundMessage, message_id)
    sms = OutgoingSms(message.id, message.to_phone, message.body, _validity_s(message, now))
    try:
        result = gateway.send(sms)
    except TemporaryFailure as error:
        outcome = _retry_later(message, error, now)
    except PermanentFailure as error:
        outcome = _fail(message, error)
    except UnknownOutcome as error:
        message.status, message.error_message = m.MSG_UNKNOWN, str(error)[:300]
        outcome = "unknown"
    else:
        message.status, message.provider, message.provider_sid = (
            m.MSG_SENT,
            result.provider,
            result.provider_sid,
        )
        message.provider_status, message.segments, message.sent_at = (
            result.status,
            result.segments,
            now,
        )
        outcome = "sent"
    db.session.commit()
    return outcome


def _validity_s(message: OutboundMessage, now: datetime) -> int | None:
    if message.expires_at is None:
        return None
    return max(60, int((message.expires_at - now).total_seconds()))


def _retry_later(message: OutboundMessage, error: TemporaryFailure, now: datetime) -> str:
    message.error_code, message.error_message = error.code, str(error)[:300]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = m.MSG_FAILED
        return "failed"
    message.status = m.MSG_PENDING
    message.due_at = now + timedelta(seconds=BACKOFF_S[message.attempts - 1])
    return "retry"


def _fail(message: OutboundMessage, error: PermanentFailure) -> str:
    message.status, message.error_code = m.MSG_FAILED, error.code
    message.error_message = str(error)[:300]
    from dispatch.notify.suppression import apply_provider_error

    apply_provider_error(message, error.code)
    return "failed"


def _expire(now: datetime) -> int:
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == m.MSG_PENDING,
            OutboundMessage.expires_at.is_not(None),
            OutboundMessage.expires_at <= now,
        )
        .values(status=m.MSG_EXPIRED)
    )
    db.session.commit()
    return result.rowcount


def _hand_stale_claims_to_people(now: datetime) -> int:
    """A claim older than STALE_CLAIM belongs to a tick that died: the send may have happened."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == m.MSG_SENDING,
            OutboundMessage.claimed_at <= now - STALE_CLAIM,
        )
        .values(status=m.MSG_UNKNOWN, error_message="claimed but never finished (process died?)")
    )
    db.session.commit()
    return result.rowcount


def _pace(last: float, per_second: float) -> float:
    if per_second <= 0:
        return last
    wait = last + 1.0 / per_second - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    return time.monotonic()
