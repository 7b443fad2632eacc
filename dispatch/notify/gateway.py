"""The SMS gateway interface and the console backend.

A backend is one class with ``send``; ``build_gateway`` picks it from SMS_BACKEND, so a
domestic provider is one more entry in ``BACKENDS`` and nothing else changes.
"""

from __future__ import annotations

import json
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
    polls_receipts: bool = False  # the provider's receipts are read by polling (receipts.py)


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


class TemplateMissing(SmsError):
    """A template-only provider has no approved template for this kind: surely not sent; the
    outbox holds the row until one is configured (never sent as free text)."""


@dataclass(frozen=True)
class Receipt:
    """What a provider's delivery report says about one message (notify/receipts.py)."""

    status: str  # waiting, failed, delivered
    error_code: str | None = None
    received_at: str | None = None  # the provider's own words for when it arrived


class SmsGateway(Protocol):
    name: str
    # A template-only provider (Aliyun) sets ``template_kinds``: the kinds it can send;
    # free-text providers leave it out. A provider may also set ``per_number_limits``
    # (carrier_limits.py) and offer ``query_receipt`` (receipts.py).

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


def show_console_sms(config: Mapping[str, Any]) -> None:
    """With the console gateway, its SMS on stderr for the processes that send them (`flask
    serve`, `flask scheduler run`): the log is where a demo reads a worker's verification code,
    and Python's default level (WARNING) hid every line of it."""
    if config.get("SMS_BACKEND", "console") != "console":
        return
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)


def _twilio(config: Mapping[str, Any]) -> SmsGateway:
    # Imported here so that only an app configured for Twilio loads the twilio package.
    from dispatch.notify.twilio_backend import TwilioGateway

    return TwilioGateway(config)


def _aliyun(config: Mapping[str, Any]) -> SmsGateway:
    # Likewise: only an app configured for Alibaba Cloud loads its SDK.
    from dispatch.notify.aliyun_backend import AliyunGateway

    return AliyunGateway(config)


BACKENDS: dict[str, Callable[[Mapping[str, Any]], SmsGateway]] = {
    "console": ConsoleGateway,
    "twilio": _twilio,
    "aliyun": _aliyun,
}


def template_kinds(gateway: SmsGateway) -> frozenset[str] | None:
    """The kinds a template-only gateway can send; None for a free-text gateway."""
    return getattr(gateway, "template_kinds", None)


def per_number_limits(gateway: SmsGateway) -> tuple[tuple[int, int], ...]:
    """The provider's own frequency limits per number, (most messages, seconds) each."""
    return tuple(getattr(gateway, "per_number_limits", ()))


def build_gateway(config: Mapping[str, Any]) -> SmsGateway:
    """The gateway named by SMS_BACKEND."""
    name = str(config.get("SMS_BACKEND", "console")).lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown SMS_BACKEND {name!r}; use one of {', '.join(BACKENDS)}")
    return BACKENDS[name](config)


def template_codes(raw: object) -> dict[str, str]:
    """ALIYUN_SMS_TEMPLATES (a JSON object or a mapping) as kind -> template code."""
    if raw in (None, ""):
        return {}
    mapping = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(mapping, Mapping):
        raise ValueError("ALIYUN_SMS_TEMPLATES must be a JSON object: kind -> template code")
    return {str(kind): str(code) for kind, code in mapping.items() if code}
