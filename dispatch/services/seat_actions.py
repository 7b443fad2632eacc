"""The trip page's changes, each checked against the user's scope and told back in words.

Every function raises ``scope.OutOfScope`` when the user may not make the change,
``seats.SeatError`` when it cannot be made and ``seats.SeatConflict`` when the bus changed
since the page was loaded; otherwise it flushes and returns the message confirming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Coach, SeatAssignment, Trip, User, Worker
from dispatch.services import crew, driver_links, scope, seats
from dispatch.services.notices.notices import schedule_driver_notices


def place_worker(
    trip: Trip,
    seat_no: int,
    worker: Worker,
    user: User,
    version: int | None,
    allow_split: bool = False,
) -> str:
    """Seat ``worker`` (waiting, on another bus or on this one) in ``seat_no``."""
    scope.check_worker(user, worker)
    occupant = seats.seat_at(trip, seat_no)
    if occupant is not None and occupant.worker_id != worker.id and version in (None, trip.version):
        raise seats.SeatError(
            _("Seat %(seat)d is taken: choose a free seat, or swap the two seats.", seat=seat_no)
        )
    before = db.session.scalar(
        select(SeatAssignment).filter_by(plan_id=trip.plan_id, worker_id=worker.id)
    )
    old = (before.trip, before.seat_no) if before else None
    if old is not None and old[0].id == trip.id and old[1] == seat_no:
        return _("%(name)s already sits in seat %(seat)d.", name=worker.name, seat=seat_no)
    seats.place(trip, seat_no, worker, user, expected_version=version, allow_split=allow_split)
    return _placed(worker, seat_no, trip, old)


def _placed(worker: Worker, seat_no: int, trip: Trip, old: tuple[Trip, int] | None) -> str:
    if old is None:
        return _("%(name)s now sits in seat %(seat)d.", name=worker.name, seat=seat_no)
    if old[0].id != trip.id:
        return _(
            "%(name)s moved from bus %(bus)s seat %(old)d to seat %(new)d.",
            name=worker.name,
            bus=old[0].code,
            old=old[1],
            new=seat_no,
        )
    return _(
        "%(name)s moved from seat %(old)d to seat %(new)d.",
        name=worker.name,
        old=old[1],
        new=seat_no,
    )


def swap_seats(trip: Trip, first: int, second: int, user: User, version: int | None) -> str:
    """Swap the passengers (or a passenger and an empty seat) of two seats."""
    scope.check_seats(user, trip, first, second)
    seats.swap(trip, first, second, user, expected_version=version)
    return _("Swapped seat %(a)d and seat %(b)d.", a=first, b=second)


def free_seat(trip: Trip, seat_no: int, user: User, version: int | None) -> str:
    """Free a seat: its passenger waits again."""
    scope.check_seats(user, trip, seat_no)
    seat = seats.seat_at(trip, seat_no)
    if seat is None:
        raise seats.SeatError(_("Seat %(seat)d is empty already.", seat=seat_no))
    name = seat.worker.name
    seats.free(trip, seat_no, user, expected_version=version)
    return _("Seat %(seat)d is free: %(name)s is waiting again.", seat=seat_no, name=name)


def lock_seat(trip: Trip, seat_no: int, locked: bool, user: User, version: int | None) -> str:
    """Lock a seat (planning again keeps it) or unlock it."""
    scope.check_seats(user, trip, seat_no)
    seats.set_locked(trip, seat_no, locked, user, expected_version=version)
    return (
        _("Seat %(seat)d is locked.", seat=seat_no)
        if locked
        else _("Seat %(seat)d is unlocked.", seat=seat_no)
    )


def lock_bus(trip: Trip, locked: bool, user: User, version: int | None) -> str:
    """Lock the whole bus (planning again keeps it as it is) or unlock it."""
    scope.check_bus(user, trip)
    seats.set_locked(trip, None, locked, user, expected_version=version)
    return (
        _("The whole bus is locked: planning again keeps it as it is.")
        if locked
        else _("The whole bus is unlocked.")
    )


def set_crew(
    trip: Trip,
    ids: dict[str, int | None],
    user: User,
    version: int | None,
    now: datetime,
    settings: Mapping[str, Any],
) -> str:
    """Give the bus its coach, drivers and captain; a coach alone brings its usual drivers."""
    scope.check_bus(user, trip)
    before = {trip.driver1_id, trip.driver2_id} - {None}
    if ids["coach_id"] and not (ids["driver1_id"] or ids["driver2_id"]):
        coach = db.session.get(Coach, ids["coach_id"])
        ids["driver1_id"], ids["driver2_id"] = (
            (coach.driver1_id, coach.driver2_id) if coach else (None, None)
        )
    crew.assign_crew(trip, crew.Crew(**ids), user, expected_version=version)
    tell_drivers(trip, before, user, now, settings)
    return _("Coach, drivers and bus captain saved.")


def tell_drivers(
    trip: Trip, before: set[int], user: User, now: datetime, settings: Mapping[str, Any]
) -> None:
    """A driver newly on a published bus is sent its link; a driver taken off loses it.

    Taking a driver off rotates the manifest key (the old link stops opening) and sends the
    drivers who remain the new one.
    """
    if before - ({trip.driver1_id, trip.driver2_id} - {None}):
        driver_links.rotate(trip, user)
        schedule_driver_notices(trip, now, settings, fresh=True)
    else:
        schedule_driver_notices(trip, now, settings)


def set_departure(
    trip: Trip,
    hhmm: str,
    user: User,
    version: int | None,
    now: datetime,
    settings: Mapping[str, Any],
) -> str:
    """Move the bus's departure to ``hhmm`` (local time) on its date, every stop with it; a
    published bus's drivers get the new time (the passengers' notices follow the change)."""
    scope.check_bus(user, trip)
    try:
        local = time.fromisoformat(hhmm)
    except ValueError:
        raise seats.SeatError(_("Write the departure time as 07:30.")) from None
    departure = datetime.combine(trip.date, local, tzinfo=ZoneInfo(settings["TIMEZONE"]))
    before = trip.departure_at
    crew.set_departure(trip, departure, user, expected_version=version)
    if trip.departure_at != before:
        schedule_driver_notices(trip, now, settings, fresh=True, why="departure time changed")
    return _(
        "The bus now leaves at %(time)s; every stop's time moved with it.",
        time=local.strftime("%H:%M"),
    )
