"""Planning from the web: run the planner, review a draft, publish it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import County, Plan, SeatAssignment, Site, Trip, TripStop, Worker, utcnow
from dispatch.notify.notices import estimate
from dispatch.routes.access import editor_required
from dispatch.routes.workers import CsrfForm
from dispatch.services import plan_runner, planning
from dispatch.services.worker_fields import parse_date

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.get("/")
@login_required
def index() -> str:
    plans = db.session.scalars(select(Plan).order_by(Plan.id.desc()).limit(100)).all()
    buses = dict(db.session.execute(  # one count query, not every plan's trips loaded
        select(Trip.plan_id, func.count()).where(Trip.plan_id.in_([p.id for p in plans])).group_by(Trip.plan_id)
    ).all())  # fmt: skip
    scope = current_user.county_ids()
    counties = [c for c in db.session.scalars(select(County).order_by(County.id)) if scope is None or c.id in scope]
    destinations = db.session.scalars(select(Site).filter_by(kind="dropoff").order_by(Site.id)).all()
    return render_template(
        "plans/index.html", plans=plans, buses=buses, form=CsrfForm(), counties=counties, destinations=destinations,
        time_limit=current_app.config["PLANNER_TIME_LIMIT_S"],
    )  # fmt: skip


def _scope_from_form() -> planning.Scope:
    try:
        date_from, date_to = parse_date(request.form.get("date_from")), parse_date(request.form.get("date_to"))
    except ValueError:
        date_from = date_to = None
    if date_from is None or date_to is None or date_to < date_from:
        raise planning.PlanningError(_("Choose a start date and an end date on or after it."))
    counties = tuple(request.form.getlist("county"))
    allowed = current_user.county_ids()
    if allowed is not None:
        counties = tuple(c for c in counties if c in allowed) or tuple(sorted(allowed))
    return planning.Scope(date_from, date_to, counties, tuple(request.form.getlist("destination")))


@bp.post("/")
@editor_required
def create() -> Response:
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        plan = planning.start_plan(_scope_from_form(), current_user)
    except planning.PlanningError as error:
        flash(str(error), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    limit = min(float(request.form.get("time_limit") or current_app.config["PLANNER_TIME_LIMIT_S"]), 600)
    plan_runner.launch(current_app._get_current_object(), plan.id, limit)
    return redirect(url_for(".show", plan_id=plan.id))


@bp.get("/<int:plan_id>")
@login_required
def show(plan_id: int) -> str:
    plan = db.session.get(Plan, plan_id) or abort(404)
    trips = db.session.scalars(
        select(Trip).where(Trip.plan_id == plan.id).order_by(Trip.date, Trip.id)
        .options(selectinload(Trip.stops).joinedload(TripStop.site), joinedload(Trip.coach_type), joinedload(Trip.coach))
    ).all()  # fmt: skip
    occupied = dict(db.session.execute(
        select(SeatAssignment.trip_id, func.count()).where(SeatAssignment.plan_id == plan.id).group_by(SeatAssignment.trip_id)
    ).all())  # fmt: skip
    by_day = defaultdict(list)
    for trip in trips:
        by_day[trip.date].append(trip)
    names = {w.id: w for w in _unassigned_workers(plan)}
    sms = estimate(plan) if plan.status == "draft" else None
    return render_template(
        "plans/show.html", plan=plan, by_day=sorted(by_day.items()), form=CsrfForm(), buses=len(trips), sms=sms,
        unassigned_workers=names, seated=sum(occupied.values()), occupied=occupied,
    )  # fmt: skip


def _unassigned_workers(plan: Plan) -> list[Worker]:
    ids = [int(m[1:]) for item in plan.unassigned or [] for m in item.get("workers", [])]
    return list(db.session.scalars(select(Worker).where(Worker.id.in_(ids)))) if ids else []


@bp.post("/<int:plan_id>/publish")
@editor_required
def publish(plan_id: int) -> Response:
    plan = db.session.get(Plan, plan_id) or abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        seated = planning.publish(plan, current_user, utcnow(), current_app.config)
    except planning.PlanningError:
        flash(_("Only a draft can be published."), "error")
        return redirect(url_for(".show", plan_id=plan.id))
    db.session.commit()
    flash(_("Published: %(n)d workers have their seats.", n=seated), "success")
    return redirect(url_for(".show", plan_id=plan.id))


@bp.post("/<int:plan_id>/replan")
@editor_required
def replan(plan_id: int) -> Response:
    """Plan again, keeping what the coordinator locked in this draft."""
    base = db.session.get(Plan, plan_id) or abort(404)
    if not CsrfForm().validate_on_submit() or base.status != "draft":
        abort(400)
    scope = planning.Scope(base.date_from, base.date_to, tuple(base.scope.get("counties", [])),
                           tuple(base.scope.get("destinations", [])))  # fmt: skip
    plan = planning.start_plan(scope, current_user, base)
    db.session.commit()
    plan_runner.launch(current_app._get_current_object(), plan.id, float(current_app.config["PLANNER_TIME_LIMIT_S"]))
    return redirect(url_for(".show", plan_id=plan.id))


@bp.app_template_filter("plan_status")
def plan_status(status: str) -> str:
    labels = {
        "running": _("planning…"), "failed": _("failed"), "draft": _("draft"),
        "published": _("published"), "superseded": _("superseded"), "discarded": _("discarded"),
    }  # fmt: skip
    return labels.get(status, status)


@bp.app_template_global()
def today() -> date:
    return date.today()
