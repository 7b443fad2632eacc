"""The schemas of the workers, trips, seats and messages in the OpenAPI document (openapi.py).

The API checks its input against these same schemas (input.py), and
tests/api/test_api_schema.py runs schemathesis against the document: change both together.
"""

from __future__ import annotations

from typing import Any

from dispatch.ids import MAX_ID
from dispatch.models.workers import WORKER_STATUSES
from dispatch.services.notices.templates import TEMPLATES

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
MESSAGE_KINDS = list(TEMPLATES)  # every notice kind (CONTRACTS.md §7)


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
        "body": {
            "type": "string",
            "description": "the exact text sent or to be sent, as the phone shows it, signature "
            "included (a verification code masked)",
        },
        "params": {"type": ["object", "null"], "description": "the template's variables"},
        "segments": {"type": "integer"},
        "cost": {"type": "number", "description": "segments × SMS_PRICE_PER_SEGMENT, in CNY"},
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
        "error_message": {
            **NULLABLE_STR,
            "description": "why not sent or delivered, in the caller's language",
        },
        "reason": {**NULLABLE_STR, "description": "the same as a stable code"},
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

PLAN_STATUSES = [
    "queued",
    "running",
    "draft",
    "published",
    "superseded",
    "failed",
    "cancelled",
    "discarded",
    "merged",
]
NULLABLE_NUMBER = {"type": ["number", "null"]}
PLAN = {
    "type": "object",
    "required": ["id", "status", "progress", "error"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": PLAN_STATUSES},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "stage": NULLABLE_STR,
        "error": {
            "type": ["string", "null"],
            "description": "why it failed; `interrupted` when its workers stopped too often",
        },
        "queue_position": {
            "type": ["integer", "null"],
            "description": "1 for the next plan a worker claims; null unless queued",
        },
        "attempts": {"type": "integer"},
        "restarts": {"type": "integer", "description": "times taken up again after a stop"},
        "claimed_by": {"type": ["string", "null"], "description": "host and process running it"},
        "heartbeat_at": NULLABLE_TIME,
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": NULLABLE_TIME,
        "finished_at": NULLABLE_TIME,
        "date_from": DATE,
        "date_to": DATE,
        "counties": {"type": "array", "items": {"type": "string"}},
        "destinations": {"type": "array", "items": {"type": "string"}},
        "time_limit_s": NULLABLE_NUMBER,
        "cost": NULLABLE_NUMBER,
        "lower_bound_cost": NULLABLE_NUMBER,
        "allow_moves": {"type": "boolean", "description": "seated, unboarded workers may move"},
        "topup_of": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "published plans whose buses this plan fills first (empty: none)",
        },
        "topped_up": {
            "type": ["integer", "null"],
            "description": "waiting workers seated on published buses (a top-up, once solved)",
        },
        "new_buses": {"type": ["integer", "null"], "description": "buses a top-up adds"},
        "moved": {"type": ["integer", "null"], "description": "seated workers a top-up moves"},
        "merged_into": {
            "type": ["integer", "null"],
            "description": "the live plan a published top-up was merged into (status merged)",
        },
    },
}
PLAN_INPUT = {
    "type": "object",
    "required": ["date_from", "date_to"],
    "additionalProperties": False,
    "properties": {
        "date_from": {"type": "string", "pattern": ISO_DATE},
        "date_to": {"type": "string", "pattern": ISO_DATE},
        "counties": {"type": "array", "items": {"type": "string", "maxLength": 40}},
        "destinations": {"type": "array", "items": {"type": "string", "maxLength": 40}},
        "time_limit_s": {"type": "number", "description": "1 to 600 seconds"},
        "allow_moves": {
            "type": "boolean",
            "description": "seated workers who have not boarded may change bus or seat",
        },
    },
}
