"""A trip's coach, drivers and bus captain (车长)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Coach, Driver, Trip, TripChange, User, Worker
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.services import audit, availability
from dispatch.services.seats import SeatConflict, SeatError, write_trip
from dispatch.services.timing import stop_times


@dataclass(frozen=True)
class Crew:
    coach_id: int | None
    driver1_id: int | None
    driver2_id: int | None
    captain_worker_id: int | None


def assign_crew(
    trip: Trip, crew: Crew, user: User | None, *, expected_version: int | None = None
) -> None:
    """Give the trip its coach (plate), two drivers and a captain who rides on it."""
    if expected_version is not None and trip.version != expected_version:
        raise SeatConflict()
    availability.lock_crew(crew.coach_id, [i for i in (crew.driver1_id, crew.driver2_id) if i])
    coach = _coach(trip, crew.coach_id)
    depot = coach.depot_site_id if coach else None
    drivers = [_driver(trip, i, depot) for i in (crew.driver1_id, crew.driver2_id)]
    if drivers[0] is not None and drivers[1] is not None and drivers[0].id == drivers[1].id:
        raise SeatError(_("The two drivers must be different people."))
    if crew.captain_worker_id and crew.captain_worker_id not in {s.worker_id for s in trip.seats}:
        raise SeatError(_("The bus captain must be one of the passengers."))
    old_plate = trip.coach.plate if trip.coach else None
    old_contact = _contact(trip)
    trip.coach = coach  # the relationships, not just the ids: notices read them in this request
    trip.driver1, trip.driver2 = drivers
    trip.captain_worker_id = crew.captain_worker_id or None
    write_trip(lambda: None, trip)
    new_plate = coach.plate if coach else None
    if trip.plan.status == PLAN_PUBLISHED:
        # every passenger's bus (its plate) changed; or the driver their notice says to call
        for field, old, new in (
            ("bus", old_plate, new_plate),
            ("driver", old_contact, _contact(trip)),
        ):
            if old != new:
                _changed_for_all(trip, field, old, new, user)
    audit.record(
        user, "trip.crew", "trip", trip.id, {"coach": new_plate, "captain": trip.captain_worker_id}
    )


def _contact(trip: Trip) -> str | None:
    """The phone the passengers' departure notice gives."""
    return trip.contact_driver.phone if trip.contact_driver is not None else None


def _changed_for_all(
    trip: Trip, field: str, old: str | None, new: str | None, user: User | None
) -> None:
    for seat in trip.seats:
        db.session.add(
            TripChange(
                trip_id=trip.id,
                worker_id=seat.worker_id,
                field=field,
                old_value=old,
                new_value=new,
                created_by_id=user.id if user else None,
            )
        )


class CrewClash(SeatError):
    """The coach or a driver is away on another bus at that time; ``window`` names that bus."""

    def __init__(self, message: str, window: availability.Window) -> None:
        super().__init__(message)
        self.window = window


def _coach(trip: Trip, coach_id: int | None) -> Coach | None:
    if not coach_id:
        return None
    coach = db.session.get(Coach, coach_id)
    if coach is None or not coach.active:
        raise SeatError(_("There is no such coach."))
    if coach.coach_type_id != trip.coach_type_id:
        raise SeatError(_("This coach is of another type than the one planned."))
    if coach.certificate_expires and coach.certificate_expires < availability.return_date(trip):
        raise SeatError(
            _(
                "This coach's road transport certificate expires on %(day)s, before the trip ends.",
                day=coach.certificate_expires.isoformat(),
            )
        )
    clash = availability.coach_clash(trip, coach)
    if clash:
        raise CrewClash(
            _(
                "Coach %(plate)s is away on bus %(bus)s (%(start)s) and is back and rested only at "
                "%(end)s.",
                plate=coach.plate,
                **_when(clash),
            ),
            clash,
        )
    return coach


def _when(window: availability.Window) -> dict[str, str]:
    return {
        "bus": window.code,
        "start": window.start.strftime("%Y-%m-%d %H:%M"),
        "end": window.end.strftime("%Y-%m-%d %H:%M"),
    }


def _driver(trip: Trip, driver_id: int | None, depot_site_id: str | None) -> Driver | None:
    if not driver_id:
        return None
    driver = db.session.get(Driver, driver_id)
    if driver is None or not driver.active:
        raise SeatError(_("There is no such driver."))
    if driver.qualification_expires and driver.qualification_expires < availability.return_date(
        trip
    ):
        raise SeatError(
            _(
                "%(name)s's qualification certificate expires on %(day)s, before the trip ends.",
                name=driver.name,
                day=driver.qualification_expires.isoformat(),
            )
        )
    clash = availability.driver_clash(trip, driver, depot_site_id)
    if clash:
        raise CrewClash(
            _(
                "%(name)s is away driving bus %(bus)s (%(start)s) and is back and rested only at "
                "%(end)s.",
                name=driver.name,
                **_when(clash),
            ),
            clash,
        )
    return driver


def coach_choices(trip: Trip) -> list[Coach]:
    """Active coaches of the planned type that are free for this trip, and the one it has."""
    busy, _drivers = availability.busy_around(trip)
    query = select(Coach).where(Coach.coach_type_id == trip.coach_type_id, Coach.active.is_(True))
    last = availability.return_date(trip)
    free = [
        c
        for c in db.session.scalars(query.order_by(Coach.plate))
        if c.id not in busy and (c.certificate_expires is None or c.certificate_expires >= last)
    ]
    return _with_current(free, [trip.coach], lambda c: c.plate)


def driver_choices(trip: Trip) -> list[Driver]:
    """Active drivers free for this trip (certificate valid to its end), and the ones it has."""
    _coaches, busy = availability.busy_around(trip)
    last = availability.return_date(trip)
    free = [
        d
        for d in db.session.scalars(
            select(Driver).where(Driver.active.is_(True)).order_by(Driver.name)
        )
        if d.id not in busy and (d.qualification_expires is None or d.qualification_expires >= last)
    ]
    return _with_current(free, [trip.driver1, trip.driver2], lambda d: d.name)


def _with_current(free: list, current: list, key) -> list:
    """The free ones plus what the trip already has and is still active (saving keeps it);
    a deactivated one is not offered: saving it would be refused."""
    extra = [c for c in current if c is not None and c.active and c not in free]
    return sorted(free + extra, key=key) if extra else free


def captain_choices(trip: Trip) -> list[Worker]:
    return [s.worker for s in trip.seats]


def set_departure(
    trip: Trip, departure: datetime, user: User | None, *, expected_version: int | None = None
) -> None:
    """Move the departure (an aware datetime on the trip's date) and every stop's estimate with it."""
    if expected_version is not None and trip.version != expected_version:
        raise SeatConflict()
    if departure.date() != trip.date:
        raise SeatError(
            _(
                "The departure must stay on the trip's date; move the workers to another bus instead."
            )
        )
    old = trip.departure_at
    times = stop_times(departure, [s.leg_km for s in trip.stops], [s.kind for s in trip.stops])
    for stop, eta in zip(trip.stops, times, strict=True):
        stop.eta = eta
    trip.departure_at = times[0]
    write_trip(lambda: None, trip)
    if trip.plan.status == PLAN_PUBLISHED and old != trip.departure_at:
        _changed_for_all(trip, "time", old.isoformat(), trip.departure_at.isoformat(), user)
    audit.record(
        user, "trip.departure", "trip", trip.id, {"departure": trip.departure_at.isoformat()}
    )
