"""A draft compared with what is published, and suggestions for its near-empty buses."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.ids import parse_id
from dispatch.models import Plan, Worker
from dispatch.models import trips as t
from dispatch.routes import plan_display
from dispatch.routes.access import editor_required
from dispatch.routes.forms import CsrfForm
from dispatch.services import plan_advice, plan_compare, scope, seats
from dispatch.services.dates import parse_date

bp = Blueprint("plan_advice", __name__, url_prefix="/plans")


@bp.get("/<int:plan_id>/compare")
@login_required
def compare(plan_id: int) -> str:
    """The draft beside the published plans over its days: buses, cost, who would change."""
    plan = db.session.get(Plan, plan_id) or abort(404)
    return render_template(
        "plans/compare.html",
        plan=plan,
        # Only a draft is compared (the page says so of any other plan): nothing to work out.
        cmp=plan_compare.compare(plan, current_user) if plan.status == t.PLAN_DRAFT else None,
        drop_reason=plan_display.drop_reason,
        # a season's draft seats 99,344 workers anew: 13.6 MB and 27 s of rows on one page
        most=int(current_app.config["COMPARE_ROWS"]),
    )


@bp.get("/<int:plan_id>/advice")
@login_required
def advice(plan_id: int) -> str:
    """Each near-empty bus and the cheapest changes that would remove it, proven and priced."""
    plan = db.session.get(Plan, plan_id) or abort(404)
    return render_template(
        "plans/advice.html",
        plan=plan,
        buses=plan_advice.advice(plan, current_user),
        offered=plan_advice.offered(plan),
        form=CsrfForm(),
    )


@bp.post("/<int:plan_id>/advice/apply")
@editor_required
def apply(plan_id: int) -> Response:
    plan = _posted_plan(plan_id)
    try:
        saved = plan_advice.apply(
            plan,
            request.form.get("bus", ""),
            request.form.get("key", ""),
            current_user,
            current_app.config["TIMEZONE"],
        )
    except (plan_advice.AdviceError, scope.OutOfScope, seats.SeatError) as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return redirect(url_for(".advice", plan_id=plan_id))
    except seats.SeatConflict:
        flash(_("Someone changed these buses at the same time: look again."), "error")
        return redirect(url_for(".advice", plan_id=plan_id))
    db.session.commit()
    flash(
        _(
            "Applied: the plan now costs %(cost)s CNY, %(saved)s CNY less.",
            cost=f"{plan.cost:,.0f}",
            saved=f"{saved:,.0f}",
        ),
        "success",
    )
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.post("/<int:plan_id>/advice/agree")
@editor_required
def agree(plan_id: int) -> Response:
    """The coordinator called the worker, who agreed to travel on the day suggested."""
    _posted_plan(plan_id)
    worker = db.session.get(Worker, parse_id(request.form.get("worker", "")) or 0) or abort(404)
    try:
        day = parse_date(request.form.get("day", ""))
        message = plan_advice.agree(worker, day, current_user) if day else abort(400)
    except (plan_advice.AdviceError, scope.OutOfScope) as refusal:
        flash(str(refusal), "error")
        return redirect(url_for(".advice", plan_id=plan_id))
    except (ValueError, OverflowError):
        abort(400)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".advice", plan_id=plan_id))


def _posted_plan(plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id) or abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    return plan
