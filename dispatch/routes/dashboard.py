"""The dashboard: where every worker stands, by county and by destination."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from dispatch.services import choices
from dispatch.services.stats import STAGES, funnel_by

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index() -> str:
    scope = current_user.county_ids()
    by_county, total = funnel_by("county_id", scope)
    by_destination, _ = funnel_by("destination_site_id", scope)
    names = choices.places()
    return render_template(
        "dashboard/index.html",
        stages=list(STAGES),
        by_county=by_county,
        by_destination=by_destination,
        total=total,
        names=names,
    )
