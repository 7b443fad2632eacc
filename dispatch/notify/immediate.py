"""Sending one message now, inside the request that wrote it: verification codes.

A code is kept only as a hash (services/verification.py), so the tick could not send it
later. The request writes the outbox row already claimed (``sending``), with the code
masked in ``body`` and ``params``, commits, and hands the gateway the real text here. The
outcome is recorded as the tick records its own (sending.send_claimed), so exactly-once
holds: a crash mid-send leaves the row ``sending`` and it becomes ``unknown``, never resent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from dispatch.notify.gateway import SmsGateway
from dispatch.notify.outbox import load_claimed
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
    if sms.refusal is not None:
        outcome = pending.add(
            sms.id,
            "suppressed",
            status="suppressed",
            error_code=sms.refusal_code,
            error_message=sms.refusal,
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
        outcome = send_claimed(gateway, real, now, pending)
    pending.write()
    return outcome
