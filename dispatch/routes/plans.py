"""Planning from the web: queue a plan, watch or cancel it, review a draft, confirm and publish."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import DROPOFF, Plan, utcnow
from dispatch.models import trips as t
from dispatch.routes import plan_display
from dispatch.routes.access import editor_required
from dispatch.routes.forms import CsrfForm
from dispatch.routes.labels import KIND_LABELS
from dispatch.services import (
    choices,
    plan_advice,
    plan_compare,
    plan_problem,
    plan_queries,
    plan_queue,
    planning,
    publishing,
    route_map,
)
from dispatch.services.dates import parse_date
from dispatch.web import list_sep, select_locale

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.get("/")
@login_required
def index() -> str:
    return _render_index({}, {})


def _render_index(
    raw: Mapping[str, object],
    errors: dict[str, str],
    status: int = 200,
    overlaps: list[Plan] | None = None,
):
    plans = plan_queries.recent_plans()
    scope = current_user.county_ids()
    all_counties = choices.counties()
    counties = [c for c in all_counties if scope is None or c.id in scope]
    return render_template(
        "plans/index.html",
        plans=plans,
        buses=plan_queries.bus_counts(plans),
        form=CsrfForm(),
        counties=counties,
        destinations=choices.sites(DROPOFF),
        time_limit=current_app.config["PLANNER_TIME_LIMIT_S"],
        raw=raw,
        errors=errors,
        county_names={c.id: c.display_name(select_locale()) for c in all_counties},
        stalled={p.id for p in plans if _interrupted(p)},
        positions=plan_queue.queue_positions(),
        overlaps=overlaps or [],
    ), status


def _interrupted(plan: Plan) -> bool:
    return plan_queue.is_interrupted(plan, utcnow(), float(current_app.config["PLANNER_STALE_S"]))


def _parse_plan_form(form) -> tuple[planning.Scope | None, float, dict[str, str]]:
    """The plan form's scope and time limit, or the errors to show on its fields (nothing stored)."""
    errors: dict[str, str] = {}
    date_from = _date_field(form, "date_from", errors)
    date_to = _date_field(form, "date_to", errors)
    refusal = planning.period_error(date_from, date_to) if date_from and date_to else None
    if refusal:
        errors["date_to"] = refusal
    limit = _time_limit(form.get("time_limit", ""), errors)
    if errors:
        return None, limit, errors
    counties = planning.chosen_counties(current_user, tuple(form.getlist("county")))
    destinations = tuple(form.getlist("destination"))
    moves = bool(form.get("allow_moves"))  # seated workers who have not boarded may move
    return planning.Scope(date_from, date_to, counties, destinations, moves), limit, {}


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
    if not 1 <= value <= planning.MAX_TIME_LIMIT_S:  # NaN fails too
        errors["time_limit"] = _(
            "Enter a number of seconds from 1 to %(max)d.", max=planning.MAX_TIME_LIMIT_S
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
    overlaps = plan_queue.overlapping(scope)
    if overlaps and not request.form.get("overlap_ok"):  # told before the second one starts
        return _render_index(request.form, {}, 200, overlaps)  # a question, not an error
    try:
        plan = plan_queue.queue_plan(scope, current_user, limit)
    except plan_queue.QueueRefusal as refusal:
        return _render_index(request.form, _refusal_errors(refusal), 400)
    db.session.commit()
    return redirect(url_for(".show", plan_id=plan.id))


def _refusal_errors(refusal: plan_queue.QueueRefusal) -> dict[str, str]:
    """The refusal as a message on the form field it concerns."""
    return {"date_to" if refusal.field == "date_to" else "county": str(refusal)}


@bp.get("/<int:plan_id>")
@login_required
def show(plan_id: int) -> str:
    plan = db.session.get(Plan, plan_id) or abort(404)
    solving = plan.status in plan_queue.ACTIVE
    per_day = plan_queries.buses_per_day(plan)
    most = int(current_app.config["PLAN_PAGE_BUSES"])
    day = plan_display.shown_day(per_day, request.args.get("day"), most)  # None: every day
    trips = plan_queries.plan_trips(plan, None if day is None else [day])
    everyone = trips if day is None else plan_queries.plan_trips(plan, stops=False)
    occupied = plan_queries.seats_taken(plan)
    by_day = defaultdict(list)
    for trip in trips:
        by_day[trip.date].append(trip)
    may_manage = planning.may_manage(current_user, plan)
    ready = plan.status == t.PLAN_DRAFT and everyone and may_manage
    # the SMS estimate writes out every notice: for a season's 99,344 seats that is seconds, left
    # to the confirmation page (which says it) past one day at a time
    sms = publishing.publish_preview(plan, current_app.config) if ready and day is None else None
    unserved, unserved_more = plan_display.unserved_rows(
        plan, current_user.county_ids(), int(current_app.config["UNSERVED_ROWS"])
    )
    return render_template(
        "plans/show.html",
        plan=plan,
        by_day=sorted(by_day.items()),
        # one day at a time past PLAN_PAGE_BUSES: that day, and every day to pick from
        shown_day=day,
        day_pages=[] if day is None else sorted(per_day.items()),
        day_maps=route_map.day_maps(trips, select_locale(), current_app.config["TIMEZONE"]),
        form=CsrfForm(),
        buses=len(everyone),
        rules=plan_problem.RULES,  # every plan is made under them (its stored problem says so)
        unserved=unserved,
        unserved_more=unserved_more,
        seated=sum(occupied.values()),
        occupied=occupied,
        may_manage=may_manage,
        coverage=_coverage(plan),
        sms=sms,
        stalled=_interrupted(plan),
        position=plan_queue.queue_positions().get(plan.id),
        failure=plan_display.failure(plan),
        stage=plan_display.stage(plan.progress_message or ""),
        # A season's stored problem is megabytes of JSON: not read while the plan is in the works.
        shortages=[] if solving else plan_display.shortages(plan),
        no_fleet=not solving and plan_queries.planned_without_fleet(plan),
        near_empty=plan_advice.near_empty(everyone, occupied),
        compare_with=plan_compare.counterparts(plan),
        tick_s=current_app.config["SCHEDULER_TICK_S"],
    )


def _coverage(plan: Plan) -> str:
    """The counties a plan covers, by name ("" for the whole city)."""
    ids = planning.covered_counties(plan)
    if ids is None:
        return ""
    return list_sep().join(c.display_name(select_locale()) for c in choices.counties(ids))


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
    if result.merged is not None:  # a top-up: merged into the live plan, shown there
        flash(plan_display.merged_message(plan, result.merged), "success")
        return redirect(url_for(".show", plan_id=result.merged.target.id))
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
    limit = base.time_limit_s or float(current_app.config["PLANNER_TIME_LIMIT_S"])
    plan = plan_queue.queue_plan(plan_queue.scope_of(base), current_user, limit, base=base)
    db.session.commit()
    return redirect(url_for(".show", plan_id=plan.id))


@bp.post("/<int:plan_id>/restore")
@editor_required
def restore(plan_id: int) -> Response:
    """Make a superseded draft current again (the re-plan that replaced it steps aside)."""
    plan = _managed_plan(plan_id)
    try:
        aside = plan_queue.restore(plan, current_user)
    except planning.PlanningError:
        abort(400)
    db.session.commit()
    flash(_("Plan %(id)d is the current draft again.", id=plan.id), "success")
    if aside:
        flash(_("Set aside: %(plans)s.", plans="、".join(_("Plan %(id)d", id=i) for i in aside)))
    return redirect(url_for(".show", plan_id=plan.id))


@bp.post("/<int:plan_id>/cancel")
@editor_required
def cancel(plan_id: int) -> Response:
    """Cancel a queued or running plan: its worker stops within a heartbeat, keeping nothing."""
    plan = _managed_plan(plan_id)
    if plan_queue.cancel(plan, current_user):
        flash(_("Plan %(id)d was cancelled.", id=plan.id), "success")
    else:
        flash(_("Plan %(id)d had already finished: there was nothing to cancel.", id=plan.id))
    return redirect(url_for(".show", plan_id=plan.id))


@bp.post("/<int:plan_id>/discard")
@editor_required
def discard(plan_id: int) -> Response:
    """Set aside a draft or a failed run; a published plan stays."""
    plan = _managed_plan(plan_id)
    if not plan_queue.discard(plan, current_user):
        abort(400)
    db.session.commit()
    flash(_("Plan %(id)d was discarded.", id=plan.id), "success")
    return redirect(url_for(".index"))


@bp.app_template_filter("plan_status")
def plan_status(status: str) -> str:
    labels = {
        "queued": _("queued"),
        "running": _("planning…"),
        "cancelled": _("cancelled"),
        "failed": _("failed"),
        "draft": _("draft"),
        "published": _("published"),
        "superseded": _("superseded"),
        "discarded": _("discarded"),
        "merged": _("merged into the live plan"),
    }
    return labels.get(status, status)


@bp.app_template_global()
def today() -> date:
    return date.today()
