"""A trip's page: stops, a seat map to click, and the plain forms behind it.

Each change the page makes is an endpoint of its own; all answer alike (see ``_change``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import Trip, Worker, utcnow
from dispatch.routes.access import editor_required
from dispatch.routes.announce import announce_changes
from dispatch.routes.driver_pages import full_view
from dispatch.routes.forms import CsrfForm
from dispatch.services import (
    arrival,
    crew,
    plan_queries,
    reply_lists,
    route_map,
    scope,
    seat_actions,
    seats,
)
from dispatch.web import parse_id, select_locale

bp = Blueprint("trips", __name__, url_prefix="/trips")


def _render(trip: Trip, status: int = 200):
    rows = [
        [seats.seat_at(trip, n) for n in range(r, r + 4)]
        for r in range(1, trip.coach_type.passenger_seats + 1, 4)
    ]
    return render_template(
        "trips/show.html",
        trip=trip,
        rows=rows,
        waiting=plan_queries.waiting_workers(trip, current_user),
        form=CsrfForm(),
        elsewhere=plan_queries.other_buses_workers(trip, current_user),
        mine=lambda worker: scope.may_see(current_user, worker),
        bus_refusal=scope.bus_refusal(current_user, trip),
        capacity=trip.coach_type.passenger_seats,
        coaches=crew.coach_choices(trip),
        drivers=crew.driver_choices(trip),
        bus_map=route_map.bus_map(trip, select_locale(), current_app.config["TIMEZONE"]),
        replies=reply_lists.bus_replies(trip, current_user, utcnow()),
        not_asked=reply_lists.not_asked(trip),
        arrival=arrival.bus_arrival(trip),
        full_view=full_view(trip),  # may open the hand-over list (gate.sheet's own check)
    ), status


@bp.get("/<int:trip_id>")
@login_required
def show(trip_id: int):
    return _render(db.session.get(Trip, trip_id) or abort(404))


def _change(trip_id: int, make: Callable[[Trip, int | None], str]) -> Response | tuple:
    """Make one change to the bus (CSRF checked first), commit it and say what it did.

    Someone else's change meanwhile answers 409, a refusal 403 and an impossible change 422,
    each with the current page and the reason."""
    trip = db.session.get(Trip, trip_id) or abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        done = make(trip, request.form.get("version", type=int))
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


def _seat_no(key: str = "seat_no") -> int:
    return request.form.get(key, type=int) or 0


@bp.post("/<int:trip_id>/seats/place")
@editor_required
def place(trip_id: int):
    """Seat a worker: waiting, from another bus, or moved within this one."""

    def make(trip: Trip, version: int | None) -> str:
        worker = db.session.get(Worker, parse_id(request.form.get("worker_id")) or 0) or abort(404)
        split = request.form.get("allow_split") == "1"
        return seat_actions.place_worker(trip, _seat_no(), worker, current_user, version, split)

    return _change(trip_id, make)


@bp.post("/<int:trip_id>/seats/swap")
@editor_required
def swap(trip_id: int):
    first, second = _seat_no(), _seat_no("other_seat")
    return _change(trip_id, lambda t, v: seat_actions.swap_seats(t, first, second, current_user, v))


@bp.post("/<int:trip_id>/seats/free")
@editor_required
def free(trip_id: int):
    return _change(trip_id, lambda t, v: seat_actions.free_seat(t, _seat_no(), current_user, v))


@bp.post("/<int:trip_id>/seats/lock")
@editor_required
def lock_seat(trip_id: int):
    return _change(
        trip_id, lambda t, v: seat_actions.lock_seat(t, _seat_no(), True, current_user, v)
    )


@bp.post("/<int:trip_id>/seats/unlock")
@editor_required
def unlock_seat(trip_id: int):
    return _change(
        trip_id, lambda t, v: seat_actions.lock_seat(t, _seat_no(), False, current_user, v)
    )


@bp.post("/<int:trip_id>/lock")
@editor_required
def lock_bus(trip_id: int):
    return _change(trip_id, lambda t, v: seat_actions.lock_bus(t, True, current_user, v))


@bp.post("/<int:trip_id>/unlock")
@editor_required
def unlock_bus(trip_id: int):
    return _change(trip_id, lambda t, v: seat_actions.lock_bus(t, False, current_user, v))


@bp.post("/<int:trip_id>/crew")
@editor_required
def set_crew(trip_id: int):
    """Coach, drivers and bus captain; a coach alone brings its usual drivers."""
    keys = ("coach_id", "driver1_id", "driver2_id", "captain_worker_id")
    ids = {k: parse_id(request.form.get(k)) for k in keys}
    config = current_app.config
    return _change(
        trip_id, lambda t, v: seat_actions.set_crew(t, ids, current_user, v, utcnow(), config)
    )


@bp.post("/<int:trip_id>/departure")
@editor_required
def set_departure(trip_id: int):
    hhmm, config = request.form.get("departure", ""), current_app.config
    return _change(
        trip_id,
        lambda t, v: seat_actions.set_departure(t, hhmm, current_user, v, utcnow(), config),
    )
