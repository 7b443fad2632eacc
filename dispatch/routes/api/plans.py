"""A plan's state as a job under /api/v1/plans (CONTRACTS.md §5): queued, running, finished."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort, current_app, g, jsonify
from flask_babel import gettext as _

from dispatch.extensions import db
from dispatch.models import Plan
from dispatch.routes.api import schemas
from dispatch.routes.api.base import bp, json_body
from dispatch.routes.api.errors import api_error
from dispatch.services import plan_queue, planning


@bp.post("/plans")
def post_plan():
    """Queue a plan (a top-up where the days have published buses); 202 with its state."""
    body = json_body(schemas.PLAN_INPUT)
    scope, limit, errors = _plan_request(body, g.api_user)
    if errors:
        return api_error(422, _("Some fields are not valid."), errors)
    try:
        plan = plan_queue.queue_plan(scope, g.api_user, limit)
    except plan_queue.QueueRefusal as refusal:
        return api_error(422, str(refusal), {refusal.field: str(refusal)})
    return jsonify(plan_json(plan, plan_queue.queue_positions().get(plan.id))), 202


def _plan_request(body: dict, user) -> tuple[planning.Scope | None, float, dict[str, str]]:
    """The plan request's scope and time limit, or the fields at fault."""
    errors: dict[str, str] = {}
    days = {}
    for key in ("date_from", "date_to"):
        try:
            days[key] = date.fromisoformat(body.get(key) or "")
        except (TypeError, ValueError):
            errors[key] = _("Enter a date like 2026-03-01.")
    if len(days) == 2 and (refusal := planning.period_error(days["date_from"], days["date_to"])):
        errors["date_to"] = refusal
    for key in ("counties", "destinations"):
        if not all(isinstance(v, str) for v in body.get(key) or ()):
            errors[key] = _("Some fields are not valid.")
    raw = body.get("time_limit_s")  # 0 is out of range, not "the default"
    limit = float(current_app.config["PLANNER_TIME_LIMIT_S"] if raw is None else raw)
    if not 1 <= limit <= planning.MAX_TIME_LIMIT_S:
        errors["time_limit_s"] = _(
            "Enter a number of seconds from 1 to %(max)d.", max=planning.MAX_TIME_LIMIT_S
        )
    foreign = planning.foreign_counties(user, tuple(body.get("counties") or ()))
    if "counties" not in errors and foreign:
        errors["counties"] = foreign
    if errors:
        return None, limit, errors
    counties = planning.chosen_counties(user, tuple(body.get("counties") or ()))
    destinations = tuple(body.get("destinations") or ())
    moves = bool(body.get("allow_moves"))
    scope = planning.Scope(days["date_from"], days["date_to"], counties, destinations, moves)
    return scope, limit, {}


@bp.get("/plans/<int:plan_id>")
def get_plan(plan_id: int):
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404, _("No such plan."))
    return jsonify(plan_json(plan, plan_queue.queue_positions().get(plan.id)))


def plan_json(plan: Plan, position: int | None) -> dict[str, Any]:
    """The plan as the API shows it: its state as a job, its scope and, once solved, its figures."""
    return {
        "id": plan.id,
        "status": plan.status,
        "progress": plan.progress,
        "stage": plan.progress_message or None,
        "error": plan.error,
        "queue_position": position,
        "attempts": plan.attempts,
        "restarts": plan.restarts,
        "claimed_by": plan.claimed_by,
        "heartbeat_at": _iso(plan.heartbeat_at),
        "created_at": _iso(plan.created_at),
        "started_at": _iso(plan.started_at),
        "finished_at": _iso(plan.finished_at),
        "date_from": plan.date_from.isoformat(),
        "date_to": plan.date_to.isoformat(),
        "counties": list((plan.scope or {}).get("counties") or []),
        "destinations": list((plan.scope or {}).get("destinations") or []),
        "time_limit_s": plan.time_limit_s,
        "cost": plan.cost,
        "lower_bound_cost": plan.lower_bound_cost,
        **_topup_json(plan),
    }


def _topup_json(plan: Plan) -> dict[str, Any]:
    """A top-up's figures: the published plans it fills, who it seats there, the new buses."""
    stored = plan.scope or {}
    topup = stored.get("topup") or {}
    return {
        "allow_moves": bool(stored.get("allow_moves")),
        "topup_of": list(topup.get("plans") or []),
        "topped_up": topup.get("topped_up"),
        "new_buses": topup.get("new_buses"),
        "moved": topup.get("moved"),
        "merged_into": stored.get("merged_into"),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
