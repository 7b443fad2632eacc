"""Coaches, their types and drivers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db


class Operator(db.Model):
    """A coach operator (客运企业) that sends coaches and drivers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    licence_no: Mapped[str] = mapped_column(String(40), default="")  # 道路运输经营许可证号
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)


class CoachType(db.Model):
    """A kind of coach: rated seats (as licensed), crew seats and the charter price."""

    __table_args__ = (
        CheckConstraint("crew_seats >= 0 AND crew_seats < rated_seats", name="crew_lt_rated"),
    )

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # e.g. "c53"
    name: Mapped[str] = mapped_column(String(60))
    rated_seats: Mapped[int]
    crew_seats: Mapped[int] = mapped_column(default=2)
    fixed_cost: Mapped[float]  # CNY per charter
    cost_per_km: Mapped[float] = mapped_column(default=3.0)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def passenger_seats(self) -> int:
        return self.rated_seats - self.crew_seats


class Driver(db.Model):
    """A coach driver; long-distance coaches carry two."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    operator: Mapped[str] = mapped_column(
        String(80), default=""
    )  # the operator's name, kept in step
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), index=True)
    licence_class: Mapped[str] = mapped_column(String(10), default="")  # e.g. A1
    qualification_no: Mapped[str] = mapped_column(String(40), default="")  # 从业资格证号
    qualification_expires: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)

    operator_ref: Mapped[Operator | None] = relationship()


class Coach(db.Model):
    """A physical coach of an operator, with its usual crew."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. 晋L·A1234
    operator: Mapped[str] = mapped_column(String(80), default="")
    coach_type_id: Mapped[str] = mapped_column(ForeignKey("coach_type.id"), index=True)
    driver1_id: Mapped[int | None] = mapped_column(ForeignKey("driver.id"))
    driver2_id: Mapped[int | None] = mapped_column(ForeignKey("driver.id"))
    active: Mapped[bool] = mapped_column(default=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), index=True)
    depot_site_id: Mapped[str | None] = mapped_column(ForeignKey("site.id"))  # its home depot
    certificate_no: Mapped[str] = mapped_column(String(40), default="")  # 道路运输证号
    certificate_expires: Mapped[date | None]

    coach_type: Mapped[CoachType] = relationship()
    operator_ref: Mapped[Operator | None] = relationship()
    driver1: Mapped[Driver | None] = relationship(foreign_keys=[driver1_id])
    driver2: Mapped[Driver | None] = relationship(foreign_keys=[driver2_id])
