"""The departure day for coordinators: boarding per bus as it happens, no-shows, welfare packs."""

from __future__ import annotations

import re
from datetime import date
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

from dispatch.extensions import db
from dispatch.identity import mask_phone
from dispatch.models import Trip, utcnow
from dispatch.routes.access import editor_required
from dispatch.routes.forms import CsrfForm
from dispatch.routes.labels import mark_refusal
from dispatch.services import boarding
from dispatch.services import manifest as manifests
from dispatch.web import parse_id

bp = Blueprint("boarding", __name__)


def _day(*, page: bool = True) -> date:
    """The day asked for, else the nearest day with published buses, else today (local)."""
    asked = request.args.get("date", "")
    try:
        return date.fromisoformat(asked)
    except ValueError:
        if asked and page:
            flash(_("Write the date as 2026-03-01."), "error")
    today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    days = boarding.departure_days(today)
    return days[0] if days else today


@bp.get("/boarding")
@login_required
def index() -> str:
    day = _day()
    trips = boarding.live_trips(day)
    return render_template(
        "boarding/index.html",
        day=day,
        buses=boarding.progress(trips),
        no_shows=boarding.no_shows(trips, current_user.county_ids()),
        declines=boarding.declines(trips, current_user.county_ids()),
        days=boarding.departure_days(day)[:10],
    )


@bp.get("/boarding/data")
@login_required
def data() -> Response:
    """What the boarding page refreshes itself with (no names but those in the user's scope)."""
    day = _day(page=False)
    trips = boarding.live_trips(day)
    buses = [
        {
            "trip_id": b.trip.id,
            **b.counts.as_dict(),
            "waiting": b.waiting,
            **b.replies.as_dict(),
            "arrived": b.counts.arrived,
        }
        for b in boarding.progress(trips)
    ]
    shows = [
        {
            "worker_id": s.worker_id,
            "name": s.worker.name,
            "trip": s.trip.code,
            "seat": s.seat_no,
            "seat_label": _("seat %(n)d", n=s.seat_no),
            "county": s.worker.county.name_zh,
            "url": url_for("workers.edit", worker_id=s.worker_id),
            "phone": mask_phone(s.worker.phone),
            "phone_url": url_for("manifest.coordinator_phone", trip_id=s.trip_id)
            if current_user.can_edit
            else None,
        }
        for s in boarding.no_shows(trips, current_user.county_ids())
    ]
    response = jsonify(date=day.isoformat(), buses=buses, no_shows=shows)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/welfare")
@login_required
def welfare() -> str:
    day = _day()
    points = boarding.handout_points(day, boarding.live_trips(day), current_user.county_ids())
    return render_template(
        "boarding/welfare.html",
        day=day,
        points=points,
        form=CsrfForm(),
        now=utcnow(),
        undo_minutes=manifests.PACK_UNDO.seconds // 60,
        days=boarding.departure_days(day)[:10],
    )


@bp.post("/welfare/handed-out")
@editor_required
def hand_out() -> Response:
    """A pack handed out at the handout point (recorded as on the driver's list)."""
    if not CsrfForm().validate_on_submit():
        abort(400)
    trip = db.session.get(Trip, parse_id(request.form.get("trip_id")) or 0) or abort(404)
    worker_id = parse_id(request.form.get("worker_id")) or 0
    seat = next((s for s in trip.seats if s.worker_id == worker_id), None) or abort(404)
    scope = current_user.county_ids()
    if scope is not None and seat.worker.county_id not in scope:
        abort(403)
    handed = request.form.get("value") != "0"
    try:
        manifests.set_mark(
            trip,
            worker_id,
            "pack",
            handed,
            utcnow(),
            current_user,
            "coordinator",
            current_app.config["TIMEZONE"],
        )
    except manifests.MarkError as error:
        db.session.rollback()
        flash(mark_refusal(error, trip), "error")
    else:
        db.session.commit()
        name = seat.worker.name
        flash(
            _("Pack handed out to %(name)s.", name=name)
            if handed
            else _("Hand-out to %(name)s undone.", name=name),
            "success",
        )
    site = request.form.get("site", "")
    anchor = (
        f"#site-{site}" if re.fullmatch(r"[\w-]{1,40}", site) else ""
    )  # a site id, else no anchor
    return redirect(url_for(".welfare", date=trip.date.isoformat()) + anchor)
