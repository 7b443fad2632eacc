"""Changing seats: place, move, swap, free, lock — never two workers in a seat, never two seats
for a worker, never more passengers than seats.

The database's unique keys (trip, seat_no) and (plan, worker) are the guarantee; every change
also bumps the trip's version, so that an edit made on a stale seat map is refused.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from dispatch.extensions import db
from dispatch.models import Plan, SeatAssignment, Trip, TripChange, User, Worker
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.models.workers import ASSIGNED, CANCELLED, PENDING, REGISTERED
from dispatch.services import audit


class SeatError(ValueError):
    """A seat change that breaks a rule (seat number, withdrawn worker, locked seat…)."""


class SeatConflict(Exception):
    """Someone else changed this trip first: reload and try again."""


class GroupSplit(SeatError):
    """The change would split a travel group; repeat it with ``allow_split`` to do it anyway."""


def live_seat(worker_id: int) -> SeatAssignment | None:
    """The worker's seat on a published plan's running trip, if any."""
    return db.session.scalar(
        select(SeatAssignment)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .join(Plan, Plan.id == SeatAssignment.plan_id)
        .where(
            SeatAssignment.worker_id == worker_id,
            Plan.status == PLAN_PUBLISHED,
            Trip.cancelled_at.is_(None),
        )
    )


def live_seats(worker_ids: list[int]) -> dict[int, SeatAssignment]:
    """``live_seat`` for many workers in one query (a page of the API's worker list)."""
    if not worker_ids:
        return {}
    rows = db.session.scalars(
        select(SeatAssignment)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .join(Plan, Plan.id == SeatAssignment.plan_id)
        .where(
            SeatAssignment.worker_id.in_(worker_ids),
            Plan.status == PLAN_PUBLISHED,
            Trip.cancelled_at.is_(None),
        )
    )
    return {seat.worker_id: seat for seat in rows}


def check_worker_edit(worker: Worker, new: dict, user: User | None) -> None:
    """A seated worker's pickup, destination and dates must still fit the bus; a new pickup
    point the bus already serves is recorded as a pickup change."""
    seat = live_seat(worker.id)
    if seat is None:
        return
    trip = seat.trip
    pickups = {s.site_id for s in trip.stops if s.kind == "pickup"}
    dropoffs = {s.site_id for s in trip.stops if s.kind == "dropoff"}
    fits = (
        new["pickup_site_id"] in pickups
        and new["destination_site_id"] in dropoffs
        and new["earliest_date"] <= trip.date <= new["latest_date"]
    )
    if not fits:
        raise SeatError(
            _(
                "This worker has a seat on bus %(bus)s, which does not fit the change: move the worker first.",
                bus=trip.code,
            )
        )
    if new["pickup_site_id"] != worker.pickup_site_id:
        record_change(trip, worker.id, "pickup", worker.pickup_site_id, new["pickup_site_id"], user)


def release_withdrawn(worker: Worker, user: User | None) -> None:
    """A withdrawn worker's live seat is freed and the change recorded for a cancellation notice."""
    seat = live_seat(worker.id)
    if seat is None:
        return
    trip, seat_no = seat.trip, seat.seat_no
    db.session.delete(seat)
    record_change(trip, worker.id, "cancelled", f"{trip.code}/{seat_no}", None, user)
    if trip.captain_worker_id == worker.id:
        trip.captain_worker_id = None
    write_trip(lambda: None, trip)


def seat_at(trip: Trip, seat_no: int) -> SeatAssignment | None:
    return next((s for s in trip.seats if s.seat_no == seat_no), None)


def _check_seat_no(trip: Trip, seat_no: int) -> None:
    if not 1 <= seat_no <= trip.coach_type.passenger_seats:
        raise SeatError(
            _(
                "Seat %(n)d does not exist on this coach (1–%(max)d).",
                n=seat_no,
                max=trip.coach_type.passenger_seats,
            )
        )


def _check_version(trip: Trip, expected: int | None) -> None:
    if expected is not None and trip.version != expected:
        raise SeatConflict()


def place(
    trip: Trip,
    seat_no: int,
    worker: Worker,
    user: User | None,
    *,
    expected_version: int | None = None,
    allow_split: bool = False,
) -> None:
    """Put ``worker`` in an empty seat of ``trip``, moving them if they sit elsewhere in the plan."""
    _check_version(trip, expected_version)
    _check_seat_no(trip, seat_no)
    if worker.status == CANCELLED:
        raise SeatError(_("A withdrawn worker cannot be seated."))
    if worker.status == PENDING:  # not yet accepted by a coordinator: as the planner, ignore
        raise SeatError(_("This registration awaits review: accept it before seating the worker."))
    _check_fits(trip, worker)
    current = db.session.scalar(
        select(SeatAssignment).filter_by(plan_id=trip.plan_id, worker_id=worker.id)
    )
    if current is not None and current.trip_id == trip.id and current.seat_no == seat_no:
        return
    if current is not None and current.locked:
        raise SeatError(_("This worker's seat is locked."))
    _check_group(trip, worker, current, allow_split)
    occupant = seat_at(trip, seat_no)
    if occupant is not None:
        raise SeatConflict()
    old = (current.trip_id, current.seat_no) if current else None
    write_trip(lambda: _move(current, trip, seat_no, worker), trip)
    _record(trip, worker, old, seat_no, user)


def _move(current: SeatAssignment | None, trip: Trip, seat_no: int, worker: Worker) -> None:
    if current is not None and current.trip_id == trip.id:
        # Another seat of the same bus: the seat keeps what happened to it (the worker's reply
        # to the departure notice, boarding, the welfare pack, arrival).
        current.seat_no = seat_no
        return
    if current is not None:
        _drop_captain(current.trip, worker)
        db.session.delete(current)
        db.session.flush()
    db.session.add(
        SeatAssignment(plan_id=trip.plan_id, trip_id=trip.id, seat_no=seat_no, worker_id=worker.id)
    )
    if trip.plan.status == PLAN_PUBLISHED and worker.status == REGISTERED:
        worker.status = ASSIGNED


def _drop_captain(trip: Trip, worker: Worker) -> None:
    """A captain who leaves the bus is its captain no more (the captain must ride on it)."""
    if trip.captain_worker_id == worker.id:
        trip.captain_worker_id = None


def _check_fits(trip: Trip, worker: Worker) -> None:
    """The bus must stop at the worker's pickup point and destination, on a day they can travel."""
    stops = {(s.kind, s.site_id) for s in trip.stops}
    if ("pickup", worker.pickup_site_id) not in stops or (
        "dropoff",
        worker.destination_site_id,
    ) not in stops:
        raise SeatError(_("This bus does not stop at the worker's pickup point and destination."))
    if not worker.earliest_date <= trip.date <= worker.latest_date:
        raise SeatError(_("This bus leaves outside the worker's departure window."))


def _check_group(
    trip: Trip, worker: Worker, current: SeatAssignment | None, allow_split: bool
) -> None:
    if allow_split or not worker.group_code or current is None or current.trip_id == trip.id:
        return
    mates = db.session.scalars(
        select(SeatAssignment)
        .join(Worker, Worker.id == SeatAssignment.worker_id)
        .where(
            SeatAssignment.trip_id == current.trip_id,
            Worker.group_code == worker.group_code,
            Worker.county_id == worker.county_id,
            Worker.id != worker.id,
        )
    ).all()
    if mates:
        raise GroupSplit(
            _("This would split a travel group. Tick “split the group” to do it anyway.")
        )


def swap(
    trip: Trip, seat_a: int, seat_b: int, user: User | None, *, expected_version: int | None = None
) -> None:
    """Exchange the occupants of two seats of one trip (either may be empty)."""
    _check_version(trip, expected_version)
    for seat_no in (seat_a, seat_b):
        _check_seat_no(trip, seat_no)
    first, second = seat_at(trip, seat_a), seat_at(trip, seat_b)
    if any(s is not None and s.locked for s in (first, second)):
        raise SeatError(_("A locked seat cannot be moved."))

    def exchange() -> None:
        # Unique (trip, seat_no) is checked row by row: park one, move the other, then the first.
        if first is not None:
            first.seat_no = 10_000 + seat_a  # parked beyond any coach
            db.session.flush()
        if second is not None:
            second.seat_no = seat_a
            db.session.flush()
        if first is not None:
            first.seat_no = seat_b
            db.session.flush()

    write_trip(exchange, trip)
    for moved, old, new in ((first, seat_a, seat_b), (second, seat_b, seat_a)):
        if moved is not None:
            _record(trip, moved.worker, (trip.id, old), new, user)


def free(
    trip: Trip, seat_no: int, user: User | None, *, expected_version: int | None = None
) -> None:
    """Empty a seat; the worker goes back to waiting."""
    _check_version(trip, expected_version)
    seat = seat_at(trip, seat_no)
    if seat is None:
        return
    if seat.locked:
        raise SeatError(_("A locked seat cannot be freed."))
    worker = seat.worker
    _drop_captain(trip, worker)
    write_trip(lambda: db.session.delete(seat), trip)
    if trip.plan.status == PLAN_PUBLISHED:
        worker.status = REGISTERED
        record_change(trip, worker.id, "cancelled", f"{trip.code}/{seat_no}", None, user)
    audit.record(user, "seat.free", "trip", trip.id, {"seat": seat_no, "worker": worker.id})


def set_locked(
    trip: Trip,
    seat_no: int | None,
    locked: bool,
    user: User | None,
    *,
    expected_version: int | None = None,
) -> None:
    """Lock or unlock one seat, or the whole trip when ``seat_no`` is None."""
    _check_version(trip, expected_version)
    if seat_no is None:
        trip.locked = locked
        write_trip(lambda: None, trip)
    else:
        seat = seat_at(trip, seat_no)
        if seat is None:
            raise SeatError(_("An empty seat cannot be locked."))
        seat.locked = locked
        write_trip(lambda: None, trip)
    audit.record(user, "trip.lock" if locked else "trip.unlock", "trip", trip.id, {"seat": seat_no})


def write_trip(change, trip: Trip) -> None:
    """Apply ``change`` and bump the trip's version in one flush; conflicts become SeatConflict."""
    try:
        change()
        flag_modified(trip, "locked")  # an UPDATE … WHERE version = old: a stale map fails here
        db.session.flush()
        db.session.expire(trip, ["seats"])
    except (IntegrityError, StaleDataError) as error:
        db.session.rollback()
        raise SeatConflict() from error
    except OperationalError as error:  # SQLite: another writer committed since we read
        db.session.rollback()
        if "locked" in str(error).lower() or "busy" in str(error).lower():
            raise SeatConflict() from error
        raise


def _record(
    trip: Trip, worker: Worker, old: tuple[int, int] | None, seat_no: int, user: User | None
) -> None:
    audit.record(user, "seat.place", "trip", trip.id, {"seat": seat_no, "worker": worker.id})
    if trip.plan.status != PLAN_PUBLISHED:
        return
    if old is None or old[0] != trip.id:
        record_change(trip, worker.id, "bus", str(old[0]) if old else None, trip.code, user)
    record_change(trip, worker.id, "seat", str(old[1]) if old else None, str(seat_no), user)


def record_change(
    trip: Trip, worker_id: int, field: str, old: str | None, new: str | None, user: User | None
) -> None:
    """A change to a published trip that affects one worker, for the notices to announce."""
    db.session.add(
        TripChange(
            trip_id=trip.id,
            worker_id=worker_id,
            field=field,
            old_value=old,
            new_value=new,
            created_by_id=user.id if user else None,
        )
    )
