"""Draining the outbox: claim what is due, send it at most once, record the outcome.

Rows are claimed by a conditional UPDATE (pending → sending) committed before the send,
so two tick processes never both send one; on PostgreSQL candidates are locked with
FOR UPDATE SKIP LOCKED so several ticks drain in parallel without waiting on each other.
Unpaced ticks claim a few rows per statement (TickOptions.claim_batch), paced ones one.
Twilio has no idempotency key, so a row whose fate is uncertain (a timeout after the
request left, or a claim left in ``sending`` by a process that died) is never retried:
it becomes ``unknown`` and a person looks. Claims that surely never reached the gateway
(the rest of a batch when a tick stops or fails) are given back.

Before each send a row is screened: expired → ``expired``; no consent, opted out, number
invalid or changed → ``suppressed``; carrier limits (carrier.py) → held or suppressed.
Quiet hours (local time, may cross midnight) leave non-urgent rows pending.

Every write after the claim is conditional on the row still being ``sending``: a status
callback may overtake the tick (Twilio can report ``delivered`` before we record ``sent``)
and must not be undone.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from dispatch.extensions import db
from dispatch.models import OutboundMessage, Worker
from dispatch.models import messages as m
from dispatch.notify.carrier import Candidate, check_carrier_rules
from dispatch.notify.gateway import (
    OutgoingSms,
    PermanentFailure,
    SendResult,
    SmsGateway,
    TemporaryFailure,
    UnknownOutcome,
)
from dispatch.notify.suppression import apply_provider_error, reason_not_to_send

log = logging.getLogger("dispatch.sms")

BACKOFF_S = (60, 300, 900, 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
STALE_CLAIM = timedelta(minutes=10)  # far beyond TWILIO_TIMEOUT_S: only a dead tick leaves one
TEMPORARY_STREAK = 3  # consecutive temporary failures: the provider is down, stop this tick

OM = OutboundMessage
TABLE = OutboundMessage.__table__


@dataclass(frozen=True)
class TickOptions:
    batch: int = 500
    per_second: float = 0  # 0: no pacing
    quiet: tuple[int, int] | None = None  # (start minute, end minute) local time
    tz: str = "Asia/Shanghai"
    owner: str = "tick"
    claim_batch: int = 10  # rows claimed per statement when unpaced (see _Drain.claim_size)
    budget_s: float = 240  # stop claiming after this much wall time; the next tick goes on


def send_due_messages(gateway: SmsGateway, now: datetime, options: TickOptions) -> Counter[str]:
    """Send every message due at ``now`` (once); return counts by outcome."""
    outcomes: Counter[str] = Counter()
    outcomes["stale"] = hand_stale_claims_to_people(now)
    outcomes["expired"] = expire_overdue(now)
    quiet = in_quiet_hours(now, options)
    outcomes.update(_Drain(gateway, now, options, urgent_only=quiet).run())
    if quiet:
        outcomes["quiet"] = _count_held_by_quiet_hours(now)
    return +outcomes


def in_quiet_hours(now: datetime, options: TickOptions) -> bool:
    """Whether local wall-clock ``now`` lies inside the quiet window (which may cross midnight)."""
    if options.quiet is None:
        return False
    local = now.astimezone(ZoneInfo(options.tz))
    minute = local.hour * 60 + local.minute
    start, end = options.quiet
    if start == end:
        return False
    return start <= minute < end if start < end else minute >= start or minute < end


def claim_due(
    now: datetime, claimed_at: datetime, owner: str, urgent_only: bool, limit: int = 1
) -> list[int]:
    """Atomically move up to ``limit`` due rows from pending to sending and commit; their ids."""
    candidates = select(OM.id).where(OM.status == m.MSG_PENDING, OM.due_at <= now)
    if urgent_only:
        candidates = candidates.where(OM.urgent.is_(True))
    # Order by due_at alone: the (status, due_at) index then yields rows without a sort
    # (adding id made PostgreSQL sort every pending row: 11 ms a claim at 10,000 rows).
    candidates = candidates.order_by(OM.due_at).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        # Lock first, then update: inside "id IN (… LIMIT n FOR UPDATE SKIP LOCKED)" the
        # planner may rescan the subquery per row and claim far more than n rows.
        ids = list(db.session.scalars(candidates.with_for_update(skip_locked=True)))
        chosen = OM.id.in_(ids)
    else:
        ids = [0]  # SQLite runs the subquery once, and serialises writers anyway
        chosen = OM.id.in_(candidates.scalar_subquery())
    claimed = (
        []
        if not ids
        else db.session.execute(
            update(OM)
            .where(chosen, OM.status == m.MSG_PENDING)
            .values(
                status=m.MSG_SENDING,
                claimed_at=claimed_at,
                claimed_by=owner,
                attempts=OM.attempts + 1,
            )
            .returning(OM.id),
            execution_options={"synchronize_session": False},
        )
        .scalars()
        .all()
    )
    db.session.commit()
    return list(claimed)


def claim_next(now: datetime, claimed_at: datetime, owner: str, urgent_only: bool) -> int | None:
    """Claim the single next due row (see ``claim_due``); its id or None."""
    claimed = claim_due(now, claimed_at, owner, urgent_only, limit=1)
    return claimed[0] if claimed else None


def hand_stale_claims_to_people(now: datetime) -> int:
    """A claim older than STALE_CLAIM belongs to a tick that died: the send may have happened."""
    result = db.session.execute(
        update(OM)
        .where(OM.status == m.MSG_SENDING, OM.claimed_at <= now - STALE_CLAIM)
        .values(status=m.MSG_UNKNOWN, error_message="claimed but never finished (process died?)"),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount


def expire_overdue(now: datetime) -> int:
    """Pending rows whose ``expires_at`` has passed are no longer worth sending."""
    result = db.session.execute(
        update(OM)
        .where(OM.status == m.MSG_PENDING, OM.expires_at.is_not(None), OM.expires_at <= now)
        .values(status=m.MSG_EXPIRED),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount


@dataclass(frozen=True)
class ClaimedSms:
    """A claimed row as plain facts (rows are re-read once per batch, not once per commit)."""

    candidate: Candidate
    expires_at: datetime | None
    attempts: int
    refusal: str | None  # why it must not be sent (consent, opt-out, number), if so

    @property
    def id(self) -> int:
        return self.candidate.id


def load_claimed(ids: list[int]) -> list[ClaimedSms]:
    """The claimed rows with their workers' consent, in due order."""
    rows = db.session.scalars(
        select(OM).options(joinedload(OM.worker)).where(OM.id.in_(ids)).order_by(OM.due_at, OM.id)
    ).unique()
    return [
        ClaimedSms(
            Candidate(row.id, row.worker_id, row.to_phone, row.body, row.urgent),
            row.expires_at,
            row.attempts,
            reason_not_to_send(row),
        )
        for row in rows
    ]


class _Drain:
    """One tick's pass over the due rows: claim a few, then screen, pace, send, record each."""

    def __init__(
        self, gateway: SmsGateway, now: datetime, options: TickOptions, urgent_only: bool
    ) -> None:
        self.gateway, self.now, self.options, self.urgent_only = gateway, now, options, urgent_only
        # Unique per tick, so the carrier rules can tell this tick's unsent claims apart.
        self.owner = f"{options.owner}/{secrets.token_hex(3)}"[:80]
        self.started = time.monotonic()
        self.last_send = 0.0
        self.outcomes: Counter[str] = Counter()
        self.streak = 0

    def clock(self) -> datetime:
        """``now`` advanced by the wall time this tick has run (claims and sends are stamped so)."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def run(self) -> Counter[str]:
        left = self.options.batch
        while left > 0 and not self.must_stop():
            ids = claim_due(
                self.now, self.clock(), self.owner, self.urgent_only, self.claim_size(left)
            )
            if not ids:
                break
            left -= len(ids)
            self.process_batch(load_claimed(ids))
        return self.outcomes

    def claim_size(self, left: int) -> int:
        # Paced sending is in no hurry: claim one at a time, so a killed process leaves at
        # most one row in doubt. Unpaced, a few at a time halves the database round trips.
        return 1 if self.options.per_second > 0 else min(left, self.options.claim_batch)

    def must_stop(self) -> bool:
        if self.streak >= TEMPORARY_STREAK:
            log.warning("SMS provider failing; tick stops early")
            return True
        return time.monotonic() - self.started > self.options.budget_s

    def process_batch(self, batch: list[ClaimedSms]) -> None:
        for index, sms in enumerate(batch):
            if self.must_stop():
                release_claims([s.id for s in batch[index:]], self.owner)
                return
            try:
                outcome = self.process(sms)
            except BaseException:
                # The row in hand is in doubt (left to the stale check); the rest never left.
                db.session.rollback()
                release_claims([s.id for s in batch[index + 1 :]], self.owner)
                raise
            self.outcomes[outcome] += 1
            self.streak = self.streak + 1 if outcome == "retry" else 0

    def process(self, sms: ClaimedSms) -> str:
        refusal = self.screen(sms)
        if refusal is not None:
            return refusal
        self.pace()
        return send_claimed(self.gateway, sms, self.clock())

    def screen(self, sms: ClaimedSms) -> str | None:
        """Expiry, suppression and carrier rules; the outcome if the row must not go now."""
        if sms.expires_at is not None and sms.expires_at <= self.now:
            return _finish(sms.id, "expired", status=m.MSG_EXPIRED)
        if sms.refusal is not None:
            return _finish(sms.id, "suppressed", status=m.MSG_SUPPRESSED, error_message=sms.refusal)
        verdict = check_carrier_rules(sms.candidate, self.now, self.options.tz, self.owner)
        if verdict is None:
            return None
        if verdict.action == "suppress":
            return _finish(
                sms.id,
                "suppressed",
                status=m.MSG_SUPPRESSED,
                error_code=verdict.code,
                error_message=verdict.reason,
            )
        return _finish(
            sms.id,
            "held",
            status=m.MSG_PENDING,
            due_at=verdict.hold_until,
            attempts=sms.attempts - 1,
            claimed_at=None,
            claimed_by=None,
            error_code=verdict.code,
            error_message=verdict.reason,
        )

    def pace(self) -> None:
        if self.options.per_second <= 0:
            return
        wait = self.last_send + 1.0 / self.options.per_second - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_send = time.monotonic()


def release_claims(ids: list[int], owner: str) -> None:
    """Give back claims that were never handed to the gateway (surely unsent)."""
    if not ids:
        return
    db.session.execute(
        update(TABLE)
        .where(TABLE.c.id.in_(ids), TABLE.c.status == m.MSG_SENDING, TABLE.c.claimed_by == owner)
        .values(
            status=m.MSG_PENDING, claimed_at=None, claimed_by=None, attempts=TABLE.c.attempts - 1
        )
    )
    db.session.commit()


def send_claimed(gateway: SmsGateway, sms: ClaimedSms, now: datetime) -> str:
    """Hand one claimed row to the gateway and record what became of it."""
    facts = sms.candidate
    outgoing = OutgoingSms(facts.id, facts.to_phone, facts.body, _validity_s(sms.expires_at, now))
    try:
        result = gateway.send(outgoing)
    except TemporaryFailure as error:
        return _retry_later(sms, error, now)
    except PermanentFailure as error:
        worker = db.session.get(Worker, facts.worker_id) if facts.worker_id else None
        apply_provider_error(worker, error.code, now)
        return _finish(sms.id, "failed", status=m.MSG_FAILED, **_error(error))
    except UnknownOutcome as error:
        return _finish(sms.id, "unknown", status=m.MSG_UNKNOWN, **_error(error))
    except Exception as error:  # a bug in a backend: it may have sent, so never retry
        log.exception("SMS gateway crashed on message %s", sms.id)
        return _finish(
            sms.id, "unknown", status=m.MSG_UNKNOWN, error_message=f"gateway error: {error!r}"[:300]
        )
    return _record_sent(sms.id, result, now)


def _record_sent(message_id: int, result: SendResult, now: datetime) -> str:
    facts = {
        "provider": result.provider,
        "provider_sid": result.provider_sid,
        "segments": result.segments,
        "sent_at": now,
    }
    moved = _finish(
        message_id,
        "sent",
        status=m.MSG_SENT,
        provider_status=result.status,
        error_code=None,
        error_message=None,
        **facts,
    )
    if moved != "sent":  # a status callback got there first: keep its status, add our facts
        db.session.execute(update(TABLE).where(TABLE.c.id == message_id).values(**facts))
        db.session.commit()
    return "sent"


def _retry_later(sms: ClaimedSms, error: TemporaryFailure, now: datetime) -> str:
    if sms.attempts >= MAX_ATTEMPTS:
        return _finish(sms.id, "failed", status=m.MSG_FAILED, **_error(error))
    return _finish(
        sms.id,
        "retry",
        status=m.MSG_PENDING,
        due_at=now + timedelta(seconds=BACKOFF_S[sms.attempts - 1]),
        claimed_at=None,
        claimed_by=None,
        **_error(error),
    )


def _finish(message_id: int, outcome: str, **values: Any) -> str:
    """Write ``values`` if the row is still ours (sending) and commit; ``outcome`` or "overtaken"."""
    # Core, not ORM: this runs twice per SMS and the ORM's bookkeeping buys nothing here.
    result = db.session.execute(
        update(TABLE)
        .where(TABLE.c.id == message_id, TABLE.c.status == m.MSG_SENDING)
        .values(**values)
    )
    db.session.commit()
    return outcome if result.rowcount == 1 else "overtaken"


def _error(error: Exception) -> dict[str, Any]:
    return {"error_code": getattr(error, "code", None), "error_message": str(error)[:300]}


def _validity_s(expires_at: datetime | None, now: datetime) -> int | None:
    if expires_at is None:
        return None
    return max(1, int((expires_at - now).total_seconds()))


def _count_held_by_quiet_hours(now: datetime) -> int:
    query = select(func.count()).where(
        OM.status == m.MSG_PENDING, OM.due_at <= now, OM.urgent.is_(False)
    )
    count = db.session.scalar(query) or 0
    db.session.commit()
    return count
