"""Checking API input against the OpenAPI document's own schemas, so both say the same.

Query parameters that do not parse give 400; body fields of the wrong type, too long or in the
wrong form give 422 naming each field (CONTRACTS.md §5). Only the few schema keywords the
document uses are understood: type, maxLength, pattern, enum, additionalProperties.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from dispatch.routes.api.schemas import ISO_DATE, MAX_ID

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}


def int_arg(
    name: str, default: int | None = None, low: int = 1, high: int | None = MAX_ID
) -> int | None:
    """An integer query parameter within [low, high] (no ceiling when high is None); 400 when
    it is anything else."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if (
        not re.fullmatch(r"[0-9]{1,30}", raw)
        or int(raw) < low
        or (high is not None and int(raw) > high)
    ):
        if high is None:
            abort(
                400,
                _(
                    "Query parameter %(name)s must be a whole number of at least %(low)d.",
                    name=name,
                    low=low,
                ),
            )
        abort(
            400,
            _(
                "Query parameter %(name)s must be a whole number from %(low)d to %(high)d.",
                name=name,
                low=low,
                high=high,
            ),
        )
    return int(raw)


def choice_arg(name: str, choices: tuple[str, ...] | list[str]) -> str:
    """A query parameter that must be one of ``choices`` (or absent); 400 otherwise."""
    value = request.args.get(name)
    if value is None:
        return ""
    if value not in choices:
        abort(
            400,
            _(
                "Query parameter %(name)s must be one of: %(choices)s.",
                name=name,
                choices=", ".join(choices),
            ),
        )
    return value


def date_arg(name: str = "date") -> date | None:
    """An ISO date query parameter (2026-03-01); 400 when it is anything else."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if not re.fullmatch(ISO_DATE, raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, _("Not a date: write it as 2026-03-01."))


def text_arg(name: str, max_length: int = 100) -> str:
    value = request.args.get(name, "")
    if len(value) > max_length or "\x00" in value:  # (other control characters: web.py's guard)
        abort(
            400, _("Query parameter %(name)s is too long or contains a NUL character.", name=name)
        )
    return value


def unstorable_fields(body: dict[str, Any]) -> dict[str, str]:
    """Field → message for each field holding control characters or lone surrogates."""
    from dispatch.web import unstorable_text

    message = _("Contains control characters or broken characters that cannot be stored.")
    return {
        (key if not unstorable_text(key) else "?"): message
        for key, value in body.items()
        if unstorable_text(key) or unstorable_text(value)
    }


def body_errors(body: dict[str, Any], schema: dict[str, Any]) -> dict[str, str]:
    """Field → message for every property of ``body`` that ``schema`` does not allow."""
    properties = schema.get("properties", {})
    errors: dict[str, str] = {}
    for key, value in body.items():
        if key not in properties:
            if schema.get("additionalProperties", True) is False:
                errors[key] = _("Unknown or read-only field.")
            continue
        problem = value_error(value, properties[key])
        if problem:
            errors[key] = problem
    return errors


def value_error(value: Any, schema: dict[str, Any]) -> str:
    """Why ``value`` does not fit ``schema``, or ''."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not _is_one_of(value, names):
            return _("Wrong type of value (expected %(types)s).", types=" or ".join(names))
    if "enum" in schema and value not in schema["enum"]:
        return _("Not one of the allowed values.")
    if isinstance(value, str):
        return _text_error(value, schema)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_error(value, schema)
    return ""


def _number_error(value: float, schema: dict[str, Any]) -> str:
    """Out of the schema's bounds (an id of 0 names no row: it must not read as "none")."""
    if "minimum" in schema and value < schema["minimum"]:
        return _("Too small (at least %(min)s).", min=schema["minimum"])
    if "maximum" in schema and value > schema["maximum"]:
        return _("Too large (at most %(max)s).", max=schema["maximum"])
    return ""


def _is_one_of(value: Any, names: list[str]) -> bool:
    for name in names:
        wanted = JSON_TYPES[name]
        if isinstance(value, bool) and bool not in wanted:
            continue  # JSON true is not the number 1
        if isinstance(value, wanted):
            return True
    return False


def _text_error(value: str, schema: dict[str, Any]) -> str:
    if "\x00" in value:
        return _("Text may not contain NUL characters.")
    if len(value) > schema.get("maxLength", len(value)):
        return _("Too long (at most %(max)d characters).", max=schema["maxLength"])
    # The document's patterns are anchored ^…$ (so fullmatch, where `$` would let a "\n" by)
    # and they are all dates.
    if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
        return _("Not a date: write it as 2026-03-01.")
    return ""
