"""A trip's page: stops, seat map, and seat changes by plain forms."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import Coach, Driver, SeatAssignment, Trip, Worker, utcnow
from dispatch.models.workers import REGISTERED
from dispatch.notify.notices import schedule_driver_notices
from dispatch.routes.access import announce_changes, editor_required
from dispatch.routes.workers import CsrfForm
from dispatch.services import crew, driver_links, seats
from dispatch.services import workers as worker_service

bp = Blueprint("trips", __name__, url_prefix="/trips")


def waiting_workers(trip: Trip) -> list[Worker]:
    """Registered workers who could ride this bus and have no seat in its plan."""
    dropoffs = [s.site_id for s in trip.stops if s.kind == "dropoff"]
    pickups = [s.site_id for s in trip.stops if s.kind == "pickup"]
    seated = select(SeatAssignment.worker_id).where(SeatAssignment.plan_id == trip.plan_id)
    query = worker_service.visible_workers(current_user).where(
        Worker.status == REGISTERED, Worker.earliest_date <= trip.date, Worker.latest_date >= trip.date,
        Worker.destination_site_id.in_(dropoffs), Worker.pickup_site_id.in_(pickups), Worker.id.not_in(seated),
    )  # fmt: skip
    return list(db.session.scalars(query.order_by(Worker.name).limit(300)))


def other_buses_workers(trip: Trip) -> list[SeatAssignment]:
    """Workers seated on the plan's other buses that day who could ride this one instead."""
    dropoffs = [s.site_id for s in trip.stops if s.kind == "dropoff"]
    pickups = [s.site_id for s in trip.stops if s.kind == "pickup"]
    query = (
        select(SeatAssignment).join(Trip, Trip.id == SeatAssignment.trip_id).join(Worker)
        .where(SeatAssignment.plan_id == trip.plan_id, Trip.date == trip.date, Trip.id != trip.id,
               Worker.destination_site_id.in_(dropoffs), Worker.pickup_site_id.in_(pickups))
        .order_by(Trip.code, SeatAssignment.seat_no)
    )  # fmt: skip
    scope = current_user.county_ids()
    return [s for s in db.session.scalars(query) if scope is None or s.worker.county_id in scope]


def _render(trip: Trip, status: int = 200):
    rows = [[seats.seat_at(trip, n) for n in range(r, r + 4)] for r in range(1, trip.coach_type.passenger_seats + 1, 4)]
    scope = current_user.county_ids()
    return render_template(
        "trips/show.html", trip=trip, rows=rows, waiting=waiting_workers(trip), form=CsrfForm(),
        elsewhere=other_buses_workers(trip),
        capacity=trip.coach_type.passenger_seats, scope=scope, coaches=crew.coach_choices(trip),
        drivers=db.session.scalars(select(Driver).order_by(Driver.name)).all(),
    ), status  # fmt: skip


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
    drivers_before = {trip.driver1_id, trip.driver2_id} - {None}
    try:
        _apply(trip, request.form)
    except seats.SeatConflict:
        db.session.rollback()
        flash(_("Changed by someone else (已被他人修改): here is the current seat map."), "error")
        return _render(db.session.get(Trip, trip_id), 409)
    except seats.GroupSplit:
        flash(_("This would split a travel group. Tick “split the group” to do it anyway."), "warning")
        return _render(trip, 422)
    except seats.SeatError as error:
        flash(str(error), "error")
        return _render(trip, 422)
    if request.form.get("action") == "crew":
        _tell_drivers(trip, drivers_before)
    announce_changes()
    db.session.commit()
    return redirect(url_for(".show", trip_id=trip.id))


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


def _departure(trip: Trip, hhmm: str) -> datetime:
    try:
        local = time.fromisoformat(hhmm)
    except ValueError:
        raise seats.SeatError(_("Write the departure time as 07:30.")) from None
    return datetime.combine(trip.date, local, tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def _apply(trip: Trip, form) -> None:
    action, version = form.get("action"), form.get("version", type=int)
    seat_no = form.get("seat_no", type=int)
    if action == "place":
        worker = worker_service.get_visible(current_user, form.get("worker_id", type=int) or 0) or abort(404)
        seats.place(trip, seat_no or 0, worker, current_user, expected_version=version,
                    allow_split=form.get("allow_split") == "1")  # fmt: skip
    elif action == "swap":
        seats.swap(trip, seat_no or 0, form.get("other_seat", type=int) or 0, current_user, expected_version=version)
    elif action == "free":
        seats.free(trip, seat_no or 0, current_user, expected_version=version)
    elif action in ("lock", "unlock"):
        seats.set_locked(trip, seat_no or 0, action == "lock", current_user, expected_version=version)
    elif action == "crew":
        ids = {k: form.get(k, type=int) for k in ("coach_id", "driver1_id", "driver2_id", "captain_worker_id")}
        if ids["coach_id"] and not (ids["driver1_id"] or ids["driver2_id"]):
            coach = db.session.get(Coach, ids["coach_id"])  # default to the coach's usual crew
            ids["driver1_id"], ids["driver2_id"] = (coach.driver1_id, coach.driver2_id) if coach else (None, None)
        crew.assign_crew(trip, crew.Crew(**ids), current_user, expected_version=version)
    elif action == "departure":
        crew.set_departure(trip, _departure(trip, form.get("departure", "")), current_user, expected_version=version)
    elif action in ("lock_trip", "unlock_trip"):
        seats.set_locked(trip, None, action == "lock_trip", current_user, expected_version=version)
    else:
        abort(400)
