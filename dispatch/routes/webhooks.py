"""Providers' webhooks (CONTRACTS.md §5): Twilio's status callbacks and inbound replies, and
Alibaba Cloud's inbound replies (SmsUp, pushed over HTTP).

Twilio's signature is checked against PUBLIC_BASE_URL + path + query (the address Twilio
called), not the address this process sees, so it holds behind a reverse proxy. Alibaba
Cloud signs nothing: its push address carries ALIYUN_SMS_CALLBACK_TOKEN, and without that
setting the address does not exist (404).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request

from dispatch.extensions import csrf, db
from dispatch.models import utcnow
from dispatch.notify import callbacks
from dispatch.services import replies

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)
UNSIGNED = {"webhooks.aliyun_inbound", "webhooks.aliyun_inbound_path"}  # token instead


@bp.before_request
def require_twilio_signature() -> None:
    if request.endpoint in UNSIGNED:
        return
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
    replies.receive(callbacks.twilio_inbound(request.form), utcnow(), current_app.config)
    db.session.commit()
    return Response(callbacks.EMPTY_TWIML, mimetype="text/xml")


@bp.post("/aliyun/inbound")
def aliyun_inbound() -> Response:
    """SmsUp batch push; the token in the query: ``?token=…``."""
    return _aliyun_push(request.args.get("token"))


@bp.post("/aliyun/inbound/<token>")
def aliyun_inbound_path(token: str) -> Response:
    """SmsUp batch push; the token as the last part of the path."""
    return _aliyun_push(token)


def _aliyun_push(token: str | None) -> Response:
    """Store each uplink message of the push and answer what Alibaba Cloud expects.

    A failure answers 500, so the provider pushes again later; replays are then ignored."""
    configured = current_app.config.get("ALIYUN_SMS_CALLBACK_TOKEN")
    if not configured:
        abort(404)
    if not callbacks.token_matches(configured, token):
        abort(403)
    try:
        uplinks = callbacks.aliyun_uplinks(request.get_json(force=True, silent=True))
    except callbacks.MalformedPush:
        abort(400)
    now = utcnow()
    for sms in uplinks:
        replies.receive(sms, now, current_app.config)
    db.session.commit()
    return jsonify(callbacks.ALIYUN_RECEIVED)
