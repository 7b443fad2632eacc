"""Sending one message now, inside the request that wrote it: verification codes.

A code is kept only as a hash (services/verification.py), so the tick could not send it
later. The request writes the outbox row already claimed (``sending``), with the code
masked in ``body`` and ``params``, commits, and hands the gateway the real text here. The
outcome is recorded as the tick records its own (sending.send_claimed), so exactly-once
holds: a crash mid-send leaves the row ``sending`` and it becomes ``unknown``, never resent.

The provider's per-number frequency limits (carrier_limits.py) count codes too; a code the
limits would refuse is not sent (``suppressed``, carrier:rate: the worker asks again later),
and a template-only provider without a verification template fails the row (never free text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from dispatch.notify.carrier_limits import BatchCarrierRules
from dispatch.notify.gateway import SmsGateway, per_number_limits
from dispatch.notify.outbox import ClaimedSms, load_claimed
from dispatch.notify.sending import MAX_ATTEMPTS, _Outcomes, send_claimed


def send_now(
    gateway: SmsGateway,
    message_id: int,
    body: str,
    params: Mapping[str, str] | None,
    now: datetime,
) -> str:
    """Send the committed ``sending`` row ``message_id`` with the real ``body`` and ``params``
    (the row holds them masked); its outcome: sent, failed, retry, suppressed or unknown."""
    claimed = load_claimed([message_id])
    if not claimed:
        raise LookupError(f"no outbox row {message_id}")
    sms = claimed[0]
    pending = _Outcomes()
    refusal = _refusal(gateway, sms, now)
    if refusal is not None:
        code, text = refusal
        outcome = pending.add(
            sms.id, "suppressed", status="suppressed", error_code=code, error_message=text
        )
    else:
        # As its last attempt: a temporary failure fails the row rather than leaving it for
        # the tick, which holds only the masked text (the worker simply asks for a new code).
        real = replace(
            sms,
            candidate=replace(sms.candidate, body=body),
            params=dict(params or {}),
            attempts=MAX_ATTEMPTS,
        )
        outcome = send_claimed(gateway, real, now, pending, can_wait=False)
    pending.write()
    return outcome


def _refusal(gateway: SmsGateway, sms: ClaimedSms, now: datetime) -> tuple[str, str] | None:
    """(code, text) of why the code must not go now: the worker, or the per-number limits."""
    if sms.refusal is not None:
        return sms.refusal_code or "", sms.refusal
    limits = per_number_limits(gateway)
    if not limits:
        return None
    # The row is claimed by "web": our own claim is left out of the count, as in a tick.
    rules = BatchCarrierRules([sms.candidate], now, "UTC", "web", limits)
    verdict = rules.check_rate(sms.candidate)
    return None if verdict is None else (verdict.code, verdict.reason)
