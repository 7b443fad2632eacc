"""The SMS gateway interface and the console backend.

A backend is one class with ``send``; ``build_gateway`` picks it from SMS_BACKEND, so a
domestic provider is one more entry in ``BACKENDS`` and nothing else changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from dispatch.notify.segments import count_segments

log = logging.getLogger("dispatch.sms")


@dataclass(frozen=True)
class OutgoingSms:
    message_id: int  # our outbox id, carried in the status-callback address
    to: str  # E.164
    body: str
    validity_s: int | None = None  # drop at the provider if not delivered by then
    kind: str = ""  # the notice kind (CONTRACTS.md §7): a template-only provider's template
    params: Mapping[str, str] | None = None  # the template's variables, one by one


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_sid: str
    status: str  # provider's word: queued, accepted, sent…
    segments: int


class SmsError(Exception):
    """A send that did not succeed; subclasses say what may be done next."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(SmsError):
    """Definitely not sent (429, 5xx before acceptance, connection refused): retry later."""


class PermanentFailure(SmsError):
    """Refused for good (invalid number, unsubscribed…): never retry this row."""


class UnknownOutcome(SmsError):
    """Perhaps sent (timeout after the request left): a person must look; never retry blindly."""


class SmsGateway(Protocol):
    name: str

    def send(self, sms: OutgoingSms) -> SendResult: ...


class ConsoleGateway:
    """Writes each SMS to the log; the default for one machine and for demos."""

    name = "console"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.sent: list[OutgoingSms] = []

    def send(self, sms: OutgoingSms) -> SendResult:
        self.sent.append(sms)
        log.info("SMS #%s to %s: %s", sms.message_id, sms.to, sms.body)
        return SendResult("console", f"console-{sms.message_id}", "sent", count_segments(sms.body))


def _twilio(config: Mapping[str, Any]) -> SmsGateway:
    # Imported here so that only an app configured for Twilio loads the twilio package.
    from dispatch.notify.twilio_backend import TwilioGateway

    return TwilioGateway(config)


BACKENDS: dict[str, Callable[[Mapping[str, Any]], SmsGateway]] = {
    "console": ConsoleGateway,
    "twilio": _twilio,
}


def build_gateway(config: Mapping[str, Any]) -> SmsGateway:
    """The gateway named by SMS_BACKEND."""
    name = str(config.get("SMS_BACKEND", "console")).lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown SMS_BACKEND {name!r}; use one of {', '.join(BACKENDS)}")
    return BACKENDS[name](config)
