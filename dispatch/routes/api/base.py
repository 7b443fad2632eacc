"""The API's blueprint and what every endpoint shares: the token check, rate limit, commit,
JSON body and paging. The endpoint modules of this package attach their views to ``bp``."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_babel import gettext as _

from dispatch.extensions import csrf, db, limiter
from dispatch.routes.announce import announce_changes
from dispatch.routes.api import openapi as document
from dispatch.routes.api.errors import api_error
from dispatch.routes.api.input import body_errors, int_arg, unstorable_fields
from dispatch.services import accounts

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_PER_PAGE = 200


def _token_key() -> str:
    """Requests are counted per API token (by its hash), or per address without one."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()
    return "addr:" + (request.remote_addr or "")


limiter.shared_limit(
    lambda: f"{current_app.config['API_REQUESTS_PER_MINUTE']} per minute",
    scope="api",
    key_func=_token_key,
    exempt_when=lambda: not current_app.config["API_REQUESTS_PER_MINUTE"],
)(bp)


@bp.before_request
def _authenticate():
    # One byte over the limit: werkzeug stops a streamed (chunked) body at the limit without a
    # 413, so json_body tells "exactly at the limit" from "cut off" by that extra byte.
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"] + 1
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    user = accounts.user_for_token(header[7:].strip()) if header.startswith("Bearer ") else None
    if user is None:
        return api_error(401, _("A valid API token is required (Authorization: Bearer …)."))
    if request.method != "GET" and not user.can_edit:
        return api_error(403, _("This token may only read."))
    g.api_user = user
    return None


@bp.after_request
def _commit(response):
    if response.status_code < 400 and request.method != "GET":
        announce_changes()
        db.session.commit()
    elif response.status_code < 400 and g.get("audited"):
        db.session.commit()  # a read of full ID numbers leaves its audit entry
    return response


def json_body(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's JSON object; 400 if it is none, 422 naming fields that break ``schema``
    or hold text no database stores (control characters, lone surrogates)."""
    if len(request.get_data(cache=True)) > current_app.config["API_MAX_BODY_BYTES"]:
        abort(413)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, _("The request body must be a JSON object."))
    errors = {**(body_errors(body, schema) if schema else {}), **unstorable_fields(body)}
    if errors:
        abort(api_error(422, _("Some fields are not valid."), errors))
    return body


def paging() -> tuple[int, int]:
    """Page and page size; a page past the end is empty and more than 200 a page gives 200."""
    return int_arg("page", 1, high=None), min(int_arg("per_page", 50, high=None), MAX_PER_PAGE)


@bp.get("/openapi.json")
def openapi():
    return jsonify(document.spec())
