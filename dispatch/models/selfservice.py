"""What workers do themselves: SMS verification codes and scanned e-tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.models.types import UTCDateTime, utcnow

PURPOSE_JOIN = "join"  # proving the mobile on /join
PURPOSE_TICKET = "ticket"  # opening one's own ticket on /ticket


class VerificationCode(db.Model):
    """A 6-digit code sent by SMS; only its hash is kept, and it allows a few tries."""

    __table_args__ = (Index("ix_verification_code_phone_created", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    purpose: Mapped[str] = mapped_column(String(10))
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_ip: Mapped[str] = mapped_column(String(64), default="")


SCAN_BOARDED = "boarded"
SCAN_DUPLICATE = "duplicate"  # this ticket was counted already
SCAN_WRONG_BUS = "wrong_bus"
SCAN_CANCELLED = "cancelled"  # the seat is no longer this worker's
SCAN_INVALID = "invalid"  # not a ticket of ours, or its signature is wrong


class BoardingScan(db.Model):
    """One scan of an e-ticket on a driver's page; ``scan_uid`` (made by the phone) makes a
    scan queued offline and sent twice count once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_uid: Mapped[str] = mapped_column(String(64), unique=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trip.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"))
    outcome: Mapped[str] = mapped_column(String(12))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())  # on the phone
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
