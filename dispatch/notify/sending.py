"""The send loop: claim what is due, send it at most once, record the outcome.

Rows are claimed (outbox.py) and the claim committed before the send, so two tick
processes never both send one. Unpaced ticks claim a batch of rows per statement
(TickOptions.claim_batch), paced ones one. Twilio has no idempotency key, so a row whose
fate is uncertain (a timeout after the request left, a backend that crashed) is never
retried: it becomes ``unknown`` and a person looks. Claims that surely never reached the
gateway (the rest of a batch when a tick stops or fails) are given back.

Before each send a row is screened: expired → ``expired``; no consent, opted out, number
invalid or changed → ``suppressed``; carrier limits (carrier_limits.py) → held or suppressed.
Quiet hours (local time, may cross midnight) leave non-urgent rows pending. A template-only
gateway (Aliyun) has no template for a kind: the row stays pending, marked HELD_TEMPLATE,
and goes on the first tick after one is configured (never as free text).

Every write after the claim is conditional on the row still being ``sending``: a status
callback may overtake the tick (Twilio can report ``delivered`` before we record ``sent``)
and must not be undone.

Per claimed batch (not per message) the carrier history is read once, after the claim is
committed, and what the batch hands over is counted in memory; the outcomes are written
together in one transaction after the batch's sends. A crash before that write leaves the
rows handed over ``sending``: like a crash between claim and send they become ``unknown``,
never sent twice.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, null, update

from dispatch.extensions import db
from dispatch.models import Worker
from dispatch.models import messages as m
from dispatch.notify.carrier_limits import BatchCarrierRules
from dispatch.notify.gateway import (
    OutgoingSms,
    PermanentFailure,
    SendResult,
    SmsGateway,
    TemplateMissing,
    TemporaryFailure,
    UnknownOutcome,
    per_number_limits,
    template_kinds,
)
from dispatch.notify.outbox import (
    HELD_TEMPLATE,
    TABLE,
    ClaimedSms,
    TickOptions,
    claim_due,
    count_held_by_quiet_hours,
    expire_overdue,
    hand_stale_claims_to_people,
    load_claimed,
    release_claims,
)
from dispatch.notify.quiet_hours import in_quiet_hours
from dispatch.notify.receipts import first_receipt_poll
from dispatch.notify.suppression import PROVIDER_REFUSED, apply_provider_error

log = logging.getLogger("dispatch.sms")

BACKOFF_S = (60, 300, 900, 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
GATEWAY_ERROR = "gateway"  # error_code of a backend that crashed mid-send: maybe sent
TEMPORARY_STREAK = 3  # consecutive temporary failures: the provider is down, stop this tick


def send_due_messages(gateway: SmsGateway, now: datetime, options: TickOptions) -> Counter[str]:
    """Send every message due at ``now`` (once); return counts by outcome."""
    outcomes: Counter[str] = Counter()
    outcomes["stale"] = hand_stale_claims_to_people(now)
    outcomes["expired"] = expire_overdue(now)
    quiet = in_quiet_hours(now, options.quiet, options.tz)
    outcomes.update(_Drain(gateway, now, options, urgent_only=quiet).run())
    if quiet:
        outcomes["quiet"] = count_held_by_quiet_hours(now)
    return +outcomes


class _Drain:
    """One tick's pass over the due rows: claim a batch, screen, pace and send each row,
    then record the batch's outcomes in one transaction."""

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
        self.kinds = template_kinds(gateway)  # None: the gateway sends free text
        self.limits = per_number_limits(gateway)  # the provider's own, per number

    def clock(self) -> datetime:
        """``now`` advanced by the wall time this tick has run (claims and sends are stamped so)."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def run(self) -> Counter[str]:
        left = self.options.batch
        while left > 0 and not self.must_stop():
            ids = claim_due(
                self.now,
                self.clock(),
                self.owner,
                self.urgent_only,
                self.claim_size(left),
                self.kinds,
            )
            if not ids:
                break
            left -= len(ids)
            self.process_batch(load_claimed(ids))
        return self.outcomes

    def claim_size(self, left: int) -> int:
        # Paced sending is in no hurry: claim one at a time, so a killed process leaves at
        # most one row in doubt. Unpaced, a batch at a time: claim, carrier check and the
        # outcome write are then one round trip each per batch, not per message.
        return 1 if self.options.per_second > 0 else min(left, self.options.claim_batch)

    def must_stop(self) -> bool:
        if self.streak >= TEMPORARY_STREAK:
            log.warning("SMS provider failing; tick stops early")
            return True
        return time.monotonic() - self.started > self.options.budget_s

    def process_batch(self, batch: list[ClaimedSms]) -> None:
        """Screen and send each row; write the outcomes together (still conditional on
        ``sending``). A crash before that write leaves the handed rows ``sending``: they
        become ``unknown`` after STALE_CLAIM, never sent twice (as a crash before a send)."""
        screenable = [s.candidate for s in batch if s.refusal is None]
        rules = BatchCarrierRules(screenable, self.now, self.options.tz, self.owner, self.limits)
        db.session.commit()  # end the read transaction before the (slow) sends
        pending = _Outcomes()
        for index, sms in enumerate(batch):
            if self.must_stop():
                pending.write()
                release_claims([s.id for s in batch[index:]], self.owner)
                break
            try:
                outcome = self.process(sms, rules, pending)
            except BaseException:
                # The row in hand is in doubt (left to the stale check); the rest never left.
                db.session.rollback()
                try:
                    pending.write()
                finally:
                    release_claims([s.id for s in batch[index + 1 :]], self.owner)
                raise
            self.streak = self.streak + 1 if outcome == "retry" else 0
        else:
            pending.write()
        self.outcomes.update(pending.counts)

    def process(self, sms: ClaimedSms, rules: BatchCarrierRules, pending: _Outcomes) -> str:
        refusal = self.screen(sms, rules, pending)
        if refusal is not None:
            return refusal
        self.pace()
        moment = self.clock()
        outcome = send_claimed(self.gateway, sms, moment, pending)
        if outcome in ("sent", "unknown"):
            rules.record_handed(sms.candidate, moment)  # it counts for the carrier from now on
        return outcome

    def screen(self, sms: ClaimedSms, rules: BatchCarrierRules, pending: _Outcomes) -> str | None:
        """Expiry, suppression, a missing template and carrier rules; the outcome if the row
        must not go now."""
        if sms.expires_at is not None and sms.expires_at <= self.now:
            return pending.add(sms.id, "expired", status=m.MSG_EXPIRED)
        refusal = sms.refusal or pending.refused.get(sms.candidate.worker_id)
        if refusal is not None:
            code = sms.refusal_code if sms.refusal else PROVIDER_REFUSED
            return pending.add(
                sms.id,
                "suppressed",
                status=m.MSG_SUPPRESSED,
                error_code=code,
                error_message=refusal,
            )
        if self.kinds is not None and sms.kind not in self.kinds:
            return hold_for_template(sms, pending)  # before the limits: it cannot go at all
        verdict = rules.check(sms.candidate)
        if verdict is None:
            return None
        if verdict.action == "suppress":
            return pending.add(
                sms.id,
                "suppressed",
                status=m.MSG_SUPPRESSED,
                error_code=verdict.code,
                error_message=verdict.reason,
            )
        return pending.add(
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


class _Outcomes:
    """A batch's outcomes, written in one transaction, each row only if still ``sending``."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        # worker id -> why later rows of this batch must not go (the provider refused them)
        self.refused: dict[int | None, str] = {}

    def add(self, message_id: int, outcome: str, **values: Any) -> str:
        """Queue ``values`` for the row (written only if it is still ``sending``)."""
        self.rows.append((message_id, outcome, values))
        return outcome

    def add_sent(self, message_id: int, result: SendResult, now: datetime) -> str:
        """Queue an accepted send: status only if still ``sending``, the facts in any case
        (a status callback may have got there first: it keeps its status, we add our facts)."""
        self.sent.append(
            {
                "m_id": message_id,
                "m_provider": result.provider,
                "m_sid": result.provider_sid,
                "m_segments": result.segments,
                "m_sent_at": now,
                "m_provider_status": result.status,
                "m_receipt_due": first_receipt_poll(now) if result.polls_receipts else None,
            }
        )
        return "sent"

    def write(self) -> None:
        if self.sent:
            # One statement for all accepted sends (executemany: one round trip on psycopg).
            db.session.execute(_record_sent_statement(), self.sent)
            self.counts["sent"] += len(self.sent)
        for message_id, outcome, values in self.rows:
            result = db.session.execute(
                update(TABLE)
                .where(TABLE.c.id == message_id, TABLE.c.status == m.MSG_SENDING)
                .values(**values)
            )
            self.counts[outcome if result.rowcount == 1 else "overtaken"] += 1
        db.session.commit()  # also commits a worker changed by a provider error
        self.rows, self.sent = [], []


@cache
def _record_sent_statement() -> Any:
    """UPDATE for one accepted send: SET expressions see the row as it was, so ``status``,
    ``provider_status`` and the error columns change only if the row was still ``sending``."""
    still_ours = TABLE.c.status == m.MSG_SENDING

    def if_ours(column: Any, value: Any) -> Any:
        return case((still_ours, value), else_=column)

    return (
        update(TABLE)
        .where(TABLE.c.id == bindparam("m_id"))
        .values(
            provider=bindparam("m_provider"),
            provider_sid=bindparam("m_sid"),
            segments=bindparam("m_segments"),
            sent_at=bindparam("m_sent_at", type_=TABLE.c.sent_at.type),
            receipt_due_at=bindparam("m_receipt_due", type_=TABLE.c.receipt_due_at.type),
            status=if_ours(TABLE.c.status, m.MSG_SENT),
            provider_status=if_ours(
                TABLE.c.provider_status,
                bindparam("m_provider_status", type_=TABLE.c.provider_status.type),
            ),
            error_code=if_ours(TABLE.c.error_code, null()),
            error_message=if_ours(TABLE.c.error_message, null()),
        )
    )


def send_claimed(
    gateway: SmsGateway,
    sms: ClaimedSms,
    now: datetime,
    pending: _Outcomes,
    can_wait: bool = True,
) -> str:
    """Hand one claimed row to the gateway and queue what became of it in ``pending``.

    ``can_wait``: False for a row that cannot be sent later (a verification code): what
    would be held fails instead."""
    facts = sms.candidate
    outgoing = OutgoingSms(
        facts.id,
        facts.to_phone,
        facts.body,
        _validity_s(sms.expires_at, now),
        sms.kind,
        sms.params,
    )
    try:
        result = gateway.send(outgoing)
    except TemplateMissing as error:
        if can_wait:
            return hold_for_template(sms, pending)
        return pending.add(sms.id, "failed", status=m.MSG_FAILED, **_error(error))
    except TemporaryFailure as error:
        return _retry_later(sms, error, now, pending)
    except PermanentFailure as error:
        worker = db.session.get(Worker, facts.worker_id) if facts.worker_id else None
        apply_provider_error(worker, error.code, now)
        db.session.commit()  # the opt-out or bad number is kept even if the tick dies later
        if worker is not None and (worker.opted_out_at or worker.phone_invalid_at) is not None:
            # Later rows of this batch for the worker were screened before this answer.
            pending.refused[worker.id] = f"provider refused the number ({error.code})"
        return pending.add(sms.id, "failed", status=m.MSG_FAILED, **_error(error))
    except UnknownOutcome as error:
        doubt = _ask_later(gateway, now)
        return pending.add(sms.id, "unknown", status=m.MSG_UNKNOWN, **_error(error), **doubt)
    except Exception as error:  # a bug in a backend: it may have sent, so never retry
        log.exception("SMS gateway crashed on message %s", sms.id)
        return pending.add(
            sms.id,
            "unknown",
            status=m.MSG_UNKNOWN,
            error_code=GATEWAY_ERROR,
            error_message=f"gateway error: {error!r}"[:300],
            **_ask_later(gateway, now),
        )
    return pending.add_sent(sms.id, result, now)


def hold_for_template(sms: ClaimedSms, pending: _Outcomes) -> str:
    """Back to pending, marked: claims skip it until its kind has an approved template."""
    return pending.add(
        sms.id,
        "no_template",
        status=m.MSG_PENDING,
        attempts=sms.attempts - 1,
        claimed_at=None,
        claimed_by=None,
        error_code=HELD_TEMPLATE,
        error_message=f"held: no approved template for {sms.kind!r} (ALIYUN_SMS_TEMPLATES)",
    )


def _retry_later(
    sms: ClaimedSms, error: TemporaryFailure, now: datetime, pending: _Outcomes
) -> str:
    if sms.attempts >= MAX_ATTEMPTS:
        return pending.add(sms.id, "failed", status=m.MSG_FAILED, **_error(error))
    return pending.add(
        sms.id,
        "retry",
        status=m.MSG_PENDING,
        due_at=now + timedelta(seconds=BACKOFF_S[sms.attempts - 1]),
        claimed_at=None,
        claimed_by=None,
        **_error(error),
    )


def _ask_later(gateway: SmsGateway, now: datetime) -> dict[str, Any]:
    """A provider that can be asked (receipts.py) is asked later whether it has the row."""
    return {"receipt_due_at": first_receipt_poll(now)} if hasattr(gateway, "query_receipt") else {}


def _error(error: Exception) -> dict[str, Any]:
    return {"error_code": getattr(error, "code", None), "error_message": str(error)[:300]}


def _validity_s(expires_at: datetime | None, now: datetime) -> int | None:
    if expires_at is None:
        return None
    return max(1, int((expires_at - now).total_seconds()))
