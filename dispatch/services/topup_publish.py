"""Publishing a top-up: merged into the live plan it tops up, never replacing its buses.

A top-up draft holds copies of the published buses it used (same code, stops and times) and its
new buses. Publishing it:

- adds the copies' new seats to the live buses (their id, code, coach, crew, manifest link and
  existing seats stay); a seat number taken on the live bus since planning gives way to the
  next free one;
- with moves allowed, takes a moved worker off their old seat (a worker the top-up left
  without a seat keeps the one they had); a live bus left with nobody on it is cancelled, and
  publishing then tells its drivers (notices/driver_cancel.py);
- moves the new buses into the live plan (the one holding most of the buses used);
- records each change as a TripChange, so that the notices say only what changed: a newly
  seated worker gets the departure notice, a moved worker the change, nobody else anything;
- marks the draft ``merged`` into the live plan.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select

from dispatch.extensions import db
from dispatch.ids import batched
from dispatch.models import Plan, SeatAssignment, Trip, TripStop, User
from dispatch.models import trips as t
from dispatch.models.workers import ASSIGNED, REGISTERED
from dispatch.services import audit, plan_queries
from dispatch.services.seats import record_change


@dataclass
class Merged:
    """What merging a top-up did."""

    target: Plan
    topped_up: int = 0  # workers newly seated on live buses
    on_new_buses: int = 0  # workers newly seated on the new buses
    new_buses: int = 0
    cancelled_buses: list[Trip] = field(default_factory=list)  # live buses everyone left
    changed: set[int] = field(default_factory=set)  # live trips whose changes need notices
    was: dict[int, tuple[str, int]] = field(default_factory=dict)  # moved: old bus code, seat

    @property
    def moved(self) -> int:
        return len(self.was)

    @property
    def cancelled(self) -> list[str]:
        """The cancelled buses' codes."""
        return [trip.code for trip in self.cancelled_buses]

    @property
    def seated(self) -> int:
        """Workers who have a seat now and had none before."""
        return self.topped_up + self.on_new_buses


def info(plan: Plan) -> dict:
    """The top-up record a draft carries (empty for a plan that tops nothing up)."""
    return (plan.scope or {}).get("topup") or {}


def copies(plan: Plan) -> dict[str, int]:
    """The published buses a top-up draft carries copies of: bus code → live trip id."""
    return info(plan).get("trips", {})


def target_of(plan: Plan) -> Plan | None:
    """The live plan a top-up merges into: the published one holding most of the buses it used."""
    ids = info(plan).get("plans") or []
    if not ids:
        return None
    live = {
        p.id: p
        for p in db.session.scalars(
            select(Plan).where(Plan.id.in_(ids), Plan.status == t.PLAN_PUBLISHED)
        )
    }
    if not live:
        return None
    used = Counter(
        db.session.scalars(select(Trip.plan_id).where(Trip.id.in_(list(copies(plan).values()))))
    )
    return live[min(live, key=lambda i: (-used[i], i))]


def expected_seats(plan: Plan, seats: list[tuple[int, str, int]] | None = None) -> dict[int, int]:
    """Workers of a top-up who may already sit on a live bus: worker id → that bus's id
    (``seats``: the draft's `plan_queries.seat_rows`, when the caller has read them).

    Those on a copy may sit on its live bus; those the top-up may move, on the bus they sat on.
    Any other live seat is a clash that publishing drops (services/publishing.py)."""
    record, live = info(plan), copies(plan)
    rows = plan_queries.seat_rows(plan) if seats is None else seats
    found = {worker: live[code] for worker, code, _ in rows if code in live}
    buses = {**live, **record.get("left", {})}
    for member, code in record.get("was_on", {}).items():
        if code in buses:
            found[int(member[1:])] = buses[code]
    return found


def unchanged(plan: Plan) -> set[int]:
    """Workers of a top-up whose live seat it keeps as it is: publishing tells them nothing."""
    buses = copies(plan)
    if not buses:
        return set()
    live = _live_seat_numbers(list(buses.values()))
    return {
        worker
        for worker, code, seat_no in plan_queries.seat_rows(plan)
        if code in buses and live.get(worker) == (buses[code], seat_no)
    }


def _live_seat_numbers(trip_ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = db.session.execute(
        select(SeatAssignment.worker_id, SeatAssignment.trip_id, SeatAssignment.seat_no).where(
            SeatAssignment.trip_id.in_(trip_ids)
        )
    )
    return {worker: (trip, seat) for worker, trip, seat in rows}


def merge(plan: Plan, target: Plan, user: User | None, now: datetime) -> Merged:
    """Merge the draft's copies into the live buses and hand its new buses to ``target``."""
    ids = copies(plan)
    by_id = {
        trip.id: trip for trip in db.session.scalars(select(Trip).where(Trip.id.in_(ids.values())))
    }
    live_trips = {code: by_id.get(i) for code, i in ids.items()}
    gone = {  # cancelled or left since planning: nobody joins it now
        code
        for code, trip in live_trips.items()
        if trip is None or trip.cancelled_at is not None or trip.departure_at <= now
    }
    draft_seats = plan_queries.seat_rows(plan)
    wanted = {  # a seat on the copy of a gone bus is not taken: that worker keeps waiting
        worker: (code, seat_no) for worker, code, seat_no in draft_seats if code not in gone
    }
    merged = Merged(target)
    _vacate(plan, wanted, set(expected_seats(plan, draft_seats).values()), merged, user)
    live_bus = {w: trip for w, (trip, _) in _live_seat_numbers(list(by_id)).items()}  # moved
    adding = {  # the copies that seat someone their live bus does not carry yet
        code
        for worker, code, _ in draft_seats
        if code in live_trips and code not in gone and live_bus.get(worker) != ids[code]
    }
    copied = [trip for trip in plan.trips if trip.code in live_trips]
    for trip in copied:
        if trip.code in adding:  # a copy that only carries its live bus's riders adds nothing
            _seat_on_live(trip, live_trips[trip.code], merged, user)
    _remove_copies(plan, copied)
    for trip in list(plan.trips):
        _hand_over(trip, target, merged, user)
    _cancel_emptied(plan, merged, now, user)
    _finish(plan, target, merged, user, now)
    return merged


def _remove_copies(plan: Plan, copied: list[Trip]) -> None:
    """The copies go, with their stops and seats, in three statements: what they added is on the
    live buses now. Deleted one by one through the plan's bus list, a season's 2,240 copies and
    99,344 seats took most of a minute."""
    db.session.flush()
    ids = [trip.id for trip in copied]
    for trip in copied:
        db.session.expunge(trip)  # with its loaded stops and seats
    for model, column in ((SeatAssignment, SeatAssignment.trip_id), (TripStop, TripStop.trip_id)):
        db.session.execute(
            delete(model).where(column.in_(ids)), execution_options={"synchronize_session": False}
        )
    db.session.execute(
        delete(Trip).where(Trip.id.in_(ids)), execution_options={"synchronize_session": False}
    )
    db.session.expire(plan, ["trips"])


def _vacate(
    plan: Plan, wanted: dict, live_ids: set[int], merged: Merged, user: User | None
) -> None:
    """Take off their live seat the workers the draft seats on another bus or in another seat.

    The draft's workers are a sub-select, not a list: a season's top-up seats 99,344 of them,
    over the 65,535 parameters PostgreSQL takes in one statement. Their live seats are read as
    columns, and only those that change are loaded (all of them as seats took 8 s)."""
    in_draft = select(SeatAssignment.worker_id).where(SeatAssignment.plan_id == plan.id)
    rows = db.session.execute(
        select(SeatAssignment.id, SeatAssignment.worker_id, Trip.code, SeatAssignment.seat_no)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .where(SeatAssignment.worker_id.in_(in_draft), SeatAssignment.trip_id.in_(sorted(live_ids)))
    )
    # not wanted: seated on the copy of a bus gone since, so the live seat stays
    changing = sorted(i for i, w, code, no in rows if w in wanted and wanted[w] != (code, no))
    seats = [
        seat
        for chunk in batched(changing)
        for seat in db.session.scalars(select(SeatAssignment).where(SeatAssignment.id.in_(chunk)))
    ]
    for seat in sorted(seats, key=lambda s: s.id):
        code, seat_no = wanted[seat.worker_id]
        merged.was[seat.worker_id] = (seat.trip.code, seat.seat_no)
        if code != seat.trip.code:  # the old bus's notices are withdrawn (notices/changes.py)
            record_change(seat.trip, seat.worker_id, "bus", seat.trip.code, code, user)
            merged.changed.add(seat.trip_id)
        seat.trip.seats.remove(seat)
    db.session.flush()


def _seat_on_live(copy: Trip, live: Trip, merged: Merged, user: User | None) -> None:
    """The copy's seats that the live bus does not hold yet, added to it."""
    held = {s.worker_id for s in live.seats}
    taken = {s.seat_no for s in live.seats}
    free = [n for n in range(1, live.coach_type.passenger_seats + 1) if n not in taken]
    for seat in sorted(copy.seats, key=lambda s: s.seat_no):
        if seat.worker_id in held:
            continue
        # A seat taken on the live bus since planning gives way to the next free one.
        number = seat.seat_no if seat.seat_no in free else (free[0] if free else None)
        if number is None:
            continue  # full since planning: the worker keeps waiting
        free.remove(number)
        live.seats.append(SeatAssignment(plan_id=live.plan_id, seat_no=number, worker=seat.worker))
        merged.topped_up += seat.worker_id not in merged.was
        _record(live, seat.worker, number, merged, user)


def _record(trip: Trip, worker, seat_no: int, merged: Merged, user: User | None) -> None:
    """The TripChange rows a new seat on a live bus calls for; the worker counts as assigned."""
    old_code, old_seat = merged.was.get(worker.id, (None, None))
    if old_code != trip.code:
        record_change(trip, worker.id, "bus", old_code, trip.code, user)
    record_change(trip, worker.id, "seat", str(old_seat) if old_seat else None, str(seat_no), user)
    if worker.status == REGISTERED:
        worker.status = ASSIGNED
    merged.changed.add(trip.id)


def _hand_over(trip: Trip, target: Plan, merged: Merged, user: User | None) -> None:
    """A new bus joins the live plan; each worker on it is newly seated or moved."""
    trip.plan = target
    for seat in trip.seats:
        seat.plan_id = target.id
        merged.on_new_buses += seat.worker_id not in merged.was
        _record(trip, seat.worker, seat.seat_no, merged, user)
    db.session.flush()
    target.cost_changed((target.cost or 0) + trip.cost)
    merged.new_buses += 1


def _cancel_emptied(plan: Plan, merged: Merged, now: datetime, user: User | None) -> None:
    """Live buses every passenger of which the top-up moved away are cancelled."""
    for trip_id in info(plan).get("left", {}).values():
        trip = db.session.get(Trip, trip_id)
        if trip is None or trip.cancelled_at is not None or trip.seats:
            continue
        trip.cancelled_at = now
        trip.plan.cost_changed((trip.plan.cost or 0) - trip.cost)
        merged.cancelled_buses.append(trip)
        audit.record(user, "trip.cancel", "trip", trip.id, {"reason": "everyone moved"})


def _finish(plan: Plan, target: Plan, merged: Merged, user: User | None, now: datetime) -> None:
    """The live plan covers the draft's days and counties; the draft is marked merged."""
    target.date_from = min(target.date_from, plan.date_from)
    target.date_to = max(target.date_to, plan.date_to)
    mine, theirs = plan.scope or {}, dict(target.scope or {})
    for key in ("counties", "destinations"):
        both = set(mine.get(key) or []) | set(theirs.get(key) or [])
        theirs[key] = sorted(both) if mine.get(key) and theirs.get(key) else []
    target.scope = theirs
    target.cost_changed(target.cost or 0, plan.lower_bound_cost)  # the gap of the whole
    plan.scope = {**mine, "merged_into": target.id}
    plan.status, plan.published_at = t.PLAN_MERGED, now
    plan.published_by_id = user.id if user else None
    audit.record(
        user,
        "plan.publish",
        "plan",
        plan.id,
        {"merged_into": target.id, "topped_up": merged.topped_up, "new_buses": merged.new_buses},
    )
    db.session.flush()
