"""A draft side by side with what is published over its days (issue 17 §3).

Publishing a draft never takes a published seat away: a top-up (services/topup_publish.py)
merges into the live plan, carrying copies of the live buses it uses (same code), and any other
draft adds its buses beside the published ones. So the comparison is of the published buses now
and the buses once the draft is published (the draft's, plus the published buses it does not
carry, less those it empties), and of each worker's ride: bus code, seat and departure, so it
holds whether a bus is a copy or new. Workers the draft seats but publishing would leave out
(services/publishing.py ``seat_problems``) are listed with the reason. Workers are named only
for the viewer's counties; the others are counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, select

from dispatch.extensions import db
from dispatch.models import County, Plan, SeatAssignment, Trip, User
from dispatch.models import trips as t
from dispatch.services import plan_queries, publishing, topup_publish


@dataclass(frozen=True)
class Ride:
    """Where a worker rides: bus code, seat, departure."""

    bus: str
    seat: int
    departure: datetime
    day: date


@dataclass(frozen=True)
class Row:
    worker_id: int
    name: str
    county: County
    old: Ride | None
    new: Ride | None
    why: publishing.Drop | None = None  # left out at publishing: the reason


@dataclass
class Comparison:
    draft: Plan
    published: list[Plan]
    days: list[tuple[date, int, int]]  # day, buses published now, buses once it is published
    published_cost: float
    draft_cost: float  # of every bus once the draft is published
    changed: list[Row] = field(default_factory=list)
    added: list[Row] = field(default_factory=list)
    dropped: list[Row] = field(default_factory=list)  # seated by the draft, left out by publishing
    unchanged: int = 0
    hidden: int = 0  # changes to workers of other counties: counted, never named
    topup: bool = False  # the draft tops the published plan up (carries copies of its buses)

    @property
    def difference(self) -> float:
        return round(self.draft_cost - self.published_cost, 2)


def published_over(plan: Plan) -> list[Plan]:
    """The published plans whose days meet the plan's, and whose counties meet its counties."""
    return plan_queries.plans_over(plan, t.PLAN_PUBLISHED)


def drafts_over(plan: Plan) -> list[Plan]:
    """The drafts a published plan can be compared with (their days and counties meet its own),
    newest first."""
    return plan_queries.plans_over(plan, t.PLAN_DRAFT)[::-1]


def _trips(plan_ids: list[int], first: date, last: date) -> Select:
    """The live buses of the plans over the days, in list order."""
    return (
        select(Trip)
        .where(Trip.plan_id.in_(plan_ids), Trip.cancelled_at.is_(None))
        .where(Trip.date >= first, Trip.date <= last)
        .order_by(Trip.date, Trip.number, Trip.id)
    )


def _rides(query: Select) -> tuple[list[Trip], dict[int, Ride], dict[int, set[int]]]:
    """The buses, each seated worker's ride and each bus's riders; the seats read as columns (a
    season's top-up and the plan it tops up, 200,000 seats loaded as objects with their
    workers, took 17 s)."""
    trips = list(db.session.scalars(query))
    riders: dict[int, set[int]] = {trip.id: set() for trip in trips}
    taken: dict[int, list[tuple[int, int]]] = {trip.id: [] for trip in trips}
    buses = query.with_only_columns(Trip.id).order_by(None)
    for trip_id, worker_id, seat_no in db.session.execute(
        select(SeatAssignment.trip_id, SeatAssignment.worker_id, SeatAssignment.seat_no).where(
            SeatAssignment.trip_id.in_(buses)
        )
    ):
        taken[trip_id].append((worker_id, seat_no))
    rides: dict[int, Ride] = {}
    for trip in trips:  # in the trips' order: a worker on two of them rides the later one
        for worker_id, seat_no in taken[trip.id]:
            rides[worker_id] = Ride(trip.code, seat_no, trip.departure_at, trip.date)
            riders[trip.id].add(worker_id)
    return trips, rides, riders


def compare(draft: Plan, user: User) -> Comparison:
    """The draft against the published plans over its days, named for the user's counties."""
    published = published_over(draft)
    now, old, riders = _rides(_trips([p.id for p in published], draft.date_from, draft.date_to))
    drafted, new, _ = _rides(_trips([draft.id], draft.date_from, draft.date_to))
    drops = {d.worker_id: d for d in publishing.seat_problems(draft)}
    new = {i: ride for i, ride in new.items() if i not in drops}
    after = drafted + _kept(now, riders, draft, set(new))
    result = Comparison(
        draft,
        published,
        _days(now, after),
        round(sum(tr.cost for tr in now), 2),
        round(sum(tr.cost for tr in after), 2),
        topup=bool(topup_publish.copies(draft)),
    )
    moved = [
        i for i in set(new) | set(drops) if not (i in old and i in new and _same(old[i], new[i]))
    ]
    result.unchanged = len(set(new) | set(drops)) - len(moved)
    people = _people(moved)
    counties = user.county_ids()
    for worker_id in sorted(moved, key=lambda i: (people[i][0], i)):
        name, county = people[worker_id]
        if counties is not None and county.id not in counties:
            result.hidden += 1
            continue
        row = Row(
            worker_id, name, county, old.get(worker_id), new.get(worker_id), drops.get(worker_id)
        )
        target = result.dropped if row.why else result.changed if row.old else result.added
        target.append(row)
    return result


def _same(old: Ride, new: Ride) -> bool:
    return (old.bus, old.seat, old.departure) == (new.bus, new.seat, new.departure)


def _people(ids: list[int]) -> dict[int, tuple[str, County]]:
    """Name and county of each worker listed."""
    counties = {c.id: c for c in db.session.scalars(select(County))}
    return {
        i: (name, counties[county]) for i, (name, county) in plan_queries.worker_names(ids).items()
    }


def _kept(
    now: list[Trip], riders: dict[int, set[int]], draft: Plan, moving: set[int]
) -> list[Trip]:
    """The published buses that run on beside the draft once it is published: those it carries
    no copy of, unless every passenger of one rides elsewhere in the draft (publishing cancels
    a bus a top-up empties)."""
    copies = set(topup_publish.copies(draft).values())
    return [
        tr for tr in now if tr.id not in copies and not (riders[tr.id] and riders[tr.id] <= moving)
    ]


def _days(old: list[Trip], new: list[Trip]) -> list[tuple[date, int, int]]:
    before, after = Counter(tr.date for tr in old), Counter(tr.date for tr in new)
    return [(day, before[day], after[day]) for day in sorted(set(before) | set(after))]


def counterparts(plan: Plan) -> list[Plan]:
    """What the plan page offers to compare with: a draft's published plans, a published
    plan's drafts; nothing for other plans."""
    if plan.status == t.PLAN_DRAFT:
        return published_over(plan)
    if plan.status == t.PLAN_PUBLISHED:
        return drafts_over(plan)
    return []
