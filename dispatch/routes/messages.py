"""The messages page: every SMS, its fate, delivery rates, and who must be phoned."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import County
from dispatch.notify import notices, reports
from dispatch.web import select_locale

bp = Blueprint("messages", __name__, url_prefix="/messages")

KIND_LABELS = {
    notices.DEPARTURE: _l("Departure notice"),
    notices.REMINDER: _l("Day-before reminder"),
    notices.WELFARE: _l("Welfare pack reminder"),
    notices.CHANGE: _l("Change notice"),
    notices.CANCELLATION: _l("Cancellation notice"),
    notices.DRIVER: _l("Driver notice"),
}
STATUS_LABELS = {
    "pending": _l("Pending"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
    "unknown": _l("Unknown: check"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
    "suppressed": _l("Not sent: phone them"),
}
STATUS_BADGES = {
    "delivered": "badge-ok", "sent": "badge-ok", "pending": "", "sending": "badge-warn",
    "unknown": "badge-bad", "failed": "badge-bad", "suppressed": "badge-warn",
    "cancelled": "", "expired": "",
}  # fmt: skip


def _filter_from_args() -> reports.MessageFilter:
    args = request.args
    status = args.get("status", "")
    kind = args.get("kind", "")
    return reports.MessageFilter(
        status=status if status in reports.STATUSES else "",
        kind=kind if kind in notices.KINDS else "",
        trip_id=args.get("trip", type=int),
        county=args.get("county", ""),
    )


@bp.get("/")
@login_required
def index() -> str:
    scope = current_user.county_ids()
    filters = _filter_from_args()
    page = request.args.get("page", 1, type=int) or 1
    view = reports.messages_page(scope, filters, page, select_locale())
    counties = db.session.scalars(select(County).order_by(County.id)).all()
    counties = [c for c in counties if scope is None or c.id in scope]
    return render_template(
        "messages/index.html", view=view, filters=filters, counties=counties,
        trip_choices=reports.trip_choices(scope), kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS, status_badges=STATUS_BADGES, statuses=reports.STATUSES,
    )  # fmt: skip
