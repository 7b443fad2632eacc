"""Bus codes: "T" and a number, unique in a dispatch season across live plans, so that a
boarding page never shows two T1s; the code of a published bus never changes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Plan, Trip
from dispatch.models import trips as t
from dispatch.models.trips import bus_number


def codes_for(plan: Plan, trips: list[dict], fixed: set[str]) -> dict[str, str]:
    """Codes unique in the season: a locked bus keeps its code, new buses take the free numbers.

    The plan this one re-plans is left out of the numbers taken: it is superseded now.
    """
    taken = numbers_taken(plan, besides=plan.problem.get("base_plan"))
    codes = {tid: tid for tid in sorted(fixed) if bus_number(tid) not in taken}
    taken |= {bus_number(code) for code in codes.values()}
    fresh = sorted(
        (tr for tr in trips if tr["id"] not in codes),
        key=lambda tr: (tr["date"], bus_number(tr["id"]) or 0),
    )
    for trip, number in zip(fresh, free_numbers(taken, len(fresh)), strict=True):
        codes[trip["id"]] = f"T{number}"
    return codes


def season_of(day: date) -> tuple[date, date]:
    """The dispatch season holding ``day``: 1 October to 30 September, so that a December
    and the spring after it are one season."""
    start = date(day.year if day.month >= 10 else day.year - 1, 10, 1)
    return start, date(start.year + 1, 9, 30)


def numbers_taken(
    plan: Plan, *, published_only: bool = False, besides: int | None = None
) -> set[int]:
    """Bus numbers of the season used by other live plans (drafts and published), or only published."""
    start, _ = season_of(plan.date_from)
    _, end = season_of(plan.date_to)
    statuses = [t.PLAN_PUBLISHED] if published_only else [t.PLAN_PUBLISHED, t.PLAN_DRAFT]
    query = (
        select(Trip.number)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(
            Plan.status.in_(statuses),
            Plan.id.not_in([plan.id, besides or 0]),
            Trip.date >= start,
            Trip.date <= end,
            Trip.number.is_not(None),
        )
    )
    return set(db.session.scalars(query))


def free_numbers(taken: set[int], count: int) -> list[int]:
    """The ``count`` smallest positive numbers not in ``taken``."""
    found, number = [], 0
    while len(found) < count:
        number += 1
        if number not in taken:
            found.append(number)
    return found
