"""The SMS outbox: the one record of what must be, and what was, sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.models.types import UTCDateTime, utcnow
from dispatch.models.workers import Worker

MSG_PENDING = "pending"  # waiting for its time
MSG_SENDING = "sending"  # claimed by a tick; outcome not yet recorded
MSG_SENT = "sent"  # accepted by the provider
MSG_DELIVERED = "delivered"
MSG_FAILED = "failed"  # definite failure
MSG_UNKNOWN = "unknown"  # outcome unknown (timeout): a person must look
MSG_CANCELLED = "cancelled"  # superseded or withdrawn before sending
MSG_EXPIRED = "expired"  # no longer useful when its turn came
MSG_SUPPRESSED = "suppressed"  # no consent, opted out or invalid number


class OutboundMessage(db.Model):
    """One SMS to one recipient; ``dedupe_key`` = kind:recipient:trip:version, unique."""

    __table_args__ = (Index("ix_outbound_message_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # departure, reminder, welfare, change, ...
    version: Mapped[int] = mapped_column(default=1)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"), index=True)
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("driver.id"))
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trip.id"), index=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)  # the text as the phone shows it, signature included
    # The template's variables, one by one, as a template-only provider (Aliyun) takes them;
    # ``body`` is rendered from the same template and values.
    params: Mapped[dict | None] = mapped_column(JSON)
    segments: Mapped[int] = mapped_column(default=1)
    urgent: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=MSG_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(20))
    # Wide enough for a provider's codes (Aliyun: isv.TEMPLATE_MISSING_PARAMETERS).
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When to next ask the provider for a delivery receipt (polled providers: Aliyun);
    # None once the receipt came or 72 h passed (notify/receipts.py).
    receipt_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    worker: Mapped[Worker | None] = relationship()


REPLY_CONFIRMED = "confirmed"  # "1": coming
REPLY_DECLINED = "declined"  # "2": not coming; the seat is freed
REPLY_OPT_OUT = "opt_out"  # T, TD, 退订…
REPLY_UNRECOGNISED = "unrecognised"  # anything else: a coordinator reads it


class InboundReply(db.Model):
    """An SMS a worker (or anyone) sent back, and what dispatch made of it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # replays are ignored
    from_phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    body: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"), index=True)
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trip.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(14))  # REPLY_*
    # A coordinator who has dealt with an unrecognised reply marks it handled.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    worker: Mapped[Worker | None] = relationship()
