"""Coaches put on a plan's buses as a coordinator does on the bus page (a coach brings its
usual drivers): departure notices wait for the plate, so tests that expect them assign one."""

from __future__ import annotations

from sqlalchemy import update

from dispatch.extensions import db
from dispatch.models import Coach, Plan, TripChange, utcnow
from dispatch.services import crew
from dispatch.services.seats import SeatError


def assign_coaches(plan: Plan, *, before_notices: bool = False, leave: int = 0) -> int:
    """Give every bus of ``plan`` without a coach a free one of its type (one more is hired
    when the fleet has none free); buses served.

    ``before_notices``: as if the coaches had been there before publishing (the changes they
    make to a published plan are marked announced, so no change notices follow); ``leave``:
    the last buses left without one (their passengers are told they are on the list)."""
    served = 0
    buses = sorted(plan.trips, key=lambda t: (t.date, t.number or 0, t.id))
    for trip in buses[: len(buses) - leave]:
        if trip.coach is not None:
            continue
        for coach in [*crew.coach_choices(trip), _hired(trip)]:
            if _try(trip, crew.Crew(coach.id, coach.driver1_id, coach.driver2_id, None)) or _try(
                trip, crew.Crew(coach.id, None, None, None)
            ):
                served += 1
                break
    if before_notices:
        db.session.execute(
            update(TripChange)
            .where(TripChange.trip_id.in_([t.id for t in plan.trips]))
            .values(notified_at=utcnow())
        )
    return served


def _hired(trip) -> Coach:
    """One more coach of the bus's type (hired from an operator: the demo fleet is small)."""
    coach = Coach(plate=f"晋L·H{trip.id:04d}", coach_type_id=trip.coach_type_id, operator="租")
    db.session.add(coach)
    db.session.flush()
    return coach


def _try(trip, crew_ids: crew.Crew) -> bool:
    try:
        with db.session.begin_nested():
            crew.assign_crew(trip, crew_ids, None)
    except SeatError:
        return False
    return True
