"""A plan's state as a job under /api/v1/plans (CONTRACTS.md §5): queued, running, finished."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, jsonify
from flask_babel import gettext as _

from dispatch.extensions import db
from dispatch.models import Plan
from dispatch.routes.api.base import bp
from dispatch.services import plan_queue


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
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
