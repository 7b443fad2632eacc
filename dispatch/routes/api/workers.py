"""The workers under /api/v1/workers (CONTRACTS.md §5, §6)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from dispatch.identity import mask_id_number, mask_phone
from dispatch.models import VIEWER, Worker
from dispatch.models.workers import WORKER_STATUSES
from dispatch.routes.api import schemas
from dispatch.routes.api.base import bp, json_body, paging
from dispatch.routes.api.errors import api_error
from dispatch.routes.api.input import MAX_ID, choice_arg, date_arg, text_arg
from dispatch.services import audit
from dispatch.services import workers as service
from dispatch.services.seats import live_seat, live_seats
from dispatch.services.worker_fields import Lookups

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


def _visible_or_404(worker_id: int) -> Worker:
    worker = service.get_visible(g.api_user, worker_id) if 0 < worker_id <= MAX_ID else None
    if worker is None:
        abort(404, _("No such worker."))
    return worker


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
    page, per_page = paging()
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
    body = json_body(schemas.NEW_WORKER)
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
    changes = json_body(schemas.WORKER_INPUT)
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
