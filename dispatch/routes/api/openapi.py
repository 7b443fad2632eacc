"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

The API checks its input against the same schemas (schemas.py, openapi_fleet.py; input.py
applies them), and tests/api/test_api_schema.py runs schemathesis against this document:
change both together.
"""

from __future__ import annotations

from typing import Any

from dispatch.ids import MAX_ID
from dispatch.models.workers import WORKER_STATUSES
from dispatch.routes.api import openapi_fleet as fleet
from dispatch.routes.api.schemas import (
    DATE,
    ERROR,
    ID,
    MESSAGE,
    MESSAGE_KINDS,
    MESSAGE_STATUSES,
    NEW_WORKER,
    PLAN,
    PLAN_INPUT,
    SEAT_INPUT,
    TRIP,
    WORKER,
    WORKER_INPUT,
)


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
        "/plans": {
            "post": {
                "summary": "Queue a plan of the open demand; where the days have published "
                "buses it tops them up (waiting workers take their free seats first)",
                "requestBody": _body("PlanInput"),
                "responses": _responses(202, _ref("Plan"), 400, 403, 413, 422),
            },
        },
        "/plans/{plan_id}": {
            "parameters": [_path_id("plan_id")],
            "get": {
                "summary": "A plan's state: queued (with its place), running (progress), finished",
                "responses": _responses(200, _ref("Plan")),
            },
        },
    }


FULL_NUMBERS = (
    "Viewers receive `id_number` and `phone` masked. Every read that returns them in full "
    "(admins; coordinators, for their own counties) is written to the audit log with its filters."
)


def _fleet_paths(paths: dict[str, Any]) -> dict[str, Any]:
    """Add the fleet and places endpoints (openapi_fleet.py) and the crew PATCH."""
    paths = {**paths, **fleet.fleet_paths(_responses, _ref, _page_of, _body, PAGING)}
    paths["/trips/{trip_id}"]["patch"] = {
        **fleet.CREW_PATCH,
        "requestBody": _body("TripCrewInput"),
        "responses": _responses(200, _ref("Trip"), 400, 403, 409, 413, 422),
    }
    return paths


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
                "Plan": PLAN,
                "PlanInput": PLAN_INPUT,
                **fleet.SCHEMAS,
            },
        },
    }
