"""A trip's manifest (乘车名单) and the boarding check-in marks made from it.

The manifest is what a driver needs on paper: the stops with their times and how many get
on or off at each, the seat map, and the passengers grouped by the stop where they board.
Check-in marks are idempotent: each request *sets* a state (boarded, no-show, pack handed
out) rather than toggling it, so a phone that retries a request it believes failed can
never undo what it meant to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, literal, select, update
from sqlalchemy.orm.attributes import set_committed_value

from dispatch.extensions import db
from dispatch.models import Employer, SeatAssignment, Trip, TripStop, User, Worker
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.models.types import UTCDateTime
from dispatch.models.workers import ASSIGNED, BOARDED, NO_SHOW, NOTIFIED
from dispatch.notify.suppression import refusal_of
from dispatch.services import audit

MARKS = ("boarded", "no_show", "pack")
ATTENDANCE = "attendance"  # one mark for both: boarded, no_show or none
ATTENDANCE_VALUES = ("boarded", "no_show", "none")
# A pack handed out by mistake (a slipped thumb) can be taken back this long after.
PACK_UNDO = timedelta(minutes=10)
TIMEZONE = "Asia/Shanghai"


class MarkError(Exception):
    """A mark that cannot be made (not on this bus any more, trip cancelled…)."""


class MarkTooEarly(MarkError):
    """Check-in opens the day before departure (local time), not earlier."""


class UndoTooLate(MarkError):
    """A pack hand-out is taken back only within PACK_UNDO."""


@dataclass
class Passenger:
    seat: SeatAssignment
    worker: Worker
    age: int
    dropoff: TripStop | None
    sms_unreachable: bool  # no consent, opted out or invalid number: phone them
    captain: bool


@dataclass
class StopLine:
    stop: TripStop
    boarding: int = 0
    leaving: int = 0
    passengers: list[Passenger] = field(default_factory=list)  # who boards here


@dataclass
class Counts:
    expected: int  # 应到
    boarded: int  # 实到
    no_show: int
    packs: int
    arrived: int = 0  # handed over at the gate (services/arrival.py)

    def as_dict(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "boarded": self.boarded,
            "no_show": self.no_show,
            "packs": self.packs,
        }


@dataclass
class Manifest:
    trip: Trip
    stops: list[StopLine]
    seat_rows: list[list[tuple[int, Passenger | None]]]  # 2+2 rows, front to back
    counts: Counts
    open_for_marks: bool  # a live trip of a published plan, from the day before departure
    off_route: list[Passenger]  # whose pickup point the bus does not serve: to be sorted out
    marks_from: date | None = None  # when check-in opens, if not yet open


def load_employers(seats: Iterable[SeatAssignment]) -> None:
    """Fill in the passengers' ``worker.employer`` with one query, not one per employer (the
    manifest, the hand-over list and the arrival SMS name them)."""
    workers = [s.worker for s in seats if "employer" in inspect(s.worker).unloaded]
    ids = {w.employer_id for w in workers if w.employer_id is not None}
    found = db.session.scalars(select(Employer).where(Employer.id.in_(ids))) if ids else []
    employers = {employer.id: employer for employer in found}
    for worker in workers:
        set_committed_value(worker, "employer", employers.get(worker.employer_id))


def build(trip: Trip, now: datetime | None = None, tz: str = TIMEZONE) -> Manifest:
    """Everything the manifest page shows, in print order (``now``: whether marks open yet)."""
    load_employers(trip.seats)
    lines = [StopLine(stop) for stop in trip.stops]
    pickups = {line.stop.site_id: line for line in lines if line.stop.kind == "pickup"}
    dropoffs = {line.stop.site_id: line for line in lines if line.stop.kind == "dropoff"}
    by_seat: dict[int, Passenger] = {}
    off_route: list[Passenger] = []
    for seat in sorted(trip.seats, key=lambda s: s.seat_no):
        worker = seat.worker
        board = pickups.get(worker.pickup_site_id)  # None: not on the route, listed apart
        leave = dropoffs.get(worker.destination_site_id)
        passenger = Passenger(
            seat=seat,
            worker=worker,
            age=worker.age_on(trip.date),
            dropoff=leave.stop if leave else None,
            sms_unreachable=refusal_of(worker) is not None,
            captain=trip.captain_worker_id == worker.id,
        )
        by_seat[seat.seat_no] = passenger
        if board is not None:
            board.boarding += 1
            board.passengers.append(passenger)
        else:
            off_route.append(passenger)
        if leave is not None:
            leave.leaving += 1
    capacity = trip.coach_type.passenger_seats
    rows = [
        [(n, by_seat.get(n)) for n in range(first, min(first + 4, capacity + 1))]
        for first in range(1, capacity + 1, 4)
    ]
    early = now is not None and too_early(trip, now, tz)
    return Manifest(
        trip,
        lines,
        rows,
        counts(trip),
        open_for_marks=is_open(trip) and not early,
        off_route=off_route,
        marks_from=marks_open_on(trip) if early else None,
    )


def counts(trip: Trip) -> Counts:
    tally = Counter()
    for seat in trip.seats:
        tally["boarded"] += seat.boarded_at is not None
        tally["no_show"] += seat.no_show_at is not None
        tally["packs"] += seat.pack_given_at is not None
        tally["arrived"] += seat.arrived_at is not None
    return Counts(
        len(trip.seats), tally["boarded"], tally["no_show"], tally["packs"], tally["arrived"]
    )


def is_open(trip: Trip) -> bool:
    """Marks are taken on live trips of a published plan."""
    return trip.cancelled_at is None and trip.plan.status == PLAN_PUBLISHED


def marks_open_on(trip: Trip) -> date:
    """The first local day boarding marks are taken: the day before departure."""
    return trip.date - timedelta(days=1)


def too_early(trip: Trip, now: datetime, tz: str = TIMEZONE) -> bool:
    """Whether ``now`` (local) is before the day check-in opens."""
    return now.astimezone(ZoneInfo(tz)).date() < marks_open_on(trip)


def valid_mark(mark: object, value: object) -> bool:
    """``attendance`` takes boarded/no_show/none; ``boarded``, ``no_show`` and ``pack`` take a bool."""
    if mark == ATTENDANCE:
        return value in ATTENDANCE_VALUES
    return mark in MARKS and isinstance(value, bool)


def set_mark(
    trip: Trip,
    worker_id: int,
    mark: str,
    value: bool | str,
    now: datetime,
    user: User | None,
    source: str,
    tz: str = TIMEZONE,
) -> SeatAssignment:
    """Set one mark of one passenger (flushed, not committed) and keep the worker's status.

    Boarded and no-show exclude each other. Each mark is one UPDATE that writes both
    attendance columns at once, so two marks racing on one seat (a driver and a coordinator,
    or a retried request) leave one of the two states, never both.
    """
    if not valid_mark(mark, value):
        raise MarkError("unknown mark")
    if not is_open(trip):
        raise MarkError("this trip is not running (cancelled or not published)")
    if too_early(trip, now, tz):
        raise MarkTooEarly(f"check-in opens on {marks_open_on(trip).isoformat()}")
    seat = passenger_seat(trip, worker_id)
    if (
        mark == "pack"
        and value is False
        and seat.pack_given_at is not None
        and now - seat.pack_given_at > PACK_UNDO
    ):
        raise UndoTooLate("the pack was handed out too long ago to take back")
    before = seat_state(seat)
    db.session.flush()
    sa = SeatAssignment
    result = db.session.execute(
        update(sa)
        .where(sa.id == seat.id, sa.trip_id == trip.id, sa.worker_id == worker_id)
        .values(**_columns(mark, value, now)),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # moved by someone else since this request read the bus
        raise MarkError("this passenger is no longer on this bus: reload the list")
    db.session.refresh(seat)
    after = seat_state(seat)
    if mark != "pack":
        _follow_status(seat.worker, after)
    if before != after:
        audit.record(
            user,
            f"seat.{mark}",
            "trip",
            trip.id,
            {"worker": worker_id, "seat": seat.seat_no, "value": value, "by": source},
        )
    db.session.flush()
    return seat


def passenger_seat(trip: Trip, worker_id: int) -> SeatAssignment:
    """The worker's seat on this bus; MarkError when they are not on it (any more)."""
    seat = next((s for s in trip.seats if s.worker_id == worker_id), None)
    if seat is None:
        raise MarkError("this passenger is no longer on this bus: reload the list")
    return seat


def reveal_phone(trip: Trip, worker_id: int, user: User | None, source: str) -> str:
    """A passenger's full number for a call, recorded in the audit trail (flushed)."""
    seat = passenger_seat(trip, worker_id)
    audit.record(
        user,
        "seat.phone_revealed",
        "trip",
        trip.id,
        {"worker": worker_id, "seat": seat.seat_no, "by": source},
    )
    db.session.flush()
    return seat.worker.phone


def undo_open(seat: SeatAssignment, now: datetime) -> bool:
    """Whether the seat's pack hand-out may still be taken back."""
    return seat.pack_given_at is not None and now - seat.pack_given_at <= PACK_UNDO


def _columns(mark: str, value: bool | str, now: datetime) -> dict:
    """The columns one mark writes; a time already set stays (a retried request changes nothing)."""
    sa, stamp = SeatAssignment, literal(now, UTCDateTime())
    if mark == "pack":
        return {"pack_given_at": func.coalesce(sa.pack_given_at, stamp) if value else None}
    wanted = value if mark == ATTENDANCE else (mark if value else None)
    if wanted == "boarded":
        return {"boarded_at": func.coalesce(sa.boarded_at, stamp), "no_show_at": None}
    if wanted == "no_show":
        return {"no_show_at": func.coalesce(sa.no_show_at, stamp), "boarded_at": None}
    if mark == ATTENDANCE:  # none
        return {"boarded_at": None, "no_show_at": None}
    return {f"{mark}_at": None}  # boarded=false or no_show=false clears that state only


def _follow_status(worker: Worker, state: dict[str, bool]) -> None:
    """Boarded or no-show shows in the worker's status; clearing both restores assigned."""
    if worker.status not in (ASSIGNED, NOTIFIED, BOARDED, NO_SHOW):
        return
    if state["boarded"]:
        worker.status = BOARDED
    elif state["no_show"]:
        worker.status = NO_SHOW
    elif worker.status in (BOARDED, NO_SHOW):
        worker.status = ASSIGNED


def seat_state(seat: SeatAssignment) -> dict[str, bool]:
    return {
        "boarded": seat.boarded_at is not None,
        "no_show": seat.no_show_at is not None,
        "pack": seat.pack_given_at is not None,
    }
