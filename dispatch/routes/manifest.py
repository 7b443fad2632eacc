"""Manifests (乘车名单): for coordinators under /trips/<id>/manifest, for drivers at /m/<token>.

The driver's address needs no account (driver_links.py says how it is checked); both
serve the same printable page, which is also the phone check-in: each mark is one small
JSON request that sets a state, so retrying it is always safe.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dispatch.extensions import csrf, db
from dispatch.models import Trip, utcnow
from dispatch.routes.access import editor_required
from dispatch.routes.api.errors import api_error
from dispatch.routes.driver_pages import (
    driver_trip,
    full_view,
    pdf_response,
    print_css,
    private,
    whole_bus,
)
from dispatch.routes.forms import CsrfForm
from dispatch.routes.labels import mark_refusal
from dispatch.services import arrival as arrivals
from dispatch.services import driver_links, manifest_export
from dispatch.services import manifest as manifests
from dispatch.services.notices.notices import schedule_driver_notices
from dispatch.services.worker_export import national

bp = Blueprint("manifest", __name__)


def _page(trip: Trip, *, token: str | None = None, for_pdf: bool = False) -> str:
    scope = None if token else current_user.county_ids()
    config = current_app.config
    if token:
        mark_url, phone_url = (
            url_for(".driver_mark", token=token),
            url_for(".driver_phone", token=token),
        )
    elif current_user.can_edit:
        mark_url, phone_url = (
            url_for(".coordinator_mark", trip_id=trip.id),
            url_for(".coordinator_phone", trip_id=trip.id),
        )
    else:
        mark_url = phone_url = None
    full = token is not None or full_view(trip)
    manifest = manifests.build(trip, utcnow(), config["TIMEZONE"])
    can_share = not token and full and current_user.can_edit  # may copy or rotate the driver's link
    return render_template(
        "manifest/manifest.html",
        trip=trip,
        manifest=manifest,
        scope=scope,
        token=token,
        mark_url=mark_url,
        phone_url=phone_url,
        undo_s=int(manifests.PACK_UNDO.total_seconds()),
        emergency_phone=config["EMERGENCY_PHONE"],
        for_pdf=for_pdf,
        embedded_css=print_css("manifest.css") if for_pdf else None,
        valid_until=driver_links.valid_until(trip.date, config["TIMEZONE"]),
        can_share=can_share,
        driver_link=(
            driver_links.link_for(trip, current_app.secret_key, config["PUBLIC_BASE_URL"])
            if can_share and trip.manifest_key
            else None
        ),
        full_view=full,
        form=None if token else CsrfForm(),
        scan_url=(
            url_for("gate.scan", token=token)
            if token and manifest.open_for_marks and not for_pdf
            else None
        ),
        arrival=arrivals.bus_arrival(trip) if token and manifest.open_for_marks else None,
        arrival_first=utcnow() >= trip.departure_at,  # on the road: the gate before the roster
    )


def _pdf(trip: Trip, html: str, driver: bool) -> Response:
    return pdf_response(html, f"manifest-{trip.date:%Y%m%d}-{trip.code}.pdf", driver=driver)


def _phone(trip: Trip, user, source: str) -> Response:
    """A passenger's number for a call, audited (the page shows it masked until then)."""
    body = request.get_json(silent=True)
    worker_id = body.get("worker_id") if isinstance(body, dict) else None
    if not isinstance(worker_id, int):
        return api_error(400, _("A call needs worker_id."))
    scope = None if user is None else user.county_ids()
    seat = next((s for s in trip.seats if s.worker_id == worker_id), None)
    if seat is None:
        return api_error(404, _("This passenger is no longer on this bus: reload the list."))
    if scope is not None and seat.worker.county_id not in scope:
        return api_error(403, _("This passenger is not in your counties."))
    phone = manifests.reveal_phone(trip, worker_id, user, source)
    db.session.commit()
    return jsonify(worker_id=worker_id, phone=phone, national=national(phone))


def _mark(trip: Trip, user, source: str) -> Response:
    body = request.get_json(silent=True)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("worker_id"), int)
        or not manifests.valid_mark(body.get("mark"), body.get("value"))
    ):
        return api_error(400, _("A mark needs worker_id, mark and value."))
    scope = None if user is None else user.county_ids()
    seat = next((s for s in trip.seats if s.worker_id == body["worker_id"]), None)
    if scope is not None and seat is not None and seat.worker.county_id not in scope:
        return api_error(403, _("This passenger is not in your counties."))
    try:
        seat = manifests.set_mark(
            trip,
            body["worker_id"],
            body["mark"],
            body["value"],
            utcnow(),
            user,
            source,
            current_app.config["TIMEZONE"],
        )
    except manifests.MarkError as error:
        db.session.rollback()
        return api_error(409, mark_refusal(error, trip))
    db.session.commit()
    return jsonify(
        worker_id=seat.worker_id,
        state=manifests.seat_state(seat),
        counts=manifests.counts(trip).as_dict(),
    )


@bp.get("/trips/<int:trip_id>/manifest")
@login_required
def show(trip_id: int) -> Response:
    trip = db.session.get(Trip, trip_id) or abort(404)
    return private(Response(_page(trip), mimetype="text/html"))


@bp.get("/trips/<int:trip_id>/manifest.pdf")
@login_required
def pdf(trip_id: int) -> Response:
    trip = whole_bus(trip_id)
    return _pdf(trip, _page(trip, for_pdf=True), driver=False)


@bp.get("/trips/<int:trip_id>/manifest.xlsx")
@login_required
def xlsx(trip_id: int) -> Response:
    trip = whole_bus(trip_id)
    data = manifest_export.to_xlsx(manifests.build(trip), _title(trip), _facts(trip))
    response = Response(
        data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="manifest-{trip.date:%Y%m%d}-{trip.code}.xlsx"'
    )
    return private(response)


@bp.post("/trips/<int:trip_id>/marks")
@editor_required
def coordinator_mark(trip_id: int):
    trip = db.session.get(Trip, trip_id) or abort(404)
    return private(_mark(trip, current_user, "coordinator"))


@bp.post("/trips/<int:trip_id>/phone")
@editor_required
def coordinator_phone(trip_id: int):
    trip = db.session.get(Trip, trip_id) or abort(404)
    return private(_phone(trip, current_user, "coordinator"))


@bp.post("/trips/<int:trip_id>/driver-link")
@editor_required
def rotate_link(trip_id: int) -> Response:
    """A new driver link: the old one stops working; the drivers are sent the new one."""
    trip = db.session.get(Trip, trip_id) or abort(404)
    if not CsrfForm().validate_on_submit() or not full_view(trip):
        abort(403)
    driver_links.rotate(trip, current_user)
    sent = schedule_driver_notices(trip, utcnow(), current_app.config, fresh=True)
    db.session.commit()
    flash(
        _("New driver link made; the old one no longer opens.")
        + (" " + _("The drivers will get it by SMS.") if sent else ""),
        "success",
    )  # noqa: E501
    return redirect(url_for(".show", trip_id=trip.id))


@bp.get("/m/<token>")
def driver_view(token: str) -> Response:
    trip = driver_trip(token)
    return private(Response(_page(trip, token=token), mimetype="text/html"), driver=True)


@bp.get("/m/<token>/manifest.pdf")
def driver_pdf(token: str) -> Response:
    trip = driver_trip(token)
    return _pdf(trip, _page(trip, token=token, for_pdf=True), driver=True)


@bp.post("/m/<token>/marks")
@csrf.exempt  # the unguessable token in the path is what authorises, not a session
def driver_mark(token: str):
    trip = driver_trip(token)
    return private(_mark(trip, None, "driver"), driver=True)


@bp.post("/m/<token>/phone")
@csrf.exempt  # the unguessable token in the path is what authorises, not a session
def driver_phone(token: str):
    trip = driver_trip(token)
    return private(_phone(trip, None, "driver"), driver=True)


def _title(trip: Trip) -> str:
    plate = trip.coach.plate if trip.coach else "车牌待定"
    return f"乘车名单 {trip.code} · {trip.date:%Y-%m-%d} · {plate}"


def _facts(trip: Trip) -> list[tuple[str, str]]:
    drivers = "、".join(f"{d.name} {national(d.phone)}" for d in (trip.driver1, trip.driver2) if d)
    captain = next(
        (
            f"{s.worker.name}（{s.seat_no}号座）"
            for s in trip.seats
            if s.worker_id == trip.captain_worker_id
        ),
        "",
    )
    return [
        ("车牌", trip.coach.plate if trip.coach else "待定"),
        ("车型", trip.coach_type.name),
        ("驾驶员", drivers or "待定"),
        ("车长", captain or "待定"),
        ("紧急联系电话", current_app.config["EMERGENCY_PHONE"]),
        ("发车", f"{trip.departure_at.astimezone(ZoneInfo(current_app.config['TIMEZONE'])):%H:%M}"),
    ]
