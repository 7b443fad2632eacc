"""The dashboard: where every worker stands, by county and by destination."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from dispatch.services import choices
from dispatch.services.stats import STAGES, funnels

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index() -> str:
    scope = current_user.county_ids()
    found = funnels(scope)
    names = choices.places()
    return render_template(
        "dashboard/index.html",
        stages=list(STAGES),
        by_county=found.by_county,
        by_destination=found.by_destination,
        total=found.total,
        names=names,
    )
