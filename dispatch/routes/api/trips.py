"""Trips and their seats under /api/v1/trips (CONTRACTS.md §5)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, jsonify
from flask_babel import gettext as _

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip, Worker
from dispatch.routes.api import schemas
from dispatch.routes.api.base import bp, json_body
from dispatch.routes.api.errors import api_error
from dispatch.routes.api.input import MAX_ID, date_arg, int_arg
from dispatch.services import plan_queries, scope, seats
from dispatch.web import local_time


def trip_json(trip: Trip, counties: set[str] | None) -> dict[str, Any]:
    """A trip with its stops and seats; workers outside the user's counties stay anonymous."""
    return {
        "id": trip.id,
        "plan_id": trip.plan_id,
        "plan_status": trip.plan.status,
        "code": trip.code,
        "date": trip.date.isoformat(),
        "departure_at": local_time(trip.departure_at, "%Y-%m-%dT%H:%M%z"),
        "coach_type": trip.coach_type_id,
        "passenger_seats": trip.coach_type.passenger_seats,
        "plate": trip.coach.plate if trip.coach else None,
        "locked": trip.locked,
        "version": trip.version,
        "km": trip.km,
        "cost": trip.cost,
        "stops": [
            {
                "seq": s.seq,
                "site": s.site_id,
                "name": s.site.name_zh,
                "kind": s.kind,
                "eta": local_time(s.eta, "%Y-%m-%dT%H:%M%z"),
            }
            for s in trip.stops
        ],
        "seats": [_seat_json(s, counties) for s in trip.seats],
    }


def _seat_json(seat: SeatAssignment, counties: set[str] | None) -> dict[str, Any]:
    visible = counties is None or seat.worker.county_id in counties
    return {
        "seat_no": seat.seat_no,
        "locked": seat.locked,
        "worker_id": seat.worker_id if visible else None,
        "name": seat.worker.name if visible else None,
    }


def _trip_or_404(trip_id: int) -> Trip:
    trip = db.session.get(Trip, trip_id) if 0 < trip_id <= MAX_ID else None
    if trip is None:
        abort(404, _("No such trip."))
    return trip


@bp.get("/trips")
def list_trips():
    found = plan_queries.trips(int_arg("plan_id"), date_arg())
    counties = g.api_user.county_ids()
    return jsonify(items=[trip_json(t, counties) for t in found])


@bp.get("/trips/<int:trip_id>")
def get_trip(trip_id: int):
    return jsonify(trip_json(_trip_or_404(trip_id), g.api_user.county_ids()))


@bp.put("/trips/<int:trip_id>/seats/<int:seat_no>")
def put_seat(trip_id: int, seat_no: int):
    trip, body = _trip_or_404(trip_id), json_body(schemas.SEAT_INPUT)
    if "worker_id" not in body:
        return api_error(
            422, _("Some fields are not valid."), {"worker_id": _("A worker id is required.")}
        )
    worker = db.session.get(Worker, body["worker_id"]) if 0 < body["worker_id"] <= MAX_ID else None
    if worker is None:
        abort(404, _("No such worker."))
    try:
        scope.check_worker(g.api_user, worker)
        seats.place(
            trip,
            seat_no,
            worker,
            g.api_user,
            expected_version=body.get("version"),
            allow_split=bool(body.get("allow_split")),
        )
    except scope.OutOfScope as refusal:
        return api_error(403, str(refusal))
    except seats.SeatConflict:
        return api_error(
            409, _("Someone else changed this trip in the meantime; reload and try again.")
        )
    except seats.SeatError as error:
        return api_error(422, str(error), {"seat_no": str(error)})
    return jsonify(trip_json(trip, g.api_user.county_ids()))


@bp.delete("/trips/<int:trip_id>/seats/<int:seat_no>")
def delete_seat(trip_id: int, seat_no: int):
    trip = _trip_or_404(trip_id)
    try:
        scope.check_seats(g.api_user, trip, seat_no)
        seats.free(trip, seat_no, g.api_user, expected_version=int_arg("version", low=0))
    except scope.OutOfScope as refusal:
        return api_error(403, str(refusal))
    except seats.SeatConflict:
        return api_error(
            409, _("Someone else changed this trip in the meantime; reload and try again.")
        )
    except seats.SeatError as error:
        return api_error(422, str(error), {"seat_no": str(error)})
    return jsonify(trip_json(trip, g.api_user.county_ids()))
