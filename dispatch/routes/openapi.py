"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

The API checks its input against these same schemas (routes/api_input.py), and
tests/api/test_api_schema.py runs schemathesis against this document: change both together.
"""

from __future__ import annotations

from typing import Any

from dispatch.ids import MAX_ID
from dispatch.models.workers import WORKER_STATUSES

DATE = {"type": "string", "format": "date"}
ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NULLABLE_STR = {"type": ["string", "null"]}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
MESSAGE_STATUSES = [
    "pending",
    "sending",
    "sent",
    "delivered",
    "failed",
    "unknown",
    "cancelled",
    "expired",
    "suppressed",
]
MESSAGE_KINDS = ["departure", "reminder", "welfare", "change", "cancellation", "driver"]


def _text(max_length: int, description: str = "", nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": ["string", "null"] if nullable else "string",
        "maxLength": max_length,
    }
    return {**schema, "description": description} if description else schema


WORKER_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _text(40),
        "id_number": _text(40, "GB 11643 resident ID, 18 characters"),
        "phone": _text(40, "mainland mobile; returned as E.164"),
        "county": _text(60, "county id (e.g. hongtong) or Chinese name"),
        "township": _text(80, nullable=True),
        "pickup_point": _text(60, "pickup site id or name; default: the county's", nullable=True),
        "destination": _text(60, "drop-off site id or name"),
        "employer": {
            "type": ["string", "integer", "null"],
            "maxLength": 120,
            "description": "name or id",
        },
        "earliest_date": {"type": "string", "pattern": ISO_DATE, "description": "YYYY-MM-DD"},
        "latest_date": {
            "type": ["string", "null"],
            "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$",
            "description": "YYYY-MM-DD; default: earliest_date",
        },
        "group": _text(40, "travel group code", nullable=True),
        "sms_consent": {
            "type": ["boolean", "string"],
            "maxLength": 10,
            "description": "true/false or 是/否",
        },
        "notes": _text(2000, nullable=True),
    },
}
NEW_WORKER = {
    **WORKER_INPUT,
    "required": ["name", "id_number", "phone", "county", "destination", "earliest_date"],
}
WORKER = {
    "type": "object",
    "required": [
        "id",
        "name",
        "id_number",
        "phone",
        "county",
        "township",
        "pickup_point",
        "destination",
        "employer",
        "employer_id",
        "earliest_date",
        "latest_date",
        "group",
        "sms_consent",
        "notes",
        "status",
        "birth_date",
        "sex",
        "opted_out",
        "phone_invalid",
        "trip_id",
        "seat_no",
    ],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "id_number": {"type": "string"},
        "phone": {"type": "string", "description": "E.164"},
        "county": {"type": "string"},
        "township": {"type": "string"},
        "pickup_point": {"type": "string"},
        "destination": {"type": "string"},
        "employer": NULLABLE_STR,
        "employer_id": {"type": ["integer", "null"]},
        "earliest_date": DATE,
        "latest_date": DATE,
        "group": NULLABLE_STR,
        "sms_consent": {"type": "boolean"},
        "notes": {"type": "string"},
        "status": {"enum": list(WORKER_STATUSES)},
        "birth_date": DATE,
        "sex": {"enum": ["M", "F"]},
        "opted_out": {"type": "boolean"},
        "phone_invalid": {"type": "boolean"},
        "anonymised": {"type": "boolean", "description": "personal fields removed (retention)"},
        "trip_id": {"type": ["integer", "null"]},
        "seat_no": {"type": ["integer", "null"]},
    },
}
ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {
            "type": "string",
            "description": "a code: invalid, conflict, duplicate, not_found…",
        },
        "message": {"type": "string", "description": "for a person, in the caller's language"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
MESSAGE = {
    "type": "object",
    "required": ["id", "kind", "status", "due_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": MESSAGE_KINDS},
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
LOCAL_TIME = {"type": "string", "description": "local wall-clock time, e.g. 2026-03-01T08:00+0800"}
TRIP = {
    "type": "object",
    "required": [
        "id",
        "plan_id",
        "plan_status",
        "code",
        "date",
        "departure_at",
        "stops",
        "seats",
        "version",
    ],
    "properties": {
        "id": {"type": "integer"},
        "plan_id": {"type": "integer"},
        "plan_status": {"type": "string"},
        "code": {"type": "string"},
        "date": DATE,
        "departure_at": LOCAL_TIME,
        "coach_type": {"type": "string"},
        "passenger_seats": {"type": "integer"},
        "plate": NULLABLE_STR,
        "locked": {"type": "boolean"},
        "version": {"type": "integer"},
        "km": {"type": "number"},
        "cost": {"type": "number"},
        "stops": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["seq", "site", "kind"],
                "properties": {
                    "seq": {"type": "integer"},
                    "site": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": {"enum": ["pickup", "dropoff"]},
                    "eta": LOCAL_TIME,
                },
            },
        },
        "seats": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["seat_no", "locked", "worker_id", "name"],
                "description": "workers outside the caller's counties show as null",
                "properties": {
                    "seat_no": {"type": "integer"},
                    "locked": {"type": "boolean"},
                    "worker_id": {"type": ["integer", "null"]},
                    "name": NULLABLE_STR,
                },
            },
        },
    },
}
SEAT_INPUT = {
    "type": "object",
    "required": ["worker_id"],
    "properties": {
        "worker_id": ID,
        "version": {
            "type": ["integer", "null"],
            "description": "the trip's version you saw; 409 if stale",
        },
        "allow_split": {
            "type": "boolean",
            "description": "move a worker away from their travel group",
        },
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_MEANINGS = {
    400: "malformed request: not a JSON object, or a query parameter that does not parse",
    401: "no valid API token",
    403: "this token may only read",
    404: "no such object, or not in your counties",
    405: "method not allowed",
    409: "conflict: a seat taken, a stale version, a duplicate ID number",
    413: "request body too large",
    422: "invalid fields, each named in `fields`",
    429: "too many requests for this token; see Retry-After / X-RateLimit-Reset",
}
ALWAYS = (401, 404, 405, 429)  # any path can be unknown, unauthenticated or throttled


def _responses(ok: int, schema: dict, *codes: int) -> dict[str, Any]:
    errors = sorted({*ALWAYS, *codes})
    return {
        str(ok): _json(schema),
        **{str(c): _json(_ref("Error"), ERROR_MEANINGS[c]) for c in errors},
    }


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param = {"name": name, "in": "query", "schema": schema}
    return {**param, "description": description} if description else param


PAGING = [
    _query("page", {"type": "integer", "minimum": 1}, "a page past the end is empty"),
    _query("per_page", {"type": "integer", "minimum": 1}, "default 50; at most 200 are returned"),
]
WORKER_PARAMS = [
    *PAGING,
    _query("q", {"type": "string", "maxLength": 100}, "name, phone, or the end of an ID number"),
    _query("county", {"type": "string", "maxLength": 100}),
    _query("destination", {"type": "string", "maxLength": 100}),
    _query("status", {"enum": list(WORKER_STATUSES)}),
    _query("date", DATE, "workers who can travel that day"),
]
MESSAGE_PARAMS = [
    _query("status", {"enum": MESSAGE_STATUSES}),
    _query("kind", {"enum": MESSAGE_KINDS}),
    _query("trip_id", ID),
    *PAGING,
]
VERSION = _query(
    "version",
    {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    "the trip's version you saw; 409 if stale",
)
TRIP_PARAMS = [
    _query("date", DATE),
    _query("plan_id", ID, "a plan's trips (default: the published plans')"),
]


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _page_of(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def _paths() -> dict[str, Any]:
    worker, trip = _ref("Worker"), _ref("Trip")
    trips = {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": trip}},
    }
    seat = {"parameters": [_path_id("trip_id"), _path_id("seat_no")]}
    return {
        "/workers": {
            "get": {
                "summary": "List workers",
                "description": FULL_NUMBERS,
                "parameters": WORKER_PARAMS,
                "responses": _responses(200, _page_of("Worker"), 400),
            },
            "post": {
                "summary": "Register a worker",
                "requestBody": _body("NewWorker"),
                "responses": _responses(201, worker, 400, 403, 409, 413, 422),
            },
        },
        "/workers/{worker_id}": {
            "parameters": [_path_id("worker_id")],
            "get": {
                "summary": "One worker",
                "description": FULL_NUMBERS,
                "responses": _responses(200, worker),
            },
            "patch": {
                "summary": "Change fields",
                "requestBody": _body("WorkerInput"),
                "responses": _responses(200, worker, 400, 403, 409, 413, 422),
            },
            "delete": {
                "summary": "Withdraw (status cancelled; kept on record)",
                "responses": _responses(200, worker, 403),
            },
        },
        "/trips": {
            "get": {
                "summary": "Trips of published plans (or of one plan), by day",
                "parameters": TRIP_PARAMS,
                "responses": _responses(200, trips, 400),
            },
        },
        "/trips/{trip_id}": {
            "parameters": [_path_id("trip_id")],
            "get": {
                "summary": "One trip with its stops and seats",
                "responses": _responses(200, trip),
            },
        },
        "/trips/{trip_id}/seats/{seat_no}": {
            **seat,
            "put": {
                "summary": "Seat a worker (moving them from another seat of the plan)",
                "requestBody": _body("SeatInput"),
                "responses": _responses(200, trip, 400, 403, 409, 413, 422),
            },
            "delete": {
                "summary": "Free the seat",
                "parameters": [VERSION],
                "responses": _responses(200, trip, 400, 403, 409, 422),
            },
        },
        "/messages": {
            "get": {
                "summary": "SMS outbox rows, newest first (a coordinator's counties only)",
                "parameters": MESSAGE_PARAMS,
                "responses": _responses(200, _page_of("Message"), 400),
            },
        },
    }


FULL_NUMBERS = (
    "Viewers receive `id_number` and `phone` masked. Every read that returns them in full "
    "(admins; coordinators, for their own counties) is written to the audit log with its filters."
)


def _fleet_paths(paths: dict[str, Any]) -> dict[str, Any]:
    """Add the fleet and places endpoints (routes/openapi_fleet.py) and the crew PATCH."""
    from dispatch.routes import openapi_fleet as fleet

    paths = {**paths, **fleet.fleet_paths(_responses, _ref, _page_of, _body, PAGING)}
    paths["/trips/{trip_id}"]["patch"] = {
        **fleet.CREW_PATCH,
        "requestBody": _body("TripCrewInput"),
        "responses": _responses(200, _ref("Trip"), 400, 403, 409, 413, 422),
    }
    return paths


def _fleet_schemas() -> dict[str, Any]:
    from dispatch.routes.openapi_fleet import SCHEMAS

    return SCHEMAS


def spec() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "dispatch API", "version": "1.1.0"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _fleet_paths(_paths()),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Worker": WORKER,
                "WorkerInput": WORKER_INPUT,
                "NewWorker": NEW_WORKER,
                "Trip": TRIP,
                "SeatInput": SEAT_INPUT,
                "Error": ERROR,
                "Message": MESSAGE,
                **_fleet_schemas(),
            },
        },
    }
