"""The OpenAPI description of the fleet and places endpoints (fleet.py).

openapi.py merges these paths and schemas into the served document; the API checks
its input against the same schemas.
"""

from __future__ import annotations

from typing import Any

from dispatch.ids import MAX_ID

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
NULL_ID = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID}
DAY = {
    "type": ["string", "null"],
    "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$",
    "description": "YYYY-MM-DD",
}


def _text(limit: int, nullable: bool = True, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": ["string", "null"] if nullable else "string",
        "maxLength": limit,
    }
    return {**schema, "description": description} if description else schema


def _input(properties: dict[str, Any], required: list[str] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    return {**schema, "required": list(required)} if required else schema


def _output(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


COACH_FIELDS = {
    "plate": _text(20, False, "Chinese plate; 晋LA1234 and 晋L·A1234 are the same"),
    "coach_type": _text(20, False, "coach type id, e.g. c53"),
    "operator": _text(80, description="operator's name; an unknown one is created"),
    "depot": _text(40, description="home depot: a pickup site id"),
    "certificate_no": _text(40),
    "certificate_expires": DAY,
    "driver1_id": NULL_ID,
    "driver2_id": NULL_ID,
    "active": {"type": "boolean"},
}
DRIVER_FIELDS = {
    "name": _text(40, False),
    "phone": _text(20, False, "mainland mobile; returned as E.164"),
    "operator": _text(80, description="operator's name; an unknown one is created"),
    "licence_class": _text(10),
    "qualification_no": _text(40),
    "qualification_expires": DAY,
    "active": {"type": "boolean"},
}
EMPLOYER_FIELDS = {
    "name": _text(120, False),
    "destination": _text(40, False, "drop-off site id"),
    "address": _text(200),
    "contact_name": _text(40),
    "contact_phone": _text(20),
    "active": {"type": "boolean"},
}
SITE_FIELDS = {
    "id": _text(40, False, "lower-case letters, digits, dashes"),
    "kind": {"enum": ["pickup", "dropoff"]},
    "county": {
        "type": ["string", "null"],
        "description": "a pickup point's county, by id or name (its posters and /join offer it)",
    },
    "name": _text(80, False),
    "name_en": _text(120),
    "address": _text(200),
    "lat": {"type": "number", "description": "decimal degrees, inside China"},
    "lon": {"type": "number", "description": "decimal degrees, inside China"},
    "handout_place": _text(200),
    "default_window": _text(20, description="e.g. 06:30-07:30"),
    "active": {"type": "boolean"},
}
STR_OR_NULL = {"type": ["string", "null"]}
SCHEMAS = {
    "CoachInput": _input(COACH_FIELDS),
    "NewCoach": _input(COACH_FIELDS, ["plate", "coach_type"]),
    "Coach": _output(
        {
            "id": ID,
            "plate": {"type": "string"},
            "coach_type": {"type": "string"},
            "operator": {"type": "string"},
            "driver1_id": NULL_ID,
            "driver2_id": NULL_ID,
            "depot": STR_OR_NULL,
            "certificate_no": {"type": "string"},
            "certificate_expires": STR_OR_NULL,
            "active": {"type": "boolean"},
        }
    ),
    "DriverInput": _input(DRIVER_FIELDS),
    "NewDriver": _input(DRIVER_FIELDS, ["name", "phone"]),
    "Driver": _output(
        {
            "id": ID,
            "name": {"type": "string"},
            "phone": {"type": "string"},
            "operator": {"type": "string"},
            "licence_class": {"type": "string"},
            "qualification_no": {"type": "string"},
            "qualification_expires": STR_OR_NULL,
            "active": {"type": "boolean"},
        }
    ),
    "EmployerInput": _input(EMPLOYER_FIELDS),
    "NewEmployer": _input(EMPLOYER_FIELDS, ["name", "destination"]),
    "Employer": _output(
        {
            "id": ID,
            "name": {"type": "string"},
            "destination": {"type": "string"},
            "address": {"type": "string"},
            "contact_name": {"type": "string"},
            "contact_phone": {"type": "string"},
            "active": {"type": "boolean"},
        }
    ),
    "SiteInput": _input(SITE_FIELDS),
    "NewSite": _input(SITE_FIELDS, ["id", "kind", "name", "lat", "lon"]),
    "Site": _output(
        {
            "id": {"type": "string"},
            "kind": {"type": "string"},
            "county": STR_OR_NULL,
            "name": {"type": "string"},
            "name_en": {"type": "string"},
            "address": {"type": "string"},
            "lat": {"type": "number"},
            "lon": {"type": "number"},
            "handout_place": {"type": "string"},
            "default_window": {"type": "string"},
            "active": {"type": "boolean"},
        }
    ),
    "TripCrewInput": _input(
        {
            "coach_id": NULL_ID,
            "driver1_id": NULL_ID,
            "driver2_id": NULL_ID,
            "captain_worker_id": NULL_ID,
            "version": {"type": ["integer", "null"], "description": "409 if stale"},
        }
    ),
}
RESOURCES = (
    ("coaches", "coach_id", "Coach", "integer"),
    ("drivers", "driver_id", "Driver", "integer"),
    ("employers", "employer_id", "Employer", "integer"),
    ("sites", "site_id", "Site", "string"),
)
IN_USE = "409: in use (on a bus, by workers): deactivate instead (`PATCH` with `active: false`)"


def fleet_paths(responses, ref, page_of, body, paging: list) -> dict[str, Any]:
    """The paths, built with openapi.py's helpers (passed in: that module imports this one)."""
    paths: dict[str, Any] = {}
    search = {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}}
    for path, key, name, key_type in RESOURCES:
        item = ref(name)
        paths[f"/{path}"] = {
            "get": {
                "summary": f"List {path}",
                "parameters": [*paging, search],
                "responses": responses(200, page_of(name), 400),
            },
            "post": {
                "summary": f"Add one of the {path} (admins)",
                "requestBody": body(f"New{name}"),
                "responses": responses(201, item, 400, 403, 409, 413, 422),
            },
        }
        paths[f"/{path}/{{{key}}}"] = {
            "parameters": [
                {"name": key, "in": "path", "required": True, "schema": {"type": key_type}}
            ],
            "get": {"summary": "One item", "responses": responses(200, item)},
            "patch": {
                "summary": "Change fields (admins)",
                "requestBody": body(f"{name}Input"),
                "responses": responses(200, item, 400, 403, 409, 413, 422),
            },
            "delete": {
                "summary": "Delete what nothing uses (admins)",
                "description": IN_USE,
                "responses": {"204": {"description": "deleted"}, **responses(200, item, 403, 409)},
            },
        }
        del paths[f"/{path}/{{{key}}}"]["delete"]["responses"]["200"]
    return paths


CREW_PATCH = {
    "summary": "Give the bus its coach, drivers and captain",
    "description": "409 with `trip` when the coach or a driver is away on an overlapping trip "
    "(from departure until back at the depot and rested).",
}
