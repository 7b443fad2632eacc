"""Workers who travel, and the states they pass through."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.models.reference import County, Employer, Site
from dispatch.models.types import ONLY_ON, UTCDateTime, utcnow

PENDING = "pending"  # registered by the worker (/join), awaiting a coordinator; never planned
REGISTERED = "registered"
ASSIGNED = "assigned"
NOTIFIED = "notified"
BOARDED = "boarded"
NO_SHOW = "no_show"
ARRIVED = "arrived"  # handed over to the employer at the drop-off stop
CANCELLED = "cancelled"
WORKER_STATUSES = (PENDING, REGISTERED, ASSIGNED, NOTIFIED, BOARDED, NO_SHOW, ARRIVED, CANCELLED)

# Where a worker's registration came from.
SOURCE_COORDINATOR = "coordinator"  # the form, an import or the API
SOURCE_SELF = "self"  # the worker, by the public /join page


def _trigram_index(column: str) -> Index:
    """PostgreSQL only: a trigram index serves the search's ``LIKE '%text%'`` (a B-tree cannot)."""
    return Index(
        f"ix_worker_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        info={ONLY_ON: "postgresql"},
    ).ddl_if(dialect="postgresql")


class Worker(db.Model):
    """A person registered to travel; ``group_code`` binds those who travel together."""

    __table_args__ = (
        Index("ix_worker_county_status", "county_id", "status"),
        Index("ix_worker_dates", "earliest_date", "latest_date"),
        _trigram_index("name"),
        _trigram_index("phone"),
        _trigram_index("id_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))  # "M" or "F", from the ID number
    county_id: Mapped[str] = mapped_column(ForeignKey("county.id"))
    township: Mapped[str] = mapped_column(String(80), default="")
    pickup_site_id: Mapped[str] = mapped_column(ForeignKey("site.id"))
    destination_site_id: Mapped[str] = mapped_column(ForeignKey("site.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"))
    earliest_date: Mapped[date]
    latest_date: Mapped[date]
    group_code: Mapped[str | None] = mapped_column(String(40), index=True)
    sms_consent: Mapped[bool] = mapped_column(default=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opt_out_source: Mapped[str | None] = mapped_column(String(20))
    phone_invalid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=REGISTERED, index=True)
    source: Mapped[str] = mapped_column(String(12), default=SOURCE_COORDINATOR)
    # A self-registration's review: who accepted or declined it, when, and why it was declined.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    county: Mapped[County] = relationship()
    pickup_site: Mapped[Site] = relationship(foreign_keys=[pickup_site_id])
    destination_site: Mapped[Site] = relationship(foreign_keys=[destination_site_id])
    employer: Mapped[Employer | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def can_receive_sms(self) -> bool:
        return self.sms_consent and self.opted_out_at is None and self.phone_invalid_at is None

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


# The trigram indexes need the pg_trgm extension (a trusted extension since PostgreSQL 13).
event.listen(
    Worker.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)
