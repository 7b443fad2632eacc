"""What a provider's refusal says about the worker's number."""

from __future__ import annotations

from dispatch.models import OutboundMessage, utcnow

UNSUBSCRIBED = {"21610"}
INVALID_NUMBER = {"21211", "21614"}


def apply_provider_error(message: OutboundMessage, code: str | None) -> None:
    """Record an opt-out (21610) or a bad number (21211, 21614) on the worker."""
    worker = message.worker
    if worker is None or code is None:
        return
    if code in UNSUBSCRIBED and worker.opted_out_at is None:
        worker.opted_out_at, worker.opt_out_source = utcnow(), "provider"
    elif code in INVALID_NUMBER and worker.phone_invalid_at is None:
        worker.phone_invalid_at = utcnow()
