"""A planner result stored as a draft: its trips, stops and seats under the plan row.

A top-up's fixed trips that stand for published buses are stored as copies of those buses
(same code, stops and times; every seat the result gives), so that the draft reads as the
whole period; publishing merges the copies' new seats back into the live buses
(services/topup_publish.py).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from dispatch.extensions import db
from dispatch.models import CoachType, Plan, SeatAssignment, Trip, TripStop
from dispatch.models import trips as t
from dispatch.planner.world.distances import road_km
from dispatch.services import bus_codes, topup
from dispatch.services.timing import stop_times


def store_result(plan: Plan, result: dict, departure: time, tz: str) -> None:
    """Write the planner's trips, stops and seats under ``plan`` and mark it a draft."""
    sites = {s["id"]: s for s in plan.problem["sites"]}
    types = {ct.id: ct for ct in db.session.scalars(select(CoachType))}
    fixed = {f["id"]: f for f in plan.problem.get("fixed_trips", [])}
    live = {code for code, f in fixed.items() if f.get("published_trip")}
    codes = bus_codes.codes_for(
        plan, [tr for tr in result["trips"] if tr["id"] not in live], set(fixed) - live
    )
    originals = _originals([fixed[code]["published_trip"] for code in live])
    seats: list[tuple[Trip, dict, set[str]]] = []  # each bus, its seats, the seats locked
    for trip in result["trips"]:
        if trip["id"] in live:
            copy, locked = _store_copy(trip, fixed[trip["id"]], originals)
            seats.append((copy, trip["seats"], locked))
            continue
        stored = _store_trip(
            {**trip, "code": codes[trip["id"]]}, sites, types[trip["coach_type"]], departure, tz
        )
        locked = set()
        if trip["id"] in fixed:  # what the coordinator locked stays locked
            stored.locked = bool(fixed[trip["id"]].get("locked"))
            locked = set(fixed[trip["id"]]["seats"]) & set(trip["seats"])
        seats.append((stored, trip["seats"], locked))
    for stored, _, _ in seats:
        db.session.add(stored)
        stored.plan = plan
    _insert_seats(plan, seats)
    done = topup.summary(plan.problem, result)
    if done is not None:
        plan.scope = {**(plan.scope or {}), "topup": done}
    summary = result["summary"]
    plan.cost, plan.lower_bound_cost, plan.gap = (
        summary["cost"],
        summary["lower_bound_cost"],
        summary["gap"],
    )
    plan.seconds = summary.get("seconds")
    plan.prices = result.get("prices") or None
    members = {g["id"]: g["members"] for g in plan.problem["groups"]}
    excluded = [
        {
            "group": g["id"],
            "reason": "no common day in the members' departure windows",
            "workers": g["members"],
        }
        for g in plan.problem.get("excluded_groups", [])
    ]
    plan.unassigned = [
        {**u, "workers": members.get(u["group"], [])} for u in result["unassigned"]
    ] + excluded
    plan.status, plan.progress, plan.progress_message = t.PLAN_DRAFT, 1.0, ""
    base = db.session.get(Plan, plan.problem.get("base_plan") or 0)
    if base is not None and base.status == t.PLAN_DRAFT:
        base.status = t.PLAN_SUPERSEDED  # the re-plan replaces the draft it started from
    db.session.flush()


def _insert_seats(plan: Plan, seats: list[tuple[Trip, dict, set[str]]]) -> None:
    """The buses written, then their seats in one statement run over the rows (the driver's
    executemany, parsed once). As objects, a season's 100,000 seats were inserted in batches of
    multi-row VALUES with RETURNING, each batch's placeholders parsed anew: 20-25 s."""
    db.session.flush()
    rows = [
        {
            "plan_id": plan.id,
            "trip_id": trip.id,
            "seat_no": seat_no,
            "worker_id": int(member[1:]),
            "locked": member in locked,
        }
        for trip, taken, locked in seats
        for member, seat_no in sorted(taken.items(), key=lambda kv: kv[1])
    ]
    if rows:
        db.session.connection().execute(insert(SeatAssignment.__table__), rows)
    for trip, _, _ in seats:
        db.session.expire(trip, ["seats"])  # read from the rows when next asked for


def _store_trip(data: dict, sites: dict, coach_type: CoachType, departure: time, tz: str) -> Trip:
    day = date.fromisoformat(data["date"])
    start = datetime.combine(day, departure, tzinfo=ZoneInfo(tz))
    kinds = ["pickup" if stop["pickup"] else "dropoff" for stop in data["stops"]]
    legs = [0.0] + [
        planner_distance(sites[a["site"]], sites[b["site"]])
        for a, b in zip(data["stops"], data["stops"][1:], strict=False)
    ]
    times = stop_times(start, legs, kinds)
    trip = Trip(
        code=data["code"],
        date=day,
        departure_at=start,
        coach_type_id=coach_type.id,
        km=data["km"],
        cost=data["cost"],
        manifest_key=secrets.token_hex(8),
    )
    for seq, (stop, kind, km, eta) in enumerate(
        zip(data["stops"], kinds, legs, times, strict=True)
    ):
        trip.stops.append(
            TripStop(seq=seq, site_id=stop["site"], kind=kind, leg_km=round(km, 1), eta=eta)
        )
    return trip


def planner_distance(a: dict, b: dict) -> float:
    """A leg's km by the planner's own rule when no matrix is given (great circle × road factor)."""
    return road_km(a["lat"], a["lon"], b["lat"], b["lon"])


class _Original(NamedTuple):
    trip: Trip  # with its stops
    locked: set[str]  # members whose seat on it is locked


def _originals(ids: list[int]) -> dict[int, _Original]:
    """The published buses a top-up copies, with their stops, and the members of their locked
    seats: read at once (a season's 2,253 buses, each read with its seats when copied, and
    every read flushing the copies before it, took 66 s of storing its top-up)."""
    if not ids:
        return {}
    trips = db.session.scalars(
        select(Trip).where(Trip.id.in_(ids)).options(selectinload(Trip.stops))
    ).all()
    locked: dict[int, set[str]] = {t.id: set() for t in trips}
    for trip_id, worker_id in db.session.execute(
        select(SeatAssignment.trip_id, SeatAssignment.worker_id).where(
            SeatAssignment.trip_id.in_(ids), SeatAssignment.locked.is_(True)
        )
    ):
        locked[trip_id].add(f"w{worker_id}")
    return {t.id: _Original(t, locked[t.id]) for t in trips}


def _store_copy(data: dict, fixed: dict, originals: dict[int, _Original]) -> tuple[Trip, set[str]]:
    """A published bus in the draft: its code, coach type, stops and times; the members whose
    seat stays locked (locked on the live bus and kept by the result)."""
    original, kept = originals[fixed["published_trip"]]
    trip = Trip(
        code=original.code,
        date=original.date,
        departure_at=original.departure_at,
        coach_type_id=original.coach_type_id,
        km=data["km"],
        cost=data["cost"],
        locked=original.locked,
        # The coach, so that the draft and its notices show the plate the bus really has; not
        # the drivers: publishing tells them nothing new (their bus, time and stops stand).
        coach_id=original.coach_id,
        manifest_key=secrets.token_hex(8),
    )
    for stop in original.stops:
        trip.stops.append(
            TripStop(
                seq=stop.seq, site_id=stop.site_id, kind=stop.kind, leg_km=stop.leg_km, eta=stop.eta
            )
        )
    return trip, kept & set(fixed["seats"])
