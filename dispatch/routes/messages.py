"""The messages page: every SMS, its fate, delivery rates, and who must be phoned."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from dispatch.routes.labels import HOLD_LABELS, KIND_LABELS
from dispatch.services import choices
from dispatch.services import message_reports as reports
from dispatch.services.notices import notices
from dispatch.web import parse_id, parse_page, select_locale

bp = Blueprint("messages", __name__, url_prefix="/messages")

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
# Why a row was not sent or delivered (reports.reason_code), in the reader's language.
REASON_LABELS = {
    "refused:consent": _l("The worker did not agree to SMS notices: phone them"),
    "refused:opt_out": _l("The worker unsubscribed from SMS: phone them"),
    "refused:invalid": _l("The number cannot receive SMS: phone them or correct it"),
    "refused:number": _l(
        "The phone number changed after this notice was written: publish it again"
    ),
    "refused:provider": _l("The SMS provider refused this number: phone them"),
    "carrier:repeat": _l("The same text went out twice within 24 hours; carriers block a third"),
    "carrier:daily": _l("Four different SMS already went out today (carrier limit): phone them"),
    "carrier:held": _l("Held to tomorrow: four different SMS already went out today"),
    "stale": _l("Sending was cut off: it may have gone out; check by phone before resending"),
    "gateway": _l("The SMS gateway failed mid-send: it may have gone out; check by phone"),
    "link_rotated": _l("Driver link changed: a new notice replaces this one"),
    "moved": _l("Moved to another bus: the new bus's notice replaces this one"),
    "superseded": _l("Replaced by a newer version of this notice"),
    "provider": _l("Not delivered (SMS provider's answer)"),
    **HOLD_LABELS,
}
STATUS_BADGES = {
    "delivered": "badge-ok",
    "sent": "badge-ok",
    "pending": "",
    "sending": "badge-warn",
    "unknown": "badge-bad",
    "failed": "badge-bad",
    "suppressed": "badge-warn",
    "cancelled": "",
    "expired": "",
}


def reason_label(message) -> str:
    """The reason a row shows, in the reader's language ('' when it has none): the pages and
    the API never show the stored English text (``error_message``, kept for logs)."""
    code = reports.reason_code(message)
    if code == "carrier:daily" and message.status == "pending":
        code = "carrier:held"
    if code is None:
        return ""
    label = REASON_LABELS.get(code, REASON_LABELS["provider"])
    return (
        f"{label} ({message.error_code})"
        if code == "provider" and message.error_code
        else str(label)
    )


def _filter_from_args() -> reports.MessageFilter:
    args = request.args
    status = args.get("status", "")
    kind = args.get("kind", "")
    return reports.MessageFilter(
        status=status if status in reports.STATUSES else "",
        kind=kind if kind in notices.ALL_KINDS else "",
        trip_id=parse_id(args.get("trip")),
        county=args.get("county", ""),
    )


@bp.get("/")
@login_required
def index() -> str:
    scope = current_user.county_ids()
    filters = _filter_from_args()
    page = parse_page(request.args.get("page"))
    view = reports.messages_page(scope, filters, page, select_locale())
    counties = choices.counties(scope)
    return render_template(
        "messages/index.html",
        view=view,
        filters=filters,
        counties=counties,
        trip_choices=reports.trip_choices(scope),
        statuses=reports.STATUSES,
    )


def price_per_segment() -> float:
    return float(current_app.config.get("SMS_PRICE_PER_SEGMENT", 0.05))


@bp.app_context_processor
def message_words() -> dict[str, Any]:
    """What any page listing messages needs to show them (this blueprint's and the worker's)."""
    return {
        "message_reason": reason_label,
        "message_status_labels": STATUS_LABELS,
        "message_status_badges": STATUS_BADGES,
        "message_kind_labels": KIND_LABELS,
        "sms_price": price_per_segment,
    }
