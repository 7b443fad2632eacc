"""Publishing a draft: recheck every seat against what is live now, then make the draft live.

A draft is a snapshot: between planning and publishing a worker may have been withdrawn,
seated by another published plan (two drafts over overlapping windows), or have changed
dates or destination. Publishing drops those seats with a reason, shows them to the
coordinator, and sends those workers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update

from dispatch.extensions import db
from dispatch.identity import mask_phone
from dispatch.models import Driver, Plan, SeatAssignment, Trip, User, Worker, utcnow
from dispatch.models import trips as t
from dispatch.models.workers import ASSIGNED, CANCELLED, REGISTERED
from dispatch.services import audit, bus_codes, plan_queries, topup_publish
from dispatch.services.notices.driver_cancel import schedule_driver_cancellation
from dispatch.services.notices.notices import preview, schedule_changes, schedule_for_published_plan
from dispatch.services.planning import PlanningError

PUBLISH_LOCK = 72_611  # pg_advisory_xact_lock key: one publisher at a time, across processes
SEATED_ELSEWHERE, WITHDRAWN, NOT_OPEN = "seated_elsewhere", "withdrawn", "not_open"
WINDOW, DESTINATION, PICKUP = "window", "destination", "pickup"


@dataclass(frozen=True)
class Drop:
    """A seat of the draft that publishing will not keep, and why."""

    worker_id: int
    name: str
    county_id: str
    trip_code: str
    reason: str  # one of the constants above
    detail: str = ""  # the other bus ("T3 2026-03-01") or the worker's status


@dataclass(frozen=True)
class Sample:
    """One notice publishing will queue, as its recipient would read it."""

    kind: str
    recipient: str
    phone: str  # masked
    body: str
    segments: int


@dataclass(frozen=True)
class PublishPreview:
    seated: int
    buses: int
    drops: list[Drop]
    emptied: list[str]  # codes of buses every passenger of which is dropped: not published
    messages: int
    segments: int
    cost_cny: float
    counts: dict[str, int]
    suppressed: int
    samples: list[Sample]


@dataclass(frozen=True)
class Published:
    seated: int
    drops: list[Drop]
    emptied: list[str]
    merged: topup_publish.Merged | None = None  # a top-up: what it added to the live plan


def seat_problems(plan: Plan) -> list[Drop]:
    """The seats of ``plan`` that can no longer stand, checked against published seats and statuses."""
    seats = list(
        db.session.scalars(
            select(SeatAssignment)
            .join(Trip, Trip.id == SeatAssignment.trip_id)
            .where(SeatAssignment.plan_id == plan.id, Trip.cancelled_at.is_(None))
            .order_by(Trip.date, Trip.number, SeatAssignment.seat_no)
        )
    )
    elsewhere = _live_seats([s.worker_id for s in seats], plan.id)
    expected = topup_publish.expected_seats(plan)  # a top-up: already live where it found them
    drops = []
    for seat in seats:
        live = elsewhere.get(seat.worker_id)
        if live is not None and expected.get(seat.worker_id) == live.id:
            continue
        problem = _problem(seat, live)
        if problem is not None:
            w = seat.worker
            drops.append(Drop(w.id, w.name, w.county_id, seat.trip.code, *problem))
    return drops


def _live_seats(worker_ids: list[int], plan_id: int) -> dict[int, Trip]:
    """Each worker's seat on a running bus of a published plan other than ``plan_id``."""
    found: dict[int, Trip] = {}
    for start in range(0, len(worker_ids), 500):
        rows = db.session.execute(
            select(SeatAssignment.worker_id, Trip)
            .join(Trip, Trip.id == SeatAssignment.trip_id)
            .join(Plan, Plan.id == Trip.plan_id)
            .where(
                SeatAssignment.worker_id.in_(worker_ids[start : start + 500]),
                Plan.id != plan_id,
                Plan.status == t.PLAN_PUBLISHED,
                Trip.cancelled_at.is_(None),
            )
        )
        found.update({worker_id: trip for worker_id, trip in rows})
    return found


def _problem(seat: SeatAssignment, elsewhere: Trip | None) -> tuple[str, str] | None:
    worker, trip = seat.worker, seat.trip
    if elsewhere is not None:
        return SEATED_ELSEWHERE, f"{elsewhere.code} {elsewhere.date.isoformat()}"
    if worker.status == CANCELLED:
        return WITHDRAWN, ""
    if worker.status not in (REGISTERED, ASSIGNED):
        return NOT_OPEN, worker.status
    if not worker.earliest_date <= trip.date <= worker.latest_date:
        return WINDOW, f"{worker.earliest_date.isoformat()} – {worker.latest_date.isoformat()}"
    if worker.destination_site_id not in {s.site_id for s in trip.stops if s.kind == "dropoff"}:
        return DESTINATION, ""
    if worker.pickup_site_id not in {s.site_id for s in trip.stops if s.kind == "pickup"}:
        return PICKUP, ""
    return None


def publish_preview(
    plan: Plan, settings: Mapping[str, Any], now: datetime | None = None
) -> PublishPreview:
    """What publishing ``plan`` now would do: seats kept and dropped, SMS, cost, one sample of each kind."""
    drops = seat_problems(plan)
    dropped = {d.worker_id for d in drops}
    kept = topup_publish.unchanged(plan)  # a top-up tells nobody whose seat it keeps as it is
    result = preview(plan, settings, now or utcnow(), dropped | kept)
    seated = sum(1 for trip in plan.trips for s in trip.seats if s.worker_id not in dropped | kept)
    emptied = [trip.code for trip in plan.trips if {s.worker_id for s in trip.seats} <= dropped]
    return PublishPreview(
        seated=seated,
        buses=len(plan.trips) - len(emptied),
        drops=drops,
        emptied=emptied,
        messages=result.estimate.messages,
        segments=result.estimate.segments,
        cost_cny=result.estimate.cost_cny,
        counts=result.counts,
        suppressed=result.suppressed,
        samples=[_sample(d) for d in result.samples],
    )


def _sample(draft) -> Sample:
    if draft.worker_id is not None:
        who = db.session.get(Worker, draft.worker_id).name
    else:
        who = db.session.get(Driver, draft.driver_id).name
    return Sample(draft.kind, who, mask_phone(draft.to_phone), draft.body, draft.segments)


def publish(plan: Plan, user: User | None, now: datetime | None = None, settings=None) -> Published:
    """Make a draft the live plan: drop the seats that no longer stand, keep the rest, queue notices."""
    _one_publisher_at_a_time(plan)
    if plan.status != t.PLAN_DRAFT:
        raise PlanningError(f"plan {plan.id} is {plan.status}, not a draft")
    if not plan.trips:
        raise PlanningError(f"plan {plan.id} has no bus to publish")
    drops = seat_problems(plan)
    _drop(plan, drops)
    target = topup_publish.target_of(plan)
    if target is not None:  # a top-up merges into the live plan: its buses keep their ids
        return _publish_topup(plan, target, user, now or utcnow(), settings, drops)
    emptied = _remove_empty_buses(plan)
    if not plan.trips:
        raise PlanningError(f"plan {plan.id} has no bus left once its dropped seats are removed")
    _renumber_clashes(plan)
    seated = db.session.scalars(
        select(SeatAssignment).where(SeatAssignment.plan_id == plan.id)
    ).all()
    for seat in seated:
        seat.worker.status = ASSIGNED
    _supersede_overlapping_drafts(plan)
    plan.status, plan.published_at = t.PLAN_PUBLISHED, utcnow()
    plan.published_by_id = user.id if user else None
    audit.record(
        user, "plan.publish", "plan", plan.id, {"seats": len(seated), "dropped": len(drops)}
    )
    db.session.flush()
    if settings is None:
        from flask import current_app

        settings = current_app.config
    schedule_for_published_plan(plan, now or utcnow(), settings)
    return Published(len(seated), drops, emptied)


def _publish_topup(
    plan: Plan, target: Plan, user: User | None, now: datetime, settings, drops: list[Drop]
) -> Published:
    """Merge a top-up into ``target``; notices only for those newly seated or moved."""
    copies = topup_publish.copies(plan)
    emptied = [trip.code for trip in plan.trips if not trip.seats and trip.code not in copies]
    _remove_empty_buses(plan)
    _renumber_clashes(plan, keep=set(copies))
    _supersede_overlapping_drafts(plan)
    merged = topup_publish.merge(plan, target, user, now)
    if settings is None:
        from flask import current_app

        settings = current_app.config
    for trip_id in sorted(merged.changed):
        schedule_changes(db.session.get(Trip, trip_id), now, settings)
    for trip in merged.cancelled_buses:
        schedule_driver_cancellation(trip, now, settings)
    return Published(merged.seated, drops, emptied, merged)


def _one_publisher_at_a_time(plan: Plan) -> None:
    """Take the publish lock before reading anything, so two publishes never both seat a worker."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK})
    else:  # SQLite: a write takes the database's write lock now, not at the end
        db.session.execute(update(Plan).where(Plan.id == plan.id).values(status=Plan.status))
    db.session.refresh(plan, with_for_update=True)


def _drop(plan: Plan, drops: list[Drop]) -> None:
    if not drops:
        return
    by_worker = {d.worker_id: d for d in drops}
    for trip in plan.trips:
        for seat in [s for s in trip.seats if s.worker_id in by_worker]:
            trip.seats.remove(seat)  # delete-orphan: the seat row goes
    plan.unassigned = [*(plan.unassigned or []), *(_unassigned_entry(d) for d in drops)]
    db.session.flush()


def _remove_empty_buses(plan: Plan) -> list[str]:
    """A bus left with no passenger is not published (it would run, and be paid for, empty)."""
    empty = [trip for trip in plan.trips if not trip.seats]
    for trip in empty:
        plan.cost = round((plan.cost or 0) - trip.cost, 2)
        plan.trips.remove(trip)  # delete-orphan: the trip and its stops go
    db.session.flush()
    return [trip.code for trip in empty]


def _unassigned_entry(drop: Drop) -> dict:
    return {
        "group": f"w{drop.worker_id}",
        "reason": drop.reason,
        "detail": drop.detail,
        "bus": drop.trip_code,
        "workers": [f"w{drop.worker_id}"],
        "dropped": True,
    }


def _renumber_clashes(plan: Plan, keep: set[str] = frozenset()) -> None:
    """A bus code already live on another published plan of the season gets the next free number
    (a top-up's copies of live buses, ``keep``, are those buses: they keep theirs)."""
    taken = bus_codes.numbers_taken(plan, published_only=True)
    clashing = [trip for trip in plan.trips if trip.number in taken and trip.code not in keep]
    own = {trip.number for trip in plan.trips}
    for trip, number in zip(
        clashing, bus_codes.free_numbers(taken | own, len(clashing)), strict=True
    ):
        trip.code = f"T{number}"


def _supersede_overlapping_drafts(plan: Plan) -> None:
    """Drafts over the same days and counties can no longer be published as they stand."""
    for other in plan_queries.plans_over(plan, t.PLAN_DRAFT):
        other.status = t.PLAN_SUPERSEDED
