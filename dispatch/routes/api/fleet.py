"""The fleet and places under /api/v1 (CONTRACTS.md §5): coaches, drivers, employers, sites,
and a trip's crew. Same tokens, limits and error shape as the rest of the API (base.py); writes are for admins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify
from flask_babel import gettext as _

from dispatch.extensions import csrf, db
from dispatch.identity import mask_phone
from dispatch.ids import parse_id
from dispatch.models import Coach, Driver, Employer, Site, Trip, utcnow
from dispatch.routes.api import base
from dispatch.routes.api import openapi_fleet as document
from dispatch.routes.api.errors import api_error
from dispatch.routes.api.input import MAX_ID, text_arg
from dispatch.routes.api.trips import trip_json
from dispatch.services import crew, fleet, scope, seat_actions
from dispatch.services.seats import SeatConflict, SeatError

bp = Blueprint("fleet", __name__)  # nested in base.bp (endpoints api.fleet.*): its token check,
csrf.exempt(bp)  # limits, error shape and commit apply here too


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def coach_json(coach: Coach) -> dict[str, Any]:
    return {
        "id": coach.id,
        "plate": coach.plate,
        "coach_type": coach.coach_type_id,
        "operator": coach.operator,
        "driver1_id": coach.driver1_id,
        "driver2_id": coach.driver2_id,
        "depot": coach.depot_site_id,
        "certificate_no": coach.certificate_no,
        "certificate_expires": _iso(coach.certificate_expires),
        "active": coach.active,
    }


def driver_json(driver: Driver) -> dict[str, Any]:
    phone = driver.phone if g.api_user.can_edit else mask_phone(driver.phone)
    return {
        "id": driver.id,
        "name": driver.name,
        "phone": phone,
        "operator": driver.operator,
        "licence_class": driver.licence_class,
        "qualification_no": driver.qualification_no,
        "qualification_expires": _iso(driver.qualification_expires),
        "active": driver.active,
    }


def employer_json(employer: Employer) -> dict[str, Any]:
    return {
        "id": employer.id,
        "name": employer.name,
        "destination": employer.site_id,
        "address": employer.address,
        "contact_name": employer.contact_name,
        "contact_phone": employer.contact_phone,
        "active": employer.active,
    }


def site_json(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "kind": site.kind,
        "county": site.county_id,
        "name": site.name_zh,
        "name_en": site.name_en,
        "address": site.address,
        "lat": site.lat,
        "lon": site.lon,
        "handout_place": site.handout_place,
        "default_window": site.default_window,
        "active": site.active,
    }


RESOURCES = {  # path → kind, model, JSON, input schema names
    "coaches": ("coach", Coach, coach_json, "CoachInput"),
    "drivers": ("driver", Driver, driver_json, "DriverInput"),
    "employers": ("employer", Employer, employer_json, "EmployerInput"),
    "sites": ("site", Site, site_json, "SiteInput"),
}


def _resource(name: str) -> tuple:
    return RESOURCES.get(name) or abort(404)


def _admin_only() -> None:
    if not g.api_user.is_admin:
        abort(api_error(403, _("Only an administrator may change the fleet and places.")))


def _item_or_404(model: type, key: str) -> Any:
    if model is Site:
        row = db.session.get(Site, key[:40])
    else:
        row = db.session.get(model, parse_id(key)) if parse_id(key) else None
    return row or abort(404, _("Not found."))


@bp.get("/<any(coaches, drivers, employers, sites):name>")
def list_items(name: str):
    kind, _model, to_json, _schema = _resource(name)
    page, per_page = base.paging()
    rows = fleet.search(kind, text_arg("q") or "")
    chunk = rows[(page - 1) * per_page : page * per_page]
    return jsonify(items=[to_json(r) for r in chunk], page=page, per_page=per_page, total=len(rows))


@bp.post("/<any(coaches, drivers, employers, sites):name>")
def create_item(name: str):
    kind, _model, to_json, schema = _resource(name)
    _admin_only()
    body = base.json_body(document.SCHEMAS["New" + schema.removesuffix("Input")])
    row = _save(kind, None, body)
    return jsonify(to_json(row)), 201


@bp.get("/<any(coaches, drivers, employers, sites):name>/<key>")
def get_item(name: str, key: str):
    _kind, model, to_json, _schema = _resource(name)
    return jsonify(to_json(_item_or_404(model, key)))


@bp.patch("/<any(coaches, drivers, employers, sites):name>/<key>")
def update_item(name: str, key: str):
    kind, model, to_json, schema = _resource(name)
    _admin_only()
    row = _item_or_404(model, key)
    body = base.json_body(document.SCHEMAS[schema])
    active = body.pop("active", None)
    _save(kind, row, body, partial=True)
    if active is not None and active != row.active:
        fleet.set_active(kind, row, bool(active), g.api_user)
    return jsonify(to_json(row))


def _save(kind: str, row: Any, body: dict[str, Any], partial: bool = False) -> Any:
    data = {k: v for k, v in body.items() if k != "active"}
    try:
        saved = fleet.save(kind, row, data, g.api_user, partial=partial)
    except fleet.Taken as error:
        db.session.rollback()
        abort(api_error(409, str(error), error.fields))
    except fleet.FleetError as error:
        db.session.rollback()
        abort(api_error(422, str(error), error.fields))
    if row is None and body.get("active") is False:
        fleet.set_active(kind, saved, False, g.api_user)
    return saved


@bp.delete("/<any(coaches, drivers, employers, sites):name>/<key>")
def delete_item(name: str, key: str):
    kind, model, _to_json, _schema = _resource(name)
    _admin_only()
    row = _item_or_404(model, key)
    try:
        fleet.delete(kind, row, g.api_user)
    except fleet.InUse as error:
        db.session.rollback()
        return api_error(409, str(error), code="in_use")
    return "", 204


@bp.patch("/trips/<int:trip_id>")
def patch_trip(trip_id: int):
    trip = db.session.get(Trip, trip_id) if 0 < trip_id <= MAX_ID else None
    if trip is None:
        abort(404, _("No such bus."))
    body = base.json_body(document.SCHEMAS["TripCrewInput"])
    ids = {
        k: body.get(k, getattr(trip, k))
        for k in ("coach_id", "driver1_id", "driver2_id", "captain_worker_id")
    }
    before = {trip.driver1_id, trip.driver2_id} - {None}
    try:
        scope.check_bus(g.api_user, trip)
        crew.assign_crew(trip, crew.Crew(**ids), g.api_user, expected_version=body.get("version"))
        # a driver newly on a published bus gets its link, one taken off loses it (as on the page)
        seat_actions.tell_drivers(trip, before, g.api_user, utcnow(), current_app.config)
    except scope.OutOfScope as refusal:
        return api_error(403, str(refusal))
    except crew.CrewClash as clash:
        db.session.rollback()
        return _clash_response(str(clash), clash.window)
    except SeatConflict:
        return api_error(
            409, _("Someone else changed this trip in the meantime; reload and try again.")
        )
    except SeatError as error:
        db.session.rollback()
        return api_error(422, str(error), {"crew": str(error)})
    return jsonify(trip_json(trip, g.api_user.county_ids()))


def _clash_response(message: str, window) -> Any:
    response = api_error(409, message, code="busy")
    body = response.get_json()
    body["trip"] = {
        "id": window.trip_id,
        "code": window.code,
        "date": window.date.isoformat(),
        "busy_from": window.start.isoformat(),
        "busy_until": window.end.isoformat(),
    }
    response.set_data(jsonify(body).get_data())
    return response
