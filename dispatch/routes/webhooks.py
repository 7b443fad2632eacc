"""Twilio webhooks: delivery status callbacks and inbound replies (CONTRACTS.md §5).

The signature is checked against PUBLIC_BASE_URL + path + query (the address Twilio
called), not the address this process sees, so it holds behind a reverse proxy.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from dispatch.extensions import csrf, db
from dispatch.models import utcnow
from dispatch.notify import callbacks

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)


@bp.before_request
def require_twilio_signature() -> None:
    url = callbacks.public_url(
        current_app.config["PUBLIC_BASE_URL"], request.path, request.query_string
    )
    if not callbacks.is_genuine(
        current_app.config, url, request.form, request.headers.get("X-Twilio-Signature")
    ):
        abort(403)


@bp.post("/twilio/status")
def twilio_status() -> tuple[str, int]:
    message_ref = request.args.get("m")
    if message_ref is not None and callbacks.message_id(message_ref) is None:
        abort(400)  # signed, yet not an address we built: nothing to retry
    callbacks.apply_status_callback(request.form, message_ref, utcnow())
    db.session.commit()
    return "", 200


@bp.post("/twilio/inbound")
def twilio_inbound() -> Response:
    callbacks.record_inbound(request.form, utcnow())
    db.session.commit()
    return Response(callbacks.EMPTY_TWIML, mimetype="text/xml")
