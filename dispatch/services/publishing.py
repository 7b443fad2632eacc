"""Publishing a draft: recheck every seat against what is live now, then make the draft live.

A draft is a snapshot: between planning and publishing a worker may have been withdrawn,
seated by another published plan (two drafts over overlapping windows), or have changed
dates or destination. Publishing drops those seats with a reason, shows them to the
coordinator, and sends those workers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, inspect, select, text, update

from dispatch.extensions import db
from dispatch.identity import mask_phone
from dispatch.ids import batched
from dispatch.models import Driver, Plan, SeatAssignment, Trip, TripStop, User, Worker, utcnow
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
    # Codes of the buses it publishes that left their first stop before now: their drivers are
    # told nothing, and their passengers only where the bus has yet to call.
    departed: list[str] = field(default_factory=list)
    drivers_set: bool = False  # some bus has a driver (else no driver notice can go yet)


@dataclass(frozen=True)
class Published:
    seated: int
    drops: list[Drop]
    emptied: list[str]
    merged: topup_publish.Merged | None = None  # a top-up: what it added to the live plan
    notices_deferred: bool = False  # too many seats to write their notices in the request


def seat_problems(plan: Plan) -> list[Drop]:
    """The seats of ``plan`` that can no longer stand, checked against published seats and statuses.

    Read as columns, not as seats, workers and buses: a season's 99,344 seats loaded as objects
    took 13-25 s."""
    w = Worker
    seats = db.session.execute(
        select(
            SeatAssignment.worker_id,
            SeatAssignment.trip_id,
            Trip.code,
            Trip.date,
            w.name,
            w.county_id,
            w.status,
            w.earliest_date,
            w.latest_date,
            w.pickup_site_id,
            w.destination_site_id,
        )
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .join(w, w.id == SeatAssignment.worker_id)
        .where(SeatAssignment.plan_id == plan.id, Trip.cancelled_at.is_(None))
        .order_by(Trip.date, Trip.number, SeatAssignment.seat_no)
    ).all()
    stops = _stop_sites(plan)
    elsewhere = _live_seats(plan)
    expected = topup_publish.expected_seats(plan)  # a top-up: already live where it found them
    drops = []
    for seat in seats:
        live = elsewhere.get(seat.worker_id)
        if live is not None and expected.get(seat.worker_id) == live[0]:
            continue
        problem = _problem(seat, stops.get(seat.trip_id, {}), live)
        if problem is not None:
            drops.append(Drop(seat.worker_id, seat.name, seat.county_id, seat.code, *problem))
    return drops


def _stop_sites(plan: Plan) -> dict[int, dict[str, set[str]]]:
    """Per bus of the plan, the sites of its stops by kind (pickup, dropoff)."""
    sites: dict[int, dict[str, set[str]]] = {}
    rows = db.session.execute(
        select(TripStop.trip_id, TripStop.kind, TripStop.site_id)
        .join(Trip, Trip.id == TripStop.trip_id)
        .where(Trip.plan_id == plan.id)
    )
    for trip_id, kind, site_id in rows:
        sites.setdefault(trip_id, {}).setdefault(kind, set()).add(site_id)
    return sites


def _live_seats(plan: Plan) -> dict[int, tuple[int, str, date]]:
    """Each of the plan's workers seated on a running bus of another, published plan: that bus's
    id, code and date."""
    mine = select(SeatAssignment.worker_id).where(SeatAssignment.plan_id == plan.id)
    rows = db.session.execute(
        select(SeatAssignment.worker_id, Trip.id, Trip.code, Trip.date)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(
            SeatAssignment.worker_id.in_(mine),
            Plan.id != plan.id,
            Plan.status == t.PLAN_PUBLISHED,
            Trip.cancelled_at.is_(None),
        )
    )
    return {worker_id: (trip_id, code, day) for worker_id, trip_id, code, day in rows}


def _problem(
    seat: Row, stops: Mapping[str, set[str]], elsewhere: tuple[int, str, date] | None
) -> tuple[str, str] | None:
    """Why a seat (a row of `seat_problems`) cannot stand, with the detail; None if it can."""
    if elsewhere is not None:
        return SEATED_ELSEWHERE, f"{elsewhere[1]} {elsewhere[2].isoformat()}"
    if seat.status == CANCELLED:
        return WITHDRAWN, ""
    if seat.status not in (REGISTERED, ASSIGNED):
        return NOT_OPEN, seat.status
    if not seat.earliest_date <= seat.date <= seat.latest_date:
        return WINDOW, f"{seat.earliest_date.isoformat()} – {seat.latest_date.isoformat()}"
    if seat.destination_site_id not in stops.get("dropoff", set()):
        return DESTINATION, ""
    if seat.pickup_site_id not in stops.get("pickup", set()):
        return PICKUP, ""
    return None


def publish_preview(
    plan: Plan, settings: Mapping[str, Any], now: datetime | None = None
) -> PublishPreview:
    """What publishing ``plan`` now would do: seats kept and dropped, SMS, cost, one sample of each kind."""
    drops = seat_problems(plan)
    dropped = {d.worker_id for d in drops}
    kept = topup_publish.unchanged(plan)  # a top-up tells nobody whose seat it keeps as it is
    untold = dropped | kept
    moment = now or utcnow()
    result = preview(plan, settings, moment, untold)
    riders = _riders(plan)
    seated = sum(len(ids - untold) for ids in riders.values())
    emptied = [code for code, ids in riders.items() if ids <= dropped]
    trips = sorted(plan.trips, key=lambda trip: (trip.date, trip.number or 0, trip.id))
    departed = [
        trip.code for trip in trips if trip.departure_at <= moment and trip.code not in emptied
    ]
    return PublishPreview(
        seated=seated,
        buses=len(riders) - len(emptied),
        drops=drops,
        emptied=emptied,
        messages=result.estimate.messages,
        segments=result.estimate.segments,
        cost_cny=result.estimate.cost_cny,
        counts=result.counts,
        suppressed=result.suppressed,
        samples=[_sample(d) for d in result.samples],
        departed=departed,
        drivers_set=any(trip.driver1_id or trip.driver2_id for trip in trips),
    )


def _riders(plan: Plan) -> dict[str, set[int]]:
    """Each bus's code with the workers seated on it (none for an empty bus)."""
    riders: dict[str, set[int]] = {trip.code: set() for trip in plan.trips}
    for worker_id, code, _ in plan_queries.seat_rows(plan):
        riders[code].add(worker_id)
    return riders


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
    seated = _mark_assigned(plan)
    _supersede_overlapping_drafts(plan)
    plan.status, plan.published_at = t.PLAN_PUBLISHED, utcnow()
    plan.published_by_id = user.id if user else None
    audit.record(user, "plan.publish", "plan", plan.id, {"seats": seated, "dropped": len(drops)})
    db.session.flush()
    if settings is None:
        from flask import current_app

        settings = current_app.config
    # past PUBLISH_NOTICES_INLINE seats the scheduler's next tick writes them (a season's
    # 200,000 took 45-50 s, near the 60 s a request may take: deploy/gunicorn.conf.py)
    deferred = seated > int(settings["PUBLISH_NOTICES_INLINE"])
    if not deferred:
        schedule_for_published_plan(plan, now or utcnow(), settings)
        plan.notices_written_at = utcnow()
    return Published(seated, drops, emptied, notices_deferred=deferred)


def _mark_assigned(plan: Plan) -> int:
    """Every worker seated on the plan becomes assigned, in one statement (a season's 99,344
    workers one UPDATE each took 62 s of a 114 s publish); how many seats the plan holds (a
    worker has one seat a plan at most, so the rows updated)."""
    db.session.flush()
    seats = select(SeatAssignment.worker_id).where(SeatAssignment.plan_id == plan.id)
    result = db.session.execute(
        update(Worker).where(Worker.id.in_(seats)).values(status=ASSIGNED),
        execution_options={"synchronize_session": False},  # "fetch" matched 99,344 rows: 5 s
    )
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Worker):
            db.session.expire(obj, ["status"])
    return result.rowcount


def _publish_topup(
    plan: Plan, target: Plan, user: User | None, now: datetime, settings, drops: list[Drop]
) -> Published:
    """Merge a top-up into ``target``; notices only for those newly seated or moved."""
    copies = topup_publish.copies(plan)
    emptied = [code for code in _remove_empty_buses(plan) if code not in copies]
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
    ids = sorted({d.worker_id for d in drops})
    for chunk in batched(ids):  # the seats themselves, not every bus's seat list
        for seat in db.session.scalars(
            select(SeatAssignment).where(
                SeatAssignment.plan_id == plan.id, SeatAssignment.worker_id.in_(chunk)
            )
        ):
            db.session.delete(seat)
    plan.unassigned = [*(plan.unassigned or []), *(_unassigned_entry(d) for d in drops)]
    db.session.flush()
    _forget_seat_lists(plan)


def _empty_trips(plan: Plan) -> list[Trip]:
    """The plan's buses with no seat left, asked of the database: loading a season's 2,240 seat
    lists (each seat with its worker) to find them took 15 s."""
    db.session.flush()
    seated = select(SeatAssignment.trip_id).where(SeatAssignment.plan_id == plan.id)
    empty = set(
        db.session.scalars(select(Trip.id).where(Trip.plan_id == plan.id, Trip.id.not_in(seated)))
    )
    return [trip for trip in plan.trips if trip.id in empty]


def _forget_seat_lists(plan: Plan) -> None:
    """Seat lists loaded before seats were deleted by themselves are read afresh when next used."""
    for trip in plan.trips:
        if "seats" not in inspect(trip).unloaded:
            db.session.expire(trip, ["seats"])


def _remove_empty_buses(plan: Plan) -> list[str]:
    """A bus left with no passenger is not published (it would run, and be paid for, empty)."""
    empty = _empty_trips(plan)
    for trip in empty:
        plan.cost_changed((plan.cost or 0) - trip.cost)
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
