"""The JSON error shape of CONTRACTS.md §5."""

from __future__ import annotations

from flask import Response, jsonify
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


def api_error(
    status: int, message: str, fields: dict[str, str] | None = None, code: str = ""
) -> Response:
    """A JSON error response: {"error", "message", "fields"}."""
    body = {"error": code or ERROR_CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def _message(status: int, description: str | None) -> str:
    if status == 413:
        return _("The request body is too large.")
    if status == 429:
        return _("Too many requests: wait a minute and try again.")
    if status == 405:
        return _("This method is not allowed here.")
    if status == 400 and not description:
        return _("The request could not be understood.")
    if status == 404 and not description:
        return _("Not found.")
    return description or _("Something went wrong.")


def api_error_response(error) -> Response:
    """Map an HTTP exception raised under /api/ to the JSON error shape, keeping its headers."""
    status = getattr(error, "code", 500) or 500
    description = getattr(error, "description", None)
    if status == 500 or description == type(error).description:
        description = None  # werkzeug's stock English text: ours is translated
    response = api_error(status, _message(status, str(description) if description else None))
    if getattr(error, "valid_methods", None):  # 405 must say what is allowed
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
