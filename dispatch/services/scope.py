"""What a user may see and change: the county filter of every list, and the bus and seat rules.

Every list query narrows to the user's counties with ``in_scope``, nowhere else.

A coordinator changes seats only for workers of their counties; a change to the whole bus
(departure, crew, whole-bus lock) needs every passenger's county in their scope, or the admin role.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import InstrumentedAttribute

from dispatch.extensions import db
from dispatch.models import County, Plan, Trip, User, Worker

Query = TypeVar("Query", bound=Select)


def in_scope(query: Query, column: InstrumentedAttribute, scope: Collection[str] | None) -> Query:
    """``query`` narrowed to rows whose ``column`` (a county id) is in ``scope``; None: every county."""
    return query if scope is None else query.where(scope_clause(column, scope))


def scope_clause(column: InstrumentedAttribute, scope: Collection[str] | None) -> ColumnElement:
    """The condition of ``in_scope``, for a query that lets in rows of another kind beside it
    (``or_``); None: every county (true)."""
    return true() if scope is None else column.in_(scope)


def covered_counties(plan: Plan) -> set[str] | None:
    """The counties a plan covers: its scope's counties, or None for a city-wide plan (all)."""
    counties = (plan.scope or {}).get("counties") or []
    return set(counties) or None


class OutOfScope(Exception):
    """The user may not make this change; ``str()`` says why in the user's language."""


def may_see(user: User, worker: Worker) -> bool:
    """Whether the user may see this worker's name and details."""
    counties = user.county_ids()
    return counties is None or worker.county_id in counties


def seat_refusal(user: User, worker: Worker) -> str | None:
    """Why the user may not move, free or lock this worker's seat, or None when they may."""
    if not user.can_edit:
        return _("Your account may only read.")
    if may_see(user, worker):
        return None
    return _(
        "This passenger belongs to another county: only that county's coordinator can change this seat."
    )


def check_worker(user: User, worker: Worker) -> None:
    """Raise OutOfScope unless the user may change this worker's seat."""
    reason = seat_refusal(user, worker)
    if reason:
        raise OutOfScope(reason)


def check_seats(user: User, trip: Trip, *seat_nos: int) -> None:
    """Raise OutOfScope unless the user may change every occupied seat among ``seat_nos``."""
    for seat in trip.seats:
        if seat.seat_no in seat_nos:
            check_worker(user, seat.worker)


def bus_refusal(user: User, trip: Trip) -> str | None:
    """Why the user may not change the whole bus, or None when they may."""
    if not user.can_edit:
        return _("Your account may only read.")
    counties = user.county_ids()
    if counties is None:
        return None
    riding = {seat.worker.county_id for seat in trip.seats} or _plan_counties(trip)
    if riding <= counties:
        return None
    return _(
        "Only an admin, or a coordinator of every county on this bus, can change the whole bus "
        "(departure time, coach and crew, whole-bus lock)."
    )


def check_bus(user: User, trip: Trip) -> None:
    """Raise OutOfScope unless the user may change the whole bus."""
    reason = bus_refusal(user, trip)
    if reason:
        raise OutOfScope(reason)


def _plan_counties(trip: Trip) -> set[str]:
    """The counties an empty bus's plan covers; a plan without a county list covers them all."""
    covered = covered_counties(trip.plan)
    return covered if covered is not None else set(db.session.scalars(select(County.id)))
