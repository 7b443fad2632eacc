"""Plans, trips, their stops and seats, and changes to published trips."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from dispatch.extensions import db
from dispatch.models.fleet import Coach, CoachType, Driver
from dispatch.models.reference import Site
from dispatch.models.types import UTCDateTime, utcnow
from dispatch.models.workers import Worker

PLAN_QUEUED = "queued"  # waiting for a planning worker (dispatch/jobs/planning_worker.py)
PLAN_RUNNING = "running"
PLAN_CANCELLED = "cancelled"
PLAN_FAILED = "failed"
PLAN_DRAFT = "draft"
PLAN_PUBLISHED = "published"
PLAN_SUPERSEDED = "superseded"
PLAN_DISCARDED = "discarded"
PLAN_MERGED = "merged"  # a top-up draft, published into the live plan it topped up


class Plan(db.Model):
    """One planner run over a date range: a draft until published, then live."""

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default=PLAN_QUEUED, index=True)
    date_from: Mapped[date]
    date_to: Mapped[date]
    scope: Mapped[dict] = mapped_column(JSON, default=dict)  # counties/destinations chosen
    progress: Mapped[float] = mapped_column(default=0.0)
    progress_message: Mapped[str] = mapped_column(String(200), default="")
    # The runner's last sign of life: a running plan silent for long is shown as stalled.
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    time_limit_s: Mapped[float | None]  # the planner's budget; a re-plan reuses it
    # The job (services/plan_queue.py): who runs it, the claim that lets it store its result,
    # and its last heartbeat; a claim whose heartbeat goes stale is taken up again.
    attempts: Mapped[int] = mapped_column(default=0)  # claims counted towards the limit
    restarts: Mapped[int] = mapped_column(default=0)  # times taken up again after a stop
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # "host pid 123"
    claim_token: Mapped[str | None] = mapped_column(String(40))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cost: Mapped[float | None]
    lower_bound_cost: Mapped[float | None]
    gap: Mapped[float | None]
    seconds: Mapped[float | None]
    unassigned: Mapped[list] = mapped_column(JSON, default=list)  # [{group, reason, workers}]
    # Deferred: only planning reads it, and at 3,000 workers decoding it costs every trip page ~12 ms.
    problem: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    # The planner's LP prices (the plan file's `prices`: date, pickup, dropoff, per_seat), for
    # the suggestions page; None for plans bounded without column generation. Deferred: only
    # that page reads it, and a season has thousands (its dates times its demands).
    prices: Mapped[list | None] = mapped_column(JSON, deferred=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # When the publish notices were written: at publishing for a plan of up to
    # PUBLISH_NOTICES_INLINE seats, else by the scheduler's next tick (None until then).
    notices_written_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    trips: Mapped[list[Trip]] = relationship(
        back_populates="plan",
        order_by="(Trip.date, Trip.number, Trip.id)",
        cascade="all, delete-orphan",
    )

    def cost_changed(self, cost: float, bound: float | None = None) -> None:
        """A new cost (a bus taken off, a top-up merged in), and with it the gap over the
        bound, which stays valid: the plan still serves at least the groups it was proven for,
        and serving more never costs less. ``bound``, another proven bound of some of the
        plan's groups (the merged top-up's), is kept when it is higher."""
        self.cost = round(cost, 2)
        if bound is not None and (self.lower_bound_cost is None or bound > self.lower_bound_cost):
            self.lower_bound_cost = bound
        if self.lower_bound_cost is not None and self.cost:
            self.gap = max(0.0, (self.cost - self.lower_bound_cost) / self.cost)


class Trip(db.Model):
    """One bus on one day: its coach, crew, stops in order and seats."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # "T1": unique in a season, kept once published
    number: Mapped[int | None]  # the code's number, set with it: buses sort T2 before T10
    date: Mapped[date] = mapped_column(index=True)
    departure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    coach_type_id: Mapped[str] = mapped_column(ForeignKey("coach_type.id"))
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("coach.id"))
    driver1_id: Mapped[int | None] = mapped_column(ForeignKey("driver.id"))
    driver2_id: Mapped[int | None] = mapped_column(ForeignKey("driver.id"))
    captain_worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"))
    locked: Mapped[bool] = mapped_column(default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    km: Mapped[float] = mapped_column(default=0.0)
    cost: Mapped[float] = mapped_column(default=0.0)
    # The key of the driver's manifest link (services/driver_links.py); rotate to revoke links.
    manifest_key: Mapped[str] = mapped_column(String(40), default=lambda: secrets.token_urlsafe(9))
    version: Mapped[int] = mapped_column(default=1)

    plan: Mapped[Plan] = relationship(back_populates="trips")
    coach_type: Mapped[CoachType] = relationship()
    coach: Mapped[Coach | None] = relationship()
    driver1: Mapped[Driver | None] = relationship(foreign_keys=[driver1_id])
    driver2: Mapped[Driver | None] = relationship(foreign_keys=[driver2_id])
    captain: Mapped[Worker | None] = relationship()
    stops: Mapped[list[TripStop]] = relationship(
        order_by="TripStop.seq", cascade="all, delete-orphan", back_populates="trip"
    )
    seats: Mapped[list[SeatAssignment]] = relationship(
        order_by="SeatAssignment.seat_no", cascade="all, delete-orphan", back_populates="trip"
    )

    __mapper_args__ = {"version_id_col": version}

    @validates("code")
    def _set_number(self, _key: str, code: str) -> str:
        self.number = bus_number(code)
        return code

    @property
    def contact_driver(self) -> Driver | None:
        """The driver the passengers' departure notice tells them to call."""
        return self.driver1 or self.driver2


def bus_number(code: str) -> int | None:
    """T12 → 12; None for a code without a number."""
    found = re.search(r"\d+", code or "")
    return int(found.group()) if found else None


class TripStop(db.Model):
    """A stop of a trip, in order; pickups come before drop-offs."""

    __table_args__ = (UniqueConstraint("trip_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trip.id"), index=True)
    seq: Mapped[int]
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(String(10))  # pickup / dropoff
    leg_km: Mapped[float] = mapped_column(default=0.0)  # from the previous stop
    eta: Mapped[datetime] = mapped_column(UTCDateTime())
    # At a drop-off: when the bus arrived and how many workers were handed over there.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handed_over: Mapped[int | None]

    trip: Mapped[Trip] = relationship(back_populates="stops")
    # Joined: a trip's stops are always shown with their sites (one query, not one per stop).
    site: Mapped[Site] = relationship(lazy="joined", innerjoin=True)


class SeatAssignment(db.Model):
    """A worker in a numbered seat of a trip.

    The database guarantees a seat holds one worker (trip, seat_no) and a worker holds
    one seat per plan (plan, worker); seat numbers are checked against the coach's
    passenger seats when written.
    """

    __table_args__ = (
        UniqueConstraint("trip_id", "seat_no"),
        UniqueConstraint("plan_id", "worker_id"),
        CheckConstraint("seat_no >= 1", name="seat_no_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    trip_id: Mapped[int] = mapped_column(ForeignKey("trip.id"))
    seat_no: Mapped[int]
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    locked: Mapped[bool] = mapped_column(default=False)
    boarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pack_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # handed over at the gate
    # The worker's answer to the departure notice (messages.REPLY_CONFIRMED / REPLY_DECLINED).
    reply: Mapped[str | None] = mapped_column(String(10))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    trip: Mapped[Trip] = relationship(back_populates="seats")
    # Joined: seat maps always show who sits there; on PostgreSQL a query per seat (N+1)
    # cost the trip page and the trip API ~45 round trips (bench/load.py).
    worker: Mapped[Worker] = relationship(lazy="joined", innerjoin=True)


class TripChange(db.Model):
    """A change to a published trip that affects one worker (bus, seat, time, pickup…)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trip.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))  # bus, seat, time, pickup, driver, cancelled
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
