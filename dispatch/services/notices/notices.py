"""Notices for workers and drivers, written to the outbox (the tick sends them; nothing here does).

The services the rest of dispatch calls: ``schedule_for_published_plan`` after publishing,
``schedule_changes`` after seat changes on a published trip, ``estimate`` before publishing.
They take ``now`` and the configuration (app.config or a NoticeSettings), flush, and leave
the commit to the caller.

Every row carries ``dedupe_key`` = ``kind:w<worker>:t<trip>:v<version>`` (drivers:
``driver:d<driver>:t<trip>:v<version>``), so scheduling twice writes nothing new. Version 1
is what publishing says; each round of changes to a worker's journey on a trip is the next.

A worker who cannot receive SMS (no consent, opted out, number invalid) still gets the row,
with status ``suppressed`` and the reason, never sent: the messages page and the manifest
show from these rows who must be phoned, and the text is there to read out. Due times and
urgency: journeys.py; the wording: texts.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from dispatch.extensions import db
from dispatch.models import (
    OutboundMessage,
    Plan,
    SeatAssignment,
    Trip,
    TripChange,
    TripStop,
    Worker,
    utcnow,
)
from dispatch.models import messages as m
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.models.workers import CANCELLED
from dispatch.notify.writer import Draft, insert_drafts
from dispatch.services.notices.changes import change_drafts
from dispatch.services.notices.journeys import (
    ALL_KINDS,
    CANCELLATION,
    CHANGE,
    DEPARTURE,
    DRIVER,
    KINDS,
    REMINDER,
    WAITING,
    WELFARE,
    NoticeSettings,
    driver_drafts,
    journey_at,
    journey_drafts,
    pickup_stop,
    welfare_handouts,
)

__all__ = [
    "ALL_KINDS",
    "CANCELLATION",
    "CHANGE",
    "DEPARTURE",
    "DRIVER",
    "KINDS",
    "REMINDER",
    "WAITING",
    "WELFARE",
    "Estimate",
    "NoticeSettings",
    "Preview",
    "estimate",
    "pickup_stop",
    "preview",
    "publish_drafts",
    "schedule_changes",
    "schedule_driver_notices",
    "schedule_for_published_plan",
]

Settings = Mapping[str, Any] | NoticeSettings


class Estimate(NamedTuple):
    messages: int  # rows that would be sent (suppressed ones are not)
    segments: int
    cost_cny: float


def schedule_for_published_plan(plan: Plan, now: datetime, settings: Settings) -> int:
    """Write the publish notices of every seated worker and every set driver; rows created."""
    return insert_drafts(publish_drafts(plan, now, NoticeSettings.from_config(settings)))


def schedule_deferred(now: datetime, settings: Settings) -> int:
    """Write the publish notices of the live plans published without them (more seats than
    PUBLISH_NOTICES_INLINE), oldest first; rows created. A plan no longer live gets none."""
    waiting = db.session.scalars(
        select(Plan)
        .where(Plan.status == PLAN_PUBLISHED, Plan.notices_written_at.is_(None))
        .order_by(Plan.published_at, Plan.id)
        .with_for_update()  # a seat change meanwhile waits, then announces itself (pending)
    ).all()
    created = 0
    for plan in waiting:
        created += schedule_for_published_plan(plan, now, settings)
        plan.notices_written_at = utcnow()
    db.session.flush()
    return created


def schedule_changes(trip: Trip, now: datetime, settings: Settings) -> int:
    """Turn the trip's unnotified TripChange rows into notices; mark them notified; rows created.

    While the plan's publish notices are still to be written (schedule_deferred), a change
    writes none: those notices will state the journey as it then stands, and a change notice
    now would give the worker two departure notices, the first already out of date.
    """
    if pending(trip.plan):
        for change in db.session.scalars(
            select(TripChange).where(
                TripChange.trip_id == trip.id, TripChange.notified_at.is_(None)
            )
        ):
            change.notified_at = now
        db.session.flush()
        return 0
    return insert_drafts(change_drafts(trip, now, NoticeSettings.from_config(settings)))


def pending(plan: Plan) -> bool:
    """Whether ``plan`` is published with its publish notices still to be written. While they
    are, waits for the plan's row (PostgreSQL), which the scheduler holds as it writes them, so
    that a change made meanwhile is announced by its own notice once they are written, never
    lost between. Once written they stay written, so only that window takes the lock."""
    if plan.status != PLAN_PUBLISHED:
        return False
    written = select(Plan.notices_written_at).where(Plan.id == plan.id)
    if db.session.execute(written).scalar_one() is not None:
        return False
    return db.session.execute(written.with_for_update()).scalar_one() is None


def schedule_driver_notices(
    trip: Trip,
    now: datetime,
    settings: Settings,
    *,
    fresh: bool = False,
    why: str = "manifest link rotated; a new notice replaces it",
) -> int:
    """Tell the trip's drivers (of a published plan) about it; rows created.

    Without ``fresh`` only drivers who were never told get a notice (a driver newly put on
    the trip). With ``fresh`` (the manifest link was rotated, or the departure time moved)
    every driver gets the next version, and their unsent older notices, which carry the
    revoked link or the old time, are withdrawn (``why`` says which).
    """
    if trip.plan.status != "published" or trip.cancelled_at is not None or pending(trip.plan):
        return 0  # pending: the plan's publish notices, still to come, tell its drivers
    s = NoticeSettings.from_config(settings)
    if not fresh:
        return insert_drafts(driver_drafts(trip, now, s))
    om = OutboundMessage
    driver_ids = [d.id for d in (trip.driver1, trip.driver2) if d is not None]
    version = 1 + (
        db.session.scalar(
            select(func.max(om.version)).where(om.trip_id == trip.id, om.driver_id.in_(driver_ids))
        )
        or 0
    )
    db.session.execute(
        update(om)
        .where(om.trip_id == trip.id, om.kind == DRIVER, om.status == m.MSG_PENDING)
        .values(status=m.MSG_CANCELLED, error_message=why),
        execution_options={"synchronize_session": False},
    )
    return insert_drafts(driver_drafts(trip, now, s, version))


def estimate(
    plan: Plan,
    settings: Settings | None = None,
    now: datetime | None = None,
    skip: Collection[int] = (),
) -> Estimate:
    """What publishing ``plan`` at ``now`` would send: (messages, segments, cost in CNY).

    Without ``settings`` it reads current_app.config, without ``now`` the clock: for pages.
    ``skip``: workers publishing will drop (they are sent nothing).
    """
    return preview(plan, settings, now, skip).estimate


class Preview(NamedTuple):
    estimate: Estimate
    samples: tuple[Draft, ...]  # the first notice of each kind that would be sent, in KINDS order
    counts: dict[str, int]  # notices that would be sent, by kind
    suppressed: int  # rows written but never sent (no consent, opted out): phone these workers


def preview(
    plan: Plan,
    settings: Settings | None = None,
    now: datetime | None = None,
    skip: Collection[int] = (),
) -> Preview:
    """The estimate, one sample of each kind and the counts of publishing ``plan`` (nothing written)."""
    if settings is None:
        from flask import current_app

        settings = current_app.config
    s = NoticeSettings.from_config(settings)
    every = publish_drafts(plan, now or utcnow(), s, skip)
    drafts = [d for d in every if d.status == m.MSG_PENDING]
    segments = sum(d.segments for d in drafts)
    counts = Counter(d.kind for d in drafts)
    firsts = {d.kind: d for d in reversed(drafts)}
    samples = tuple(firsts[k] for k in (*KINDS, *sorted(set(firsts) - set(KINDS))) if k in firsts)
    cost = round(segments * s.price_per_segment, 2)
    return Preview(
        Estimate(len(drafts), segments, cost), samples, dict(counts), len(every) - len(drafts)
    )


def publish_drafts(
    plan: Plan, now: datetime, s: NoticeSettings, skip: Collection[int] = ()
) -> list[Draft]:
    """Every notice publishing ``plan`` calls for, except to the workers in ``skip`` (nothing written)."""
    live = (
        select(SeatAssignment.worker_id, SeatAssignment.trip_id, SeatAssignment.seat_no)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .where(SeatAssignment.plan_id == plan.id, Trip.cancelled_at.is_(None))
    )
    # Seats as columns and workers alone: a season's 99,344 seats loaded as SeatAssignment
    # rows, each joined to its worker and the worker's pickup point, took 9 s of ORM work.
    seats = db.session.execute(
        live.order_by(Trip.date, Trip.number, Trip.id, SeatAssignment.seat_no)
    ).all()
    ids = live.with_only_columns(SeatAssignment.worker_id).scalar_subquery()
    workers = {w.id: w for w in db.session.scalars(select(Worker).where(Worker.id.in_(ids)))}
    trips = {
        t.id: t
        for t in db.session.scalars(
            select(Trip)
            .where(Trip.plan_id == plan.id)
            .options(selectinload(Trip.stops).selectinload(TripStop.site))
        )
    }
    handouts = welfare_handouts(plan)
    drafts: list[Draft] = []
    for worker_id, trip_id, seat_no in seats:
        worker = workers[worker_id]
        if worker.status != CANCELLED and worker_id not in skip:
            drafts += journey_drafts(
                journey_at(trips[trip_id], worker, seat_no), 1, now, s, handouts
            )
    aboard = Counter(trip_id for _, trip_id, _ in seats)  # loading each bus's seats took 7-11 s
    for trip in sorted(plan.trips, key=lambda t: (t.date, t.number or 0, t.id)):
        if trip.cancelled_at is None:
            drafts += driver_drafts(trip, now, s, passengers=aboard[trip.id])
    return drafts


def schedule_pending_changes(now: datetime, settings: Settings) -> int:
    """Turn every change not yet announced, on any published trip, into notices."""
    trip_ids = db.session.scalars(
        select(TripChange.trip_id).where(TripChange.notified_at.is_(None)).distinct()
    )
    created = 0
    for trip_id in sorted(set(trip_ids)):
        trip = db.session.get(Trip, trip_id)
        if trip is not None and trip.plan.status == "published":
            created += schedule_changes(trip, now, settings)
    return created
