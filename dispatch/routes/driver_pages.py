"""What the driver's pages (/m/<token>…) and the printed lists share: the signed link, private
answers, the coordinator's right to a whole bus, and PDF printing.

Not a blueprint: the manifest, gate and trips blueprints import it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import abort, current_app
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import Trip, utcnow
from dispatch.services import driver_links, manifest_export

STATIC = Path(__file__).resolve().parent.parent / "static"


def private(response: Response, *, driver: bool = False) -> Response:
    """Personal data: never cached; on a driver's page the token never leaves in a Referer."""
    response.headers["Cache-Control"] = "no-store"
    if driver:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def driver_trip(token: str) -> Trip:
    """The trip of a valid driver link; 404 for an unknown or revoked one, 410 once expired."""
    config = current_app.config
    try:
        return driver_links.trip_for_token(
            token, current_app.secret_key, utcnow(), config["TIMEZONE"]
        )
    except driver_links.LinkNotFound:
        abort(404)
    except driver_links.LinkExpired:
        abort(410)


def full_view(trip: Trip) -> bool:
    """Whether the signed-in user may see every passenger of this bus (and so hand the list on)."""
    scope = current_user.county_ids()
    return scope is None or all(s.worker.county_id in scope for s in trip.seats)


def whole_bus(trip_id: int) -> Trip:
    """The trip, for a list of all its passengers: 404 if unknown, 403 unless ``full_view``."""
    trip = db.session.get(Trip, trip_id) or abort(404)
    if not full_view(trip):  # names of other counties' workers: theirs to hand on
        abort(403)
    return trip


@cache
def print_css(name: str) -> str:
    """A stylesheet of static/, read once: the page printed to PDF carries it inline."""
    return (STATIC / name).read_text(encoding="utf-8")


def pdf_response(html: str, filename: str, *, driver: bool) -> Response:
    """``html`` printed to A4 by the server's Chromium; 503 with advice when it cannot be."""
    try:
        data = manifest_export.to_pdf(html, current_app.config["CHROMIUM_PATH"])
    except manifest_export.PdfUnavailable as error:
        current_app.logger.warning("PDF unavailable: %s", error)
        abort(
            503,
            _(
                "The PDF cannot be made on this server; open the manifest and print it from the browser."
            ),
        )
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return private(response, driver=driver)
