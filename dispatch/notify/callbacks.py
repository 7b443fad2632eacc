"""What the providers' webhooks tell us: Twilio's delivery status callbacks, and inbound
replies from Twilio (form posts) and Alibaba Cloud (SmsUp, pushed as a JSON array).

Callbacks arrive late, twice, out of order or never, so a status only ever moves forward
(queued < sending < sent < delivered/undelivered/failed) and anything we cannot place is
answered 200 and ignored: Twilio would otherwise retry it. Inbound replies are only parsed
here into ``InboundSms``; what a reply means is decided by services/replies.py.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from dispatch.extensions import db
from dispatch.models import OutboundMessage
from dispatch.models import messages as m
from dispatch.notify.suppression import apply_provider_error

# Twilio's word → (how far along it is, our status).
TWILIO_PROGRESS: dict[str, tuple[int, str]] = {
    "accepted": (1, m.MSG_SENT),
    "scheduled": (1, m.MSG_SENT),
    "queued": (1, m.MSG_SENT),
    "sending": (2, m.MSG_SENT),
    "sent": (3, m.MSG_SENT),
    "delivered": (4, m.MSG_DELIVERED),
    "undelivered": (4, m.MSG_FAILED),
    "failed": (4, m.MSG_FAILED),
    "canceled": (4, m.MSG_CANCELLED),
}
# Rows a callback may still move: in flight, in doubt, or accepted but not yet final.
MOVABLE = (m.MSG_SENDING, m.MSG_UNKNOWN, m.MSG_SENT)
MAX_MESSAGE_ID = 2**31 - 1  # PostgreSQL's integer
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# What Alibaba Cloud expects back from an SmsUp push (only ``code`` being a number is checked).
ALIYUN_RECEIVED = {"code": 0, "msg": "成功"}
ALIYUN_TIME_ZONE = ZoneInfo("Asia/Shanghai")  # SmsUp's send_time is Beijing time, no zone
MAX_BODY = 500  # InboundReply.body
MAX_SID = 64  # InboundReply.provider_sid


class MalformedPush(ValueError):
    """An SmsUp push that is not a JSON array of uplink messages."""


@dataclass(frozen=True)
class InboundSms:
    """One SMS a phone sent to us, as a provider reported it."""

    provider: str  # "twilio" or "aliyun"
    provider_sid: str | None  # Twilio's MessageSid, Aliyun's sequence_id: replays repeat it
    from_phone: str  # as the provider gave it (Aliyun: the national number)
    body: str
    sent_at: datetime | None = None  # when the phone sent it, if the provider says


def public_url(base: str, path: str, query: bytes | str) -> str:
    """The address Twilio called (and signed): PUBLIC_BASE_URL + path + query, proxy or not."""
    query = query.decode("latin-1") if isinstance(query, bytes) else query
    return base.rstrip("/") + path + (f"?{query}" if query else "")


def is_genuine(config: Mapping[str, Any], url: str, form: Any, signature: str | None) -> bool:
    """Whether X-Twilio-Signature proves the request came from Twilio (our auth token)."""
    from dispatch.notify.twilio_backend import signature_is_valid  # twilio only when needed

    return signature_is_valid(
        str(config.get("TWILIO_AUTH_TOKEN") or ""), url, form, signature or ""
    )


def apply_status_callback(form: Mapping[str, str], message_ref: str | None, now: datetime) -> str:
    """Move the row a status callback names forward; return what happened (for logs/tests)."""
    message = find_message(message_ref, form.get("MessageSid"))
    if message is None:
        return "unknown-message"
    progress = TWILIO_PROGRESS.get((form.get("MessageStatus") or "").lower())
    if progress is None or message.status not in MOVABLE:
        return "ignored"
    if progress[0] <= _progress_of(message):
        return "ignored"  # a duplicate, or news older than what we know
    if not _move(message, form, progress[1], now):
        return "ignored"  # another callback moved it meanwhile
    apply_provider_error(message.worker, form.get("ErrorCode") or None, now)
    db.session.flush()
    return progress[1]


def find_message(message_ref: str | None, provider_sid: str | None) -> OutboundMessage | None:
    """The row by our id (?m=) or, failing that, by Twilio's MessageSid; None if neither fits."""
    message = None
    if message_ref and (number := message_id(message_ref)) is not None:
        message = db.session.get(OutboundMessage, number)
    if message is None and provider_sid:
        message = db.session.scalar(
            select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid)
        )
    if message is not None and provider_sid and message.provider_sid not in (None, provider_sid):
        return None  # our id, someone else's message: not ours to change
    return message


def message_id(message_ref: str) -> int | None:
    """Our message id from a callback's ``m``: ASCII digits within a database integer, else None."""
    if not re.fullmatch(r"[0-9]{1,10}", message_ref) or not 0 < int(message_ref) <= MAX_MESSAGE_ID:
        return None
    return int(message_ref)


def twilio_inbound(form: Mapping[str, str]) -> InboundSms:
    """An inbound SMS from Twilio's form post (From, Body, MessageSid)."""
    return InboundSms(
        provider="twilio",
        provider_sid=(form.get("MessageSid") or "")[:MAX_SID] or None,
        from_phone=phone_of(form.get("From", "")),
        body=(form.get("Body") or "")[:MAX_BODY],
    )


def aliyun_uplinks(payload: Any) -> list[InboundSms]:
    """The uplink messages of an SmsUp HTTP push: a JSON array of objects with
    phone_number, content, send_time, sign_name, dest_code and sequence_id (a number in
    older documents, a string in newer ones). Items without a number are skipped."""
    if not isinstance(payload, list):
        raise MalformedPush("an SmsUp push is a JSON array")
    found = []
    for item in payload:
        if not isinstance(item, dict) or not str(item.get("phone_number") or "").strip():
            continue
        sequence = item.get("sequence_id")
        found.append(
            InboundSms(
                provider="aliyun",
                provider_sid=f"aliyun:{sequence}"[:MAX_SID] if sequence not in (None, "") else None,
                from_phone=phone_of(str(item["phone_number"])),
                body=str(item.get("content") or "")[:MAX_BODY],
                sent_at=aliyun_time(item.get("send_time")),
            )
        )
    return found


def token_matches(configured: str | None, given: str | None) -> bool:
    """Whether the push carries our secret token (compared in constant time)."""
    if not configured or not given:
        return False
    return hmac.compare_digest(configured.encode(), given.encode())


def phone_of(raw: str) -> str:
    """A sender's number, trimmed to what InboundReply.from_phone holds."""
    return raw.strip()[:20]


def aliyun_time(value: Any) -> datetime | None:
    """Aliyun's "2017-09-01 00:00:00" (or "20170901000000"), Beijing time, as an aware
    datetime (SmsUp's send_time, a receipt's ReceiveDate); None if unreadable."""
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(str(value), layout).replace(tzinfo=ALIYUN_TIME_ZONE)
        except ValueError:
            continue
    return None


def _progress_of(message: OutboundMessage) -> int:
    if message.status != m.MSG_SENT:
        return 0  # sending / unknown: any news from Twilio is news
    return TWILIO_PROGRESS.get((message.provider_status or "").lower(), (0, ""))[0]


def _move(message: OutboundMessage, form: Mapping[str, str], status: str, now: datetime) -> bool:
    """Write the news if the row is still as we read it (a concurrent callback may not be undone)."""
    word = form["MessageStatus"].lower()
    values: dict[str, Any] = {
        "status": status,
        "provider_status": word,
        "provider": message.provider or "twilio",
        "provider_sid": message.provider_sid or form.get("MessageSid"),
        "sent_at": message.sent_at or now,  # it reached Twilio, whatever we thought
    }
    if status == m.MSG_DELIVERED:
        values["delivered_at"] = now
    if code := form.get("ErrorCode"):
        values["error_code"], values["error_message"] = code, f"Twilio {word} ({code})"
    om = OutboundMessage
    result = db.session.execute(
        update(om)
        .where(
            om.id == message.id,
            om.status == message.status,
            func.coalesce(om.provider_status, "") == (message.provider_status or ""),
        )
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1
