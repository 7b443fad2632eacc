"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

DATE = {"type": "string", "format": "date"}
NULLABLE_STR = {"type": ["string", "null"]}

WORKER_INPUT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "id_number": {"type": "string", "description": "GB 11643 resident ID, 18 characters"},
        "phone": {"type": "string", "description": "mainland mobile; returned as E.164"},
        "county": {"type": "string", "description": "county id (e.g. hongtong) or Chinese name"},
        "township": {"type": "string"},
        "pickup_point": {
            "type": "string",
            "description": "pickup site id or name; default: the county's",
        },
        "destination": {"type": "string", "description": "drop-off site id or name"},
        "employer": {"type": ["string", "integer", "null"], "description": "name or id"},
        "earliest_date": DATE,
        "latest_date": DATE,
        "group": {"type": ["string", "null"], "maxLength": 40},
        "sms_consent": {"type": ["boolean", "string"]},
        "notes": {"type": "string"},
    },
}
WORKER = {
    "type": "object",
    "required": ["id", "name", "id_number", "phone", "county", "destination", "status"],
    "properties": {
        **{
            k: v
            for k, v in WORKER_INPUT["properties"].items()
            if k not in ("employer", "sms_consent")
        },
        "id": {"type": "integer"},
        "employer": NULLABLE_STR,
        "employer_id": {"type": ["integer", "null"]},
        "group": NULLABLE_STR,
        "sms_consent": {"type": "boolean"},
        "status": {
            "enum": ["registered", "assigned", "notified", "boarded", "no_show", "cancelled"]
        },
        "birth_date": DATE,
        "sex": {"enum": ["M", "F"]},
        "opted_out": {"type": "boolean"},
        "phone_invalid": {"type": "boolean"},
        "trip_id": {"type": ["integer", "null"]},
        "seat_no": {"type": ["integer", "null"]},
    },
}
ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
MESSAGE_STATUSES = [
    "pending", "sending", "sent", "delivered", "failed", "unknown", "cancelled", "expired",
    "suppressed",
]  # fmt: skip
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
MESSAGE = {
    "type": "object",
    "required": ["id", "kind", "status", "due_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": ["departure", "reminder", "welfare", "change", "cancellation", "driver"]},
        "version": {"type": "integer"},
        "worker_id": {"type": ["integer", "null"]},
        "driver_id": {"type": ["integer", "null"]},
        "trip_id": {"type": ["integer", "null"]},
        "to_phone": {"type": "string", "description": "E.164"},
        "body": {"type": "string"},
        "segments": {"type": "integer"},
        "urgent": {"type": "boolean"},
        "status": {"enum": MESSAGE_STATUSES},
        "attempts": {"type": "integer"},
        "due_at": {"type": "string", "format": "date-time"},
        "expires_at": NULLABLE_TIME,
        "sent_at": NULLABLE_TIME,
        "delivered_at": NULLABLE_TIME,
        "provider": NULLABLE_STR,
        "provider_sid": NULLABLE_STR,
        "provider_status": NULLABLE_STR,
        "error_code": NULLABLE_STR,
        "error_message": NULLABLE_STR,
    },
}
MESSAGE_PARAMS = [
    {"name": "status", "in": "query", "schema": {"enum": MESSAGE_STATUSES}},
    {"name": "kind", "in": "query", "schema": {"type": "string"}},
    {"name": "trip_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(_ref("Error"), "error") for code in codes}


WORKER_ID = {"name": "worker_id", "in": "path", "required": True, "schema": {"type": "integer"}}
PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
    {"name": "q", "in": "query", "schema": {"type": "string"}},
    {"name": "county", "in": "query", "schema": {"type": "string"}},
    {"name": "destination", "in": "query", "schema": {"type": "string"}},
    {"name": "status", "in": "query", "schema": {"type": "string"}},
    {"name": "date", "in": "query", "schema": DATE},
]
WORKER_PAGE = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "items": _ref("Worker")},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "total": {"type": "integer"},
    },
}


def _page_of(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def _paths() -> dict[str, Any]:
    body = {"required": True, "content": {"application/json": {"schema": _ref("WorkerInput")}}}
    return {
        "/workers": {
            "get": {"summary": "List workers", "parameters": PAGE_PARAMS,
                    "responses": {"200": _json(WORKER_PAGE), **_errors(400, 401)}},
            "post": {"summary": "Register a worker", "requestBody": body,
                     "responses": {"201": _json(_ref("Worker"), "created"), **_errors(400, 401, 403, 409, 422)}},
        },
        "/workers/{worker_id}": {
            "parameters": [WORKER_ID],
            "get": {"summary": "One worker", "responses": {"200": _json(_ref("Worker")), **_errors(401, 404)}},
            "patch": {"summary": "Change fields", "requestBody": body,
                      "responses": {"200": _json(_ref("Worker")), **_errors(400, 401, 403, 404, 409, 422)}},
            "delete": {"summary": "Withdraw (status cancelled; kept on record)",
                       "responses": {"200": _json(_ref("Worker")), **_errors(401, 403, 404)}},
        },
        "/messages": {
            "get": {"summary": "SMS outbox rows, newest first (a coordinator's counties only)",
                    "parameters": MESSAGE_PARAMS,
                    "responses": {"200": _json(_page_of("Message")), **_errors(400, 401)}},
        },
    }  # fmt: skip


def spec() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "dispatch API", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Worker": WORKER,
                "WorkerInput": WORKER_INPUT,
                "Error": ERROR,
                "Message": MESSAGE,
            },
        },
    }
