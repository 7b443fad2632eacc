"""The JSON API under /api/v1 (CONTRACTS.md §5), authenticated by bearer tokens."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.extensions import csrf, db, limiter
from dispatch.identity import mask_id_number, mask_phone
from dispatch.models import VIEWER, Plan, SeatAssignment, Trip, Worker
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.models.workers import WORKER_STATUSES
from dispatch.routes import openapi as document
from dispatch.routes.access import announce_changes
from dispatch.routes.api_errors import api_error
from dispatch.routes.api_input import (
    MAX_ID,
    body_errors,
    choice_arg,
    date_arg,
    int_arg,
    text_arg,
    unstorable_fields,
)
from dispatch.services import accounts, audit
from dispatch.services import workers as service
from dispatch.services.seats import live_seat, live_seats
from dispatch.services.worker_fields import Lookups

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_PER_PAGE = 200


def _token_key() -> str:
    """Requests are counted per API token (by its hash), or per address without one."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()
    return "addr:" + (request.remote_addr or "")


limiter.shared_limit(
    lambda: f"{current_app.config['API_REQUESTS_PER_MINUTE']} per minute",
    scope="api",
    key_func=_token_key,
    exempt_when=lambda: not current_app.config["API_REQUESTS_PER_MINUTE"],
)(bp)


@bp.before_request
def _authenticate():
    # One byte over the limit: werkzeug stops a streamed (chunked) body at the limit without a
    # 413, so _json_body tells "exactly at the limit" from "cut off" by that extra byte.
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"] + 1
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    user = accounts.user_for_token(header[7:].strip()) if header.startswith("Bearer ") else None
    if user is None:
        return api_error(401, _("A valid API token is required (Authorization: Bearer …)."))
    if request.method != "GET" and not user.can_edit:
        return api_error(403, _("This token may only read."))
    g.api_user = user
    return None


@bp.after_request
def _commit(response):
    if response.status_code < 400 and request.method != "GET":
        announce_changes()
        db.session.commit()
    elif response.status_code < 400 and g.get("audited"):
        db.session.commit()  # a read of full ID numbers leaves its audit entry
    return response


_LOOK_UP = object()


def worker_json(worker: Worker, seat: Any = _LOOK_UP, masked: bool = False) -> dict[str, Any]:
    """A worker as the API shows it: the fields of CONTRACTS.md §6 plus read-only keys; viewers
    (``masked``) get the ID number and phone masked."""
    if seat is _LOOK_UP:
        seat = live_seat(worker.id)
    id_number = mask_id_number(worker.id_number) if masked else worker.id_number
    phone = mask_phone(worker.phone) if masked else worker.phone
    return {
        "id": worker.id,
        "name": worker.name,
        "id_number": id_number,
        "phone": phone,
        "county": worker.county_id,
        "township": worker.township,
        "pickup_point": worker.pickup_site_id,
        "destination": worker.destination_site_id,
        "employer": worker.employer.name if worker.employer else None,
        "employer_id": worker.employer_id,
        "earliest_date": worker.earliest_date.isoformat(),
        "latest_date": worker.latest_date.isoformat(),
        "group": worker.group_code,
        "sms_consent": worker.sms_consent,
        "notes": worker.notes,
        "status": worker.status,
        "birth_date": worker.birth_date.isoformat(),
        "sex": worker.sex,
        "opted_out": worker.opted_out_at is not None,
        "phone_invalid": worker.phone_invalid_at is not None,
        "anonymised": worker.anonymised_at is not None,
        "trip_id": seat.trip_id if seat else None,
        "seat_no": seat.seat_no if seat else None,
    }


def _json_body(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's JSON object; 400 if it is none, 422 naming fields that break ``schema``
    or hold text no database stores (control characters, lone surrogates)."""
    if len(request.get_data(cache=True)) > current_app.config["API_MAX_BODY_BYTES"]:
        abort(413)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, _("The request body must be a JSON object."))
    errors = {**(body_errors(body, schema) if schema else {}), **unstorable_fields(body)}
    if errors:
        abort(api_error(422, _("Some fields are not valid."), errors))
    return body


def _visible_or_404(worker_id: int) -> Worker:
    worker = service.get_visible(g.api_user, worker_id) if 0 < worker_id <= MAX_ID else None
    if worker is None:
        abort(404, _("No such worker."))
    return worker


def _paging() -> tuple[int, int]:
    """Page and page size; a page past the end is empty and more than 200 a page gives 200."""
    return int_arg("page", 1, high=None), min(int_arg("per_page", 50, high=None), MAX_PER_PAGE)


def _filters() -> service.WorkerFilter:
    return service.WorkerFilter(
        q=text_arg("q"),
        county=text_arg("county"),
        destination=text_arg("destination"),
        status=choice_arg("status", WORKER_STATUSES),
        day=date_arg(),
    )


def _full_numbers(count: int, detail: dict[str, Any]) -> bool:
    """Whether this user reads full ID numbers and phones; if so the read is audited."""
    if g.api_user.role == VIEWER:
        return False
    if count:
        audit.record(
            g.api_user,
            "worker.api_read",
            "worker",
            detail.pop("id", ""),
            {"count": count, **detail},
            remote_addr=request.remote_addr or "",
        )
        g.audited = True
    return True


@bp.get("/workers")
def list_workers():
    page, per_page = _paging()
    filters = _filters()
    query = service.filtered_query(g.api_user, filters).options(selectinload(Worker.employer))
    items, total = service.page_of(query, page, per_page)
    seats = live_seats([w.id for w in items])  # one query for the page, not one per worker
    full = _full_numbers(
        len(items), {"filters": _filter_detail(filters), "page": page, "per_page": per_page}
    )
    return jsonify(
        items=[worker_json(w, seats.get(w.id), masked=not full) for w in items],
        page=page,
        per_page=per_page,
        total=total,
    )


def _filter_detail(filters: service.WorkerFilter) -> dict[str, str]:
    """The filters of a read as its audit entry keeps them (set ones only)."""
    values = {
        "q": filters.q,
        "county": filters.county,
        "destination": filters.destination,
        "status": filters.status,
        "date": filters.day.isoformat() if filters.day else "",
    }
    return {key: value for key, value in values.items() if value}


@bp.post("/workers")
def create_worker():
    body = _json_body(document.NEW_WORKER)
    try:
        worker = service.create_worker(body, g.api_user, Lookups.load(g.api_user.county_ids()))
    except service.DuplicateWorker as dup:
        if service.get_visible(g.api_user, dup.existing.id) is None:  # another county's: no details
            return api_error(
                409, _("This ID number is registered by another county's bureau."), code="duplicate"
            )
        return api_error(
            409,
            _("This ID number is registered already."),
            {"id_number": str(dup.existing.id)},
            code="duplicate",
        )
    except service.InvalidWorker as invalid:
        return api_error(422, _("Some fields are not valid."), invalid.errors)
    return jsonify(worker_json(worker)), 201


@bp.get("/workers/<int:worker_id>")
def get_worker(worker_id: int):
    worker = _visible_or_404(worker_id)
    full = _full_numbers(1, {"id": worker.id})
    return jsonify(worker_json(worker, masked=not full))


@bp.patch("/workers/<int:worker_id>")
def update_worker(worker_id: int):
    worker = _visible_or_404(worker_id)
    changes = _json_body(document.WORKER_INPUT)
    try:
        service.update_worker(
            worker, changes, g.api_user, Lookups.load(g.api_user.county_ids(), keep=worker)
        )
    except service.DuplicateWorker:
        return api_error(409, _("Another worker has this ID number."), code="duplicate")
    except service.InvalidWorker as invalid:
        return api_error(422, _("Some fields are not valid."), invalid.errors)
    except service.WorkerLocked as locked:
        return api_error(409, str(locked))
    return jsonify(worker_json(worker))


@bp.delete("/workers/<int:worker_id>")
def withdraw_worker(worker_id: int):
    worker = _visible_or_404(worker_id)
    service.withdraw_worker(worker, g.api_user)
    return jsonify(worker_json(worker))


@bp.get("/openapi.json")
def openapi():
    return jsonify(document.spec())


# --- Trips and seats ------------------------------------------------------------------


def trip_json(trip: Trip, scope: set[str] | None) -> dict[str, Any]:
    """A trip with its stops and seats; workers outside the user's counties stay anonymous."""
    from dispatch.web import local_time

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
        "seats": [_seat_json(s, scope) for s in trip.seats],
    }


def _seat_json(seat: SeatAssignment, scope: set[str] | None) -> dict[str, Any]:
    visible = scope is None or seat.worker.county_id in scope
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
    query = select(Trip).join(Plan).order_by(Trip.date, Trip.number, Trip.id)
    plan_id, day = int_arg("plan_id"), date_arg()
    query = (
        query.where(Trip.plan_id == plan_id)
        if plan_id
        else query.where(Plan.status == PLAN_PUBLISHED)
    )
    if day:
        query = query.where(Trip.date == day)
    scope = g.api_user.county_ids()
    return jsonify(items=[trip_json(t, scope) for t in db.session.scalars(query)])


@bp.get("/trips/<int:trip_id>")
def get_trip(trip_id: int):
    return jsonify(trip_json(_trip_or_404(trip_id), g.api_user.county_ids()))


@bp.put("/trips/<int:trip_id>/seats/<int:seat_no>")
def put_seat(trip_id: int, seat_no: int):
    from dispatch.services import scope, seats

    trip, body = _trip_or_404(trip_id), _json_body(document.SEAT_INPUT)
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
    from dispatch.services import scope, seats

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


# --- Messages -----------------------------------------------------------------------------


@bp.get("/messages")
def list_messages():
    from dispatch.notify import reports

    page, per_page = _paging()
    filters = reports.MessageFilter(
        status=choice_arg("status", reports.STATUSES),
        kind=choice_arg("kind", document.MESSAGE_KINDS),
        trip_id=int_arg("trip_id"),
    )
    query = reports.filtered_messages(g.api_user.county_ids(), filters)
    items, total = reports.page_of(query, page, per_page)
    return jsonify(
        items=[reports.message_json(m) for m in items], page=page, per_page=per_page, total=total
    )
