"""The bus door and the factory gate on the driver's link: e-tickets scanned at boarding,
arrival at each drop-off stop, and the hand-over list (交接单) the employer's contact signs.

Like the check-in marks, the driver's endpoints are authorised by the signed token in the
path (no session, so no CSRF token: a forged request would need the token itself).
"""

from __future__ import annotations

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
from flask_login import login_required
from werkzeug.wrappers import Response

from dispatch.extensions import csrf, db, limiter
from dispatch.models import Trip, utcnow
from dispatch.models import selfservice as s
from dispatch.routes.api.errors import api_error
from dispatch.routes.driver_pages import driver_trip, pdf_response, print_css, private, whole_bus
from dispatch.routes.labels import mark_refusal
from dispatch.services import arrival, handover, scans
from dispatch.services import manifest as manifests
from dispatch.web import local_time, parse_id

bp = Blueprint("gate", __name__)


def _link_key() -> str:
    """Limits count per driver link (config DRIVER_SCAN_LIMIT, DRIVER_ARRIVAL_LIMIT)."""
    return "driver-link:" + str((request.view_args or {}).get("token", ""))


def scan_message(result: scans.ScanOutcome) -> str:
    """What the driver reads on the big banner after a scan."""
    name = result.worker.name if result.worker else ""
    if result.outcome == s.SCAN_BOARDED:
        return _("Boarded: %(name)s, seat %(n)d", name=name, n=result.seat_no or 0)
    if result.outcome == s.SCAN_DUPLICATE:
        return _("Already boarded: do not scan again (%(name)s)", name=name)
    if result.outcome == s.SCAN_WRONG_BUS:
        return _("Not a passenger of this bus: rides %(code)s", code=result.other_trip or "?")
    if result.outcome == s.SCAN_CANCELLED:
        return _("This seat has been cancelled")
    return _("Not a ticket of ours: check the passenger by name")


@bp.post("/m/<token>/scans")
@limiter.limit(lambda: current_app.config["DRIVER_SCAN_LIMIT"], key_func=_link_key)
@csrf.exempt  # the unguessable token in the path is what authorises, not a session
def scan(token: str) -> Response:
    trip = driver_trip(token)
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    now = utcnow()
    try:
        result = scans.record_scan(
            trip,
            body.get("scan_uid"),
            body.get("text"),
            scans.scan_time(body.get("scanned_at"), now),
            now,
            current_app.secret_key,
            current_app.config["TIMEZONE"],
        )
    except scans.ScanRefused:
        return private(api_error(400, _("A scan needs scan_uid and text.")), driver=True)
    except manifests.MarkError as error:
        db.session.rollback()
        return private(api_error(409, mark_refusal(error, trip)), driver=True)
    db.session.commit()
    return private(jsonify(_scan_answer(trip, body["scan_uid"], result)), driver=True)


def _scan_answer(trip: Trip, scan_uid: str, result: scans.ScanOutcome) -> dict:
    return {
        "scan_uid": scan_uid,
        "outcome": result.outcome,
        "counted": result.counted,
        "replay": result.replay,
        "message": scan_message(result),
        "worker_id": result.worker.id if result.worker else None,
        "seat_no": result.seat_no,
        "counts": manifests.counts(trip).as_dict(),
    }


@bp.post("/m/<token>/arrivals")
@limiter.limit(lambda: current_app.config["DRIVER_ARRIVAL_LIMIT"], key_func=_link_key)
@csrf.exempt  # the unguessable token in the path is what authorises, not a session
def arrive(token: str) -> Response:
    trip = driver_trip(token)
    stop_id = parse_id(request.form.get("stop_id")) or 0
    chosen = [n for n in (parse_id(v) for v in request.form.getlist("worker_id")) if n]
    try:
        line = arrival.record_arrival(trip, stop_id, chosen, utcnow(), current_app.config)
    except arrival.NotYetLeft:
        db.session.rollback()
        flash(_("The bus has not left yet: arrival is confirmed at the stop."), "error")
    except arrival.TooEarly as early:
        db.session.rollback()
        flash(
            _(
                "The bus is due at this stop at %(eta)s: confirm the arrival once it is there.",
                eta=local_time(early.eta, "%m-%d %H:%M"),
            ),
            "error",
        )
    except (arrival.ArrivalError, manifests.MarkError):
        db.session.rollback()
        flash(
            _("Not saved: the list changed meanwhile. Check the names and confirm again."), "error"
        )
    else:
        db.session.commit()
        flash(
            _(
                "Arrival at %(stop)s saved: %(n)d handed over.",
                stop=line.stop.site.name_zh,
                n=len(chosen),
            ),
            "success",
        )
    # back at the stop the driver tapped, which says what became of it (the page's own message
    # line is a screen above: "not yet left" went unseen on a phone)
    page = url_for("manifest.driver_view", token=token, stop=stop_id or None)
    anchor = f"#stop-{stop_id}" if stop_id else ""
    return private(redirect(page + anchor), driver=True)


def _sheet_page(trip: Trip, *, token: str | None, for_pdf: bool) -> str:
    stop_id = parse_id(request.args.get("stop"))
    found = handover.sheets(trip, stop_id)
    if not found:
        abort(404)
    return render_template(
        "manifest/handover.html",
        trip=trip,
        sheets=found,
        token=token,
        stop_id=stop_id,
        for_pdf=for_pdf,
        embedded_css=print_css("handover.css") if for_pdf else None,
        emergency_phone=current_app.config["EMERGENCY_PHONE"],
    )


def _filename(trip: Trip) -> str:
    return f"handover-{trip.date:%Y%m%d}-{trip.code}.pdf"


@bp.get("/m/<token>/handover")
def driver_sheet(token: str) -> Response:
    trip = driver_trip(token)
    html = _sheet_page(trip, token=token, for_pdf=False)
    return private(Response(html, mimetype="text/html"), driver=True)


@bp.get("/m/<token>/handover.pdf")
def driver_sheet_pdf(token: str) -> Response:
    trip = driver_trip(token)
    return pdf_response(_sheet_page(trip, token=token, for_pdf=True), _filename(trip), driver=True)


@bp.get("/trips/<int:trip_id>/handover")
@login_required
def sheet(trip_id: int) -> Response:
    html = _sheet_page(whole_bus(trip_id), token=None, for_pdf=False)
    return private(Response(html, mimetype="text/html"))


@bp.get("/trips/<int:trip_id>/handover.pdf")
@login_required
def sheet_pdf(trip_id: int) -> Response:
    trip = whole_bus(trip_id)
    html = _sheet_page(trip, token=None, for_pdf=True)
    return pdf_response(html, _filename(trip), driver=False)
