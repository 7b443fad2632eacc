"""The Twilio backend: the one module in dispatch that imports twilio (STYLE.md).

Twilio's message creation has no idempotency key, so every failure is sorted by one
question: could Twilio have accepted the message? If surely not, the outbox may retry
(TemporaryFailure); if perhaps, it must not (UnknownOutcome).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from dispatch.notify.gateway import (
    OutgoingSms,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    UnknownOutcome,
)
from dispatch.notify.segments import count_segments
from dispatch.notify.transport import never_sent

VALIDITY_RANGE_S = (1, 36000)  # what Twilio accepts for ValidityPeriod


class TwilioGateway:
    """Sends through Twilio's REST API (or a Twilio-compatible server at TWILIO_BASE_URL)."""

    name = "twilio"

    def __init__(self, config: Mapping[str, Any]) -> None:
        sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
        if not sid or not token:
            raise ValueError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self._sender = _sender(config)
        self._public_base = str(config.get("PUBLIC_BASE_URL") or "").rstrip("/")
        timeout = float(config.get("TWILIO_TIMEOUT_S") or 10)
        # The default http client waits forever, hence the timeout.
        self._client = Client(sid, token, http_client=TwilioHttpClient(timeout=timeout))
        # TWILIO_EDGE/TWILIO_REGION in the environment would rewrite TWILIO_BASE_URL's host.
        self._client.edge = self._client.region = None
        base_url = str(config.get("TWILIO_BASE_URL") or "https://api.twilio.com")
        self._client.api.base_url = base_url.rstrip("/")
        self._messages = self._client.api.v2010.accounts(sid).messages

    def send(self, sms: OutgoingSms) -> SendResult:
        """Create the message at Twilio; raise a SmsError subclass saying what may happen next."""
        try:
            message = self._messages.create(to=sms.to, body=sms.body, **self._options(sms))
        except TwilioException as error:
            raise _refusal(error) from error
        except requests.RequestException as error:
            raise _transport_failure(error) from error
        except Exception as error:  # an answer we could not read: Twilio may have sent it
            raise UnknownOutcome(f"unreadable answer from Twilio: {error!r}") from error
        segments = int(message.num_segments) if message.num_segments else count_segments(sms.body)
        return SendResult("twilio", message.sid or "", message.status or "", segments)

    def close(self) -> None:
        """Close the pooled HTTP connections (tests, and processes that end cleanly)."""
        session = getattr(self._client.http_client, "session", None)
        if session is not None:
            session.close()

    def _options(self, sms: OutgoingSms) -> dict[str, Any]:
        options: dict[str, Any] = dict(self._sender)
        if self._public_base:
            options["status_callback"] = (
                f"{self._public_base}/webhooks/twilio/status?m={sms.message_id}"
            )
        if sms.validity_s is not None:
            low, high = VALIDITY_RANGE_S
            options["validity_period"] = min(high, max(low, int(sms.validity_s)))
        return options


def signature_is_valid(auth_token: str, url: str, params: Any, signature: str) -> bool:
    """Whether X-Twilio-Signature ``signature`` signs ``url`` and the form ``params``."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def _sender(config: Mapping[str, Any]) -> dict[str, str]:
    if config.get("TWILIO_MESSAGING_SERVICE_SID"):
        return {"messaging_service_sid": str(config["TWILIO_MESSAGING_SERVICE_SID"])}
    if config.get("TWILIO_FROM"):
        return {"from_": str(config["TWILIO_FROM"])}
    raise ValueError("SMS_BACKEND=twilio needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")


# Refusals that say nothing about the message: too busy, down, or our own configuration
# (credentials, account, base URL). Retried with backoff, so a fixed setting recovers them.
_NOT_ABOUT_THE_MESSAGE = {401, 403, 404, 429}


def _refusal(error: TwilioException) -> Exception:
    """Twilio answered with an error: nothing was accepted; only a 4xx about the message is final."""
    status = int(getattr(error, "status", 0) or 0)
    code = str(getattr(error, "code", None) or status)
    text = f"Twilio {status} ({code}): {getattr(error, 'msg', '') or error}"[:300]
    if status in _NOT_ABOUT_THE_MESSAGE or status >= 500 or status < 400:
        return TemporaryFailure(text, code=code)
    return PermanentFailure(text, code=code)


def _transport_failure(error: requests.RequestException) -> Exception:
    """No answer: temporary if the request never left, unknown if it may have arrived."""
    if never_sent(error):
        return TemporaryFailure(f"could not connect to Twilio: {error}", code="connect")
    return UnknownOutcome(f"no answer from Twilio after sending: {error}", code="timeout")
