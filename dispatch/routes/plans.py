"""Planning from the web: run the planner, review a draft, confirm and publish it."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import County, Plan, SeatAssignment, Site, Trip, TripStop, utcnow
from dispatch.models import trips as t
from dispatch.routes import plan_display
from dispatch.routes.access import editor_required
from dispatch.routes.messages import KIND_LABELS
from dispatch.routes.workers import CsrfForm
from dispatch.services import audit, plan_runner, planning, publishing
from dispatch.services.worker_fields import parse_date
from dispatch.web import select_locale

bp = Blueprint("plans", __name__, url_prefix="/plans")
MAX_TIME_LIMIT_S = 600


@bp.get("/")
@login_required
def index() -> str:
    return _render_index({}, {})


def _render_index(raw: Mapping[str, object], errors: dict[str, str], status: int = 200):
    plans = db.session.scalars(select(Plan).order_by(Plan.id.desc()).limit(100)).all()
    buses = dict(
        db.session.execute(  # one count query, not every plan's trips loaded
            select(Trip.plan_id, func.count())
            .where(Trip.plan_id.in_([p.id for p in plans]))
            .group_by(Trip.plan_id)
        ).all()
    )
    scope = current_user.county_ids()
    all_counties = db.session.scalars(select(County).order_by(County.id)).all()
    counties = [c for c in all_counties if scope is None or c.id in scope]
    destinations = db.session.scalars(
        select(Site).filter_by(kind="dropoff").order_by(Site.id)
    ).all()
    return render_template(
        "plans/index.html",
        plans=plans,
        buses=buses,
        form=CsrfForm(),
        counties=counties,
        destinations=destinations,
        time_limit=current_app.config["PLANNER_TIME_LIMIT_S"],
        raw=raw,
        errors=errors,
        county_names={c.id: c.display_name(select_locale()) for c in all_counties},
        stalled=_stalled(plans),
    ), status


def _stalled(plans: list[Plan]) -> set[int]:
    now, limit = utcnow(), current_app.config["PLANNER_TIME_LIMIT_S"]
    return {p.id for p in plans if plan_runner.is_stalled(p, now, limit)}


def _parse_plan_form(form) -> tuple[planning.Scope | None, float, dict[str, str]]:
    """The plan form's scope and time limit, or the errors to show on its fields (nothing stored)."""
    errors: dict[str, str] = {}
    date_from = _date_field(form, "date_from", errors)
    date_to = _date_field(form, "date_to", errors)
    if date_from and date_to and date_to < date_from:
        errors["date_to"] = _("The last day must be on or after the first day.")
    limit = _time_limit(form.get("time_limit", ""), errors)
    if errors:
        return None, limit, errors
    counties = tuple(form.getlist("county"))
    allowed = current_user.county_ids()
    if allowed is not None:  # a county coordinator plans their own counties only
        counties = tuple(c for c in counties if c in allowed) or tuple(sorted(allowed))
    return (
        planning.Scope(date_from, date_to, counties, tuple(form.getlist("destination"))),
        limit,
        {},
    )


def _date_field(form, name: str, errors: dict[str, str]) -> date | None:
    try:
        value = parse_date(form.get(name, ""))
    except (ValueError, OverflowError):
        errors[name] = _("Enter a date like 2026-03-01.")
        return None
    if value is None:
        errors[name] = _("Choose a day.")
    return value


def _time_limit(raw: str, errors: dict[str, str]) -> float:
    default = float(current_app.config["PLANNER_TIME_LIMIT_S"])
    if not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not 1 <= value <= MAX_TIME_LIMIT_S:  # NaN fails too
        errors["time_limit"] = _(
            "Enter a number of seconds from 1 to %(max)d.", max=MAX_TIME_LIMIT_S
        )
        return default
    return value


@bp.post("/")
@editor_required
def create():
    if not CsrfForm().validate_on_submit():
        abort(400)
    scope, limit, errors = _parse_plan_form(request.form)
    if scope is None:
        return _render_index(request.form, errors, 400)
    try:
        plan = planning.start_plan(scope, current_user, time_limit_s=limit)
    except planning.PlanningError as error:
        flash(str(error), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    plan_runner.launch(current_app._get_current_object(), plan.id, limit)
    return redirect(url_for(".show", plan_id=plan.id))


@bp.get("/<int:plan_id>")
@login_required
def show(plan_id: int) -> str:
    plan = db.session.get(Plan, plan_id) or abort(404)
    trips = db.session.scalars(
        select(Trip)
        .where(Trip.plan_id == plan.id)
        .order_by(Trip.date, Trip.number, Trip.id)
        .options(
            selectinload(Trip.stops).joinedload(TripStop.site),
            joinedload(Trip.coach_type),
            joinedload(Trip.coach),
        )
    ).all()
    occupied = dict(
        db.session.execute(
            select(SeatAssignment.trip_id, func.count())
            .where(SeatAssignment.plan_id == plan.id)
            .group_by(SeatAssignment.trip_id)
        ).all()
    )
    by_day = defaultdict(list)
    for trip in trips:
        by_day[trip.date].append(trip)
    may_manage = planning.may_manage(current_user, plan)
    ready = plan.status == t.PLAN_DRAFT and trips and may_manage
    sms = publishing.publish_preview(plan, current_app.config) if ready else None
    return render_template(
        "plans/show.html",
        plan=plan,
        by_day=sorted(by_day.items()),
        form=CsrfForm(),
        buses=len(trips),
        unserved=plan_display.unserved_rows(plan, current_user.county_ids()),
        seated=sum(occupied.values()),
        occupied=occupied,
        may_manage=may_manage,
        coverage=_coverage(plan),
        sms=sms,
        stalled=plan_runner.is_stalled(plan, utcnow(), current_app.config["PLANNER_TIME_LIMIT_S"]),
        stage=plan_display.stage(plan.progress_message or ""),
        shortages=plan_display.shortages(plan),
        no_fleet=(plan.problem or {}).get("fleet_entered") is False,
    )


def _coverage(plan: Plan) -> str:
    """The counties a plan covers, by name ("" for the whole city)."""
    ids = planning.covered_counties(plan)
    if ids is None:
        return ""
    counties = db.session.scalars(select(County).where(County.id.in_(ids)).order_by(County.id))
    return "、".join(c.display_name(select_locale()) for c in counties)


def _managed_plan(plan_id: int) -> Plan:
    """The plan, if the user may change it (every county it covers is theirs); else 403."""
    plan = db.session.get(Plan, plan_id) or abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    if not planning.may_manage(current_user, plan):
        abort(
            403,
            _("This plan covers counties outside yours: only their coordinators can change it."),
        )
    return plan


@bp.get("/<int:plan_id>/publish")
@editor_required
def confirm_publish(plan_id: int):
    """The confirmation page: what publishing will do and send, before anything is sent."""
    plan = db.session.get(Plan, plan_id) or abort(404)
    if not planning.may_manage(current_user, plan):
        abort(
            403,
            _("This plan covers counties outside yours: only their coordinators can change it."),
        )
    if plan.status != t.PLAN_DRAFT or not plan.trips:
        return redirect(url_for(".show", plan_id=plan.id))
    preview = publishing.publish_preview(plan, current_app.config)
    return render_template(
        "plans/publish.html",
        plan=plan,
        preview=preview,
        form=CsrfForm(),
        drop_reason=plan_display.drop_reason,
        scope=current_user.county_ids(),
        kind_labels=KIND_LABELS,
    )


@bp.post("/<int:plan_id>/publish")
@editor_required
def publish(plan_id: int) -> Response:
    plan = _managed_plan(plan_id)
    try:
        result = publishing.publish(plan, current_user, utcnow(), current_app.config)
    except planning.PlanningError:  # not a draft (any more), or no bus left to publish
        flash(_("Only a draft with at least one bus can be published."), "error")
        return redirect(url_for(".show", plan_id=plan.id))
    db.session.commit()
    flash(_("Published: %(n)d workers have their seats.", n=result.seated), "success")
    if result.drops:
        flash(plan_display.drops_message(result.drops), "warning")
    if result.emptied:
        flash(
            _("Buses left empty were not published: %(codes)s.", codes="、".join(result.emptied)),
            "warning",
        )
    return redirect(url_for(".show", plan_id=plan.id))


@bp.post("/<int:plan_id>/replan")
@editor_required
def replan(plan_id: int) -> Response:
    """Plan again, keeping what the coordinator locked in this draft."""
    base = _managed_plan(plan_id)
    if base.status != t.PLAN_DRAFT:
        abort(400)
    scope = planning.Scope(
        base.date_from,
        base.date_to,
        tuple(base.scope.get("counties", [])),
        tuple(base.scope.get("destinations", [])),
    )
    limit = base.time_limit_s or float(current_app.config["PLANNER_TIME_LIMIT_S"])
    plan = planning.start_plan(scope, current_user, base, time_limit_s=limit)
    db.session.commit()
    plan_runner.launch(current_app._get_current_object(), plan.id, limit)
    return redirect(url_for(".show", plan_id=plan.id))


@bp.post("/<int:plan_id>/discard")
@editor_required
def discard(plan_id: int) -> Response:
    """Set aside a draft, a failed run or a stalled one; a published plan stays."""
    plan = _managed_plan(plan_id)
    if plan.status not in (t.PLAN_DRAFT, t.PLAN_FAILED, t.PLAN_RUNNING):
        abort(400)
    plan.status = t.PLAN_DISCARDED
    audit.record(current_user, "plan.discard", "plan", plan.id, {})
    db.session.commit()
    flash(_("Plan %(id)d was discarded.", id=plan.id), "success")
    return redirect(url_for(".index"))


@bp.app_template_filter("plan_status")
def plan_status(status: str) -> str:
    labels = {
        "running": _("planning…"),
        "failed": _("failed"),
        "draft": _("draft"),
        "published": _("published"),
        "superseded": _("superseded"),
        "discarded": _("discarded"),
    }
    return labels.get(status, status)


@bp.app_template_global()
def today() -> date:
    return date.today()
