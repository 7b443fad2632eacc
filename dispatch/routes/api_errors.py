"""The JSON error shape of CONTRACTS.md §5."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}


def api_error(status: int, message: str, fields: dict[str, str] | None = None, code: str = ""):
    """A JSON error response: {"error", "message", "fields"}."""
    body = {"error": code or ERROR_CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


def api_error_response(error):
    """Map an HTTP exception raised under /api/ to the JSON error shape."""
    status = getattr(error, "code", 500) or 500
    description = getattr(error, "description", None) if status != 500 else None
    return api_error(status, str(description or _("Something went wrong.")))
