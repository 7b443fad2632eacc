"""Places: counties, pickup points, drop-off sites, employers, welfare-pack handouts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.models.types import UTCDateTime

PICKUP = "pickup"
DROPOFF = "dropoff"


class County(db.Model):
    """One of Linfen's 17 counties and districts; coordinators are scoped to counties."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "hongtong"
    name_zh: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    region_code: Mapped[str | None] = mapped_column(String(6))  # GB/T 2260, e.g. 141024
    default_pickup_id: Mapped[str | None] = mapped_column(
        ForeignKey("site.id", use_alter=True), default=None
    )

    default_pickup: Mapped[Site | None] = relationship(foreign_keys=[default_pickup_id])

    def display_name(self, locale: str = "zh") -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Site(db.Model):
    """A place where a bus stops: a county pickup point or a drop-off site."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "js-kunshan"
    kind: Mapped[str] = mapped_column(String(10), index=True)  # PICKUP or DROPOFF
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(40), default="")
    lat: Mapped[float]
    lon: Mapped[float]
    address: Mapped[str] = mapped_column(String(200), default="")
    county_id: Mapped[str | None] = mapped_column(ForeignKey("county.id"), index=True)
    handout_place: Mapped[str] = mapped_column(
        String(200), default=""
    )  # welfare packs (pickup points)
    default_window: Mapped[str] = mapped_column(String(20), default="")  # e.g. "06:30-07:30"
    active: Mapped[bool] = mapped_column(default=True)

    county: Mapped[County | None] = relationship(foreign_keys=[county_id])

    def display_name(self, locale: str = "zh") -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Employer(db.Model):
    """A company in Shanghai or Jiangsu that hires through the programme."""

    __table_args__ = (UniqueConstraint("name", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)

    site: Mapped[Site] = relationship()


class WelfareHandout(db.Model):
    """Where and when workers of one pickup point collect their welfare pack on a date."""

    __table_args__ = (UniqueConstraint("site_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id"))
    date: Mapped[date]
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())

    site: Mapped[Site] = relationship()
