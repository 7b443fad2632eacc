"""A trip's page: stops, a seat map to click, and the plain forms behind it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import Coach, SeatAssignment, Trip, Worker, utcnow
from dispatch.models.workers import REGISTERED
from dispatch.notify.notices import schedule_driver_notices
from dispatch.routes.access import announce_changes, editor_required
from dispatch.routes.workers import CsrfForm
from dispatch.services import crew, driver_links, scope, seats
from dispatch.services import workers as worker_service
from dispatch.web import parse_id

bp = Blueprint("trips", __name__, url_prefix="/trips")


def waiting_workers(trip: Trip) -> list[Worker]:
    """Registered workers who could ride this bus and have no seat in its plan."""
    dropoffs = [s.site_id for s in trip.stops if s.kind == "dropoff"]
    pickups = [s.site_id for s in trip.stops if s.kind == "pickup"]
    seated = select(SeatAssignment.worker_id).where(SeatAssignment.plan_id == trip.plan_id)
    query = worker_service.visible_workers(current_user).where(
        Worker.status == REGISTERED,
        Worker.earliest_date <= trip.date,
        Worker.latest_date >= trip.date,
        Worker.destination_site_id.in_(dropoffs),
        Worker.pickup_site_id.in_(pickups),
        Worker.id.not_in(seated),
    )
    return list(db.session.scalars(query.order_by(Worker.name).limit(300)))


def other_buses_workers(trip: Trip) -> list[SeatAssignment]:
    """The user's workers seated on the plan's other buses that day who could ride this one instead."""
    dropoffs = [s.site_id for s in trip.stops if s.kind == "dropoff"]
    pickups = [s.site_id for s in trip.stops if s.kind == "pickup"]
    query = (
        select(SeatAssignment)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .join(Worker)
        .where(
            SeatAssignment.plan_id == trip.plan_id,
            Trip.date == trip.date,
            Trip.id != trip.id,
            Worker.destination_site_id.in_(dropoffs),
            Worker.pickup_site_id.in_(pickups),
        )
        .order_by(Trip.number, Trip.id, SeatAssignment.seat_no)
    )
    return [s for s in db.session.scalars(query) if scope.may_see(current_user, s.worker)]


def _render(trip: Trip, status: int = 200):
    rows = [
        [seats.seat_at(trip, n) for n in range(r, r + 4)]
        for r in range(1, trip.coach_type.passenger_seats + 1, 4)
    ]
    return render_template(
        "trips/show.html",
        trip=trip,
        rows=rows,
        waiting=waiting_workers(trip),
        form=CsrfForm(),
        elsewhere=other_buses_workers(trip),
        mine=lambda worker: scope.may_see(current_user, worker),
        bus_refusal=scope.bus_refusal(current_user, trip),
        capacity=trip.coach_type.passenger_seats,
        coaches=crew.coach_choices(trip),
        drivers=crew.driver_choices(trip),
    ), status


@bp.get("/<int:trip_id>")
@login_required
def show(trip_id: int):
    return _render(db.session.get(Trip, trip_id) or abort(404))


@bp.post("/<int:trip_id>/seats")
@editor_required
def change(trip_id: int) -> Response | tuple:
    trip = db.session.get(Trip, trip_id) or abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        done = _apply(trip, request.form)
    except seats.SeatConflict:
        db.session.rollback()
        flash(_("Changed by someone else (已被他人修改): here is the current seat map."), "error")
        return _render(db.session.get(Trip, trip_id), 409)
    except (seats.SeatError, scope.OutOfScope) as error:
        db.session.rollback()
        flash(str(error), "warning" if isinstance(error, seats.GroupSplit) else "error")
        return _render(
            db.session.get(Trip, trip_id), 403 if isinstance(error, scope.OutOfScope) else 422
        )
    announce_changes()
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".show", trip_id=trip.id))


def _apply(trip: Trip, form: MultiDict) -> str:
    """Make the change the form asks for; the message that confirms it."""
    handler = ACTIONS.get(form.get("action", ""))
    if handler is None:
        abort(400)
    return handler(trip, form, form.get("version", type=int))


def _seat_no(form: MultiDict, key: str = "seat_no") -> int:
    return form.get(key, type=int) or 0


def _place(trip: Trip, form: MultiDict, version: int | None) -> str:
    worker = db.session.get(Worker, parse_id(form.get("worker_id")) or 0) or abort(404)
    scope.check_worker(current_user, worker)
    seat_no = _seat_no(form)
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
    seats.place(
        trip,
        seat_no,
        worker,
        current_user,
        expected_version=version,
        allow_split=form.get("allow_split") == "1",
    )
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


def _swap(trip: Trip, form: MultiDict, version: int | None) -> str:
    first, second = _seat_no(form), _seat_no(form, "other_seat")
    scope.check_seats(current_user, trip, first, second)
    seats.swap(trip, first, second, current_user, expected_version=version)
    return _("Swapped seat %(a)d and seat %(b)d.", a=first, b=second)


def _free(trip: Trip, form: MultiDict, version: int | None) -> str:
    seat_no = _seat_no(form)
    scope.check_seats(current_user, trip, seat_no)
    seat = seats.seat_at(trip, seat_no)
    if seat is None:
        raise seats.SeatError(_("Seat %(seat)d is empty already.", seat=seat_no))
    name = seat.worker.name
    seats.free(trip, seat_no, current_user, expected_version=version)
    return _("Seat %(seat)d is free: %(name)s is waiting again.", seat=seat_no, name=name)


def _lock_seat(trip: Trip, form: MultiDict, version: int | None) -> str:
    seat_no, locked = _seat_no(form), form.get("action") == "lock"
    scope.check_seats(current_user, trip, seat_no)
    seats.set_locked(trip, seat_no, locked, current_user, expected_version=version)
    return (
        _("Seat %(seat)d is locked.", seat=seat_no)
        if locked
        else _("Seat %(seat)d is unlocked.", seat=seat_no)
    )


def _lock_trip(trip: Trip, form: MultiDict, version: int | None) -> str:
    scope.check_bus(current_user, trip)
    locked = form.get("action") == "lock_trip"
    seats.set_locked(trip, None, locked, current_user, expected_version=version)
    return (
        _("The whole bus is locked: planning again keeps it as it is.")
        if locked
        else _("The whole bus is unlocked.")
    )


def _crew(trip: Trip, form: MultiDict, version: int | None) -> str:
    scope.check_bus(current_user, trip)
    before = {trip.driver1_id, trip.driver2_id} - {None}
    ids = {
        k: parse_id(form.get(k))
        for k in ("coach_id", "driver1_id", "driver2_id", "captain_worker_id")
    }
    if ids["coach_id"] and not (ids["driver1_id"] or ids["driver2_id"]):
        coach = db.session.get(Coach, ids["coach_id"])  # default to the coach's usual crew
        ids["driver1_id"], ids["driver2_id"] = (
            (coach.driver1_id, coach.driver2_id) if coach else (None, None)
        )
    crew.assign_crew(trip, crew.Crew(**ids), current_user, expected_version=version)
    _tell_drivers(trip, before)
    return _("Coach, drivers and bus captain saved.")


def _tell_drivers(trip: Trip, before: set[int]) -> None:
    """A driver newly on a published bus is sent its link; a driver taken off loses it.

    Taking a driver off rotates the manifest key (the old link stops opening) and sends the
    drivers who remain the new one.
    """
    if before - ({trip.driver1_id, trip.driver2_id} - {None}):
        driver_links.rotate(trip, current_user)
        schedule_driver_notices(trip, utcnow(), current_app.config, fresh=True)
    else:
        schedule_driver_notices(trip, utcnow(), current_app.config)


def _set_departure(trip: Trip, form: MultiDict, version: int | None) -> str:
    scope.check_bus(current_user, trip)
    hhmm = form.get("departure", "")
    try:
        local = time.fromisoformat(hhmm)
    except ValueError:
        raise seats.SeatError(_("Write the departure time as 07:30.")) from None
    departure = datetime.combine(trip.date, local, tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    crew.set_departure(trip, departure, current_user, expected_version=version)
    return _(
        "The bus now leaves at %(time)s; every stop's time moved with it.",
        time=local.strftime("%H:%M"),
    )


ACTIONS: dict[str, Callable[[Trip, MultiDict, int | None], str]] = {
    "place": _place,
    "swap": _swap,
    "free": _free,
    "lock": _lock_seat,
    "unlock": _lock_seat,
    "lock_trip": _lock_trip,
    "unlock_trip": _lock_trip,
    "crew": _crew,
    "departure": _set_departure,
}
