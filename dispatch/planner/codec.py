"""Problem and plan files (PLANNER_FORMAT.md) to and from plain data."""

from __future__ import annotations

from datetime import date
from typing import Any

from dispatch.planner.model import (
    PLAN_FORMAT,
    PROBLEM_FORMAT,
    CoachType,
    Plan,
    Problem,
    ProblemError,
    Rules,
    Stop,
    Summary,
    Trip,
    Unassigned,
)
from dispatch.planner.validate import Faults, parse_problem


def load_problem(data: dict[str, Any]) -> Problem:
    """Validate a problem dict; raise ProblemError with one line per fault."""
    faults = Faults()
    problem = parse_problem(data, faults)
    if faults.lines or problem is None:
        raise ProblemError(faults.lines or ["problem: not readable"])
    return problem


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The problem in its file form."""
    return {
        "format": PROBLEM_FORMAT,
        "sites": [
            {"id": s.id, "kind": s.kind, "name": s.name, "lat": s.lat, "lon": s.lon}
            for s in problem.sites.values()
        ],
        "distance": {"road_factor": problem.road_factor},
        "matrix_km": {a: dict(row) for a, row in problem.matrix_km.items()},
        "coach_types": [_coach_to_dict(c) for c in problem.coach_types.values()],
        "groups": [
            {
                "id": g.id,
                "size": g.size,
                "pickup": g.pickup,
                "dropoff": g.dropoff,
                "earliest": g.earliest.isoformat(),
                "latest": g.latest.isoformat(),
                "members": list(g.members),
            }
            for g in problem.groups.values()
        ],
        "rules": _rules_to_dict(problem.rules),
        "fixed_trips": [trip_to_dict(t) for t in problem.fixed_trips],
    }


def _coach_to_dict(coach: CoachType) -> dict[str, Any]:
    """One coach type in its file form."""
    out: dict[str, Any] = {
        "id": coach.id,
        "passenger_seats": coach.passenger_seats,
        "fixed_cost": coach.fixed_cost,
        "cost_per_km": coach.cost_per_km,
    }
    if coach.available is not None:
        out["available"] = {d.isoformat(): n for d, n in sorted(coach.available.items())}
    return out


def _rules_to_dict(rules: Rules) -> dict[str, Any]:
    """The rules in their file form."""
    return {
        "max_pickup_stops": rules.max_pickup_stops,
        "max_dropoff_stops": rules.max_dropoff_stops,
        "max_dropoff_spread_km": rules.max_dropoff_spread_km,
    }


def trip_to_dict(trip: Trip) -> dict[str, Any]:
    """One trip in its file form."""
    return {
        "id": trip.id,
        "date": trip.date.isoformat(),
        "coach_type": trip.coach_type,
        "stops": [
            {"site": s.site, "pickup": list(s.pickup), "dropoff": list(s.dropoff)}
            for s in trip.stops
        ],
        "seats": dict(trip.seats),
        "km": round(trip.km, 3),
        "cost": round(trip.cost, 2),
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan in its file form."""
    s = plan.summary
    return {
        "format": PLAN_FORMAT,
        "trips": [trip_to_dict(t) for t in plan.trips],
        "unassigned": [{"group": u.group, "reason": u.reason} for u in plan.unassigned],
        "summary": {
            "cost": round(s.cost, 2),
            "buses": s.buses,
            "lower_bound_cost": round(s.lower_bound_cost, 2),
            "gap": round(s.gap, 6),
            "seconds": round(s.seconds, 3),
        },
    }


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """Read a plan dict; raise ProblemError when it is not in the plan form."""
    faults: list[str] = []
    if not isinstance(data, dict):
        raise ProblemError(["plan: not a JSON object"])
    if data.get("format", PLAN_FORMAT) != PLAN_FORMAT:
        faults.append(f"plan: format {data.get('format')!r} is not {PLAN_FORMAT!r}")
    trips = tuple(
        _read(trip_from_dict, t, f"trips[{i}]", faults)
        for i, t in enumerate(_list(data, "trips", faults))
    )
    unassigned = tuple(
        _read(_unassigned_from_dict, u, f"unassigned[{i}]", faults)
        for i, u in enumerate(_list(data, "unassigned", faults))
    )
    summary = _read(_summary_from_dict, data.get("summary", {}), "summary", faults)
    if faults:
        raise ProblemError(faults)
    return Plan(trips=trips, unassigned=unassigned, summary=summary)


def _list(data: dict[str, Any], key: str, faults: list[str]) -> list[Any]:
    """A list under `key`, or an empty one with a fault."""
    value = data.get(key, [])
    if not isinstance(value, list):
        faults.append(f"plan: {key} is not a list")
        return []
    return value


def _read(reader: Any, value: Any, where: str, faults: list[str]) -> Any:
    """Apply `reader`, turning a KeyError/TypeError/ValueError into a fault line."""
    try:
        return reader(value)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        faults.append(f"{where}: not readable ({type(exc).__name__}: {exc})")
        return None


def trip_from_dict(data: dict[str, Any]) -> Trip:
    """One trip from its file form; raises KeyError/TypeError/ValueError when malformed."""
    stops = tuple(
        Stop(
            site=str(s["site"]),
            pickup=tuple(map(str, s.get("pickup", []))),
            dropoff=tuple(map(str, s.get("dropoff", []))),
        )
        for s in data["stops"]
    )
    seats = {str(m): _int(n) for m, n in dict(data.get("seats", {})).items()}
    return Trip(
        id=str(data["id"]),
        date=date.fromisoformat(data["date"]),
        coach_type=str(data["coach_type"]),
        stops=stops,
        seats=seats,
        km=float(data.get("km", 0.0)),
        cost=float(data.get("cost", 0.0)),
    )


def _int(value: Any) -> int:
    """An integer that is not a bool or a float in disguise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value


def _unassigned_from_dict(data: dict[str, Any]) -> Unassigned:
    """One unassigned entry."""
    return Unassigned(group=str(data["group"]), reason=str(data.get("reason", "")))


def _summary_from_dict(data: dict[str, Any]) -> Summary:
    """The summary block."""
    return Summary(
        cost=float(data["cost"]),
        buses=_int(data["buses"]),
        lower_bound_cost=float(data["lower_bound_cost"]),
        gap=float(data["gap"]),
        seconds=float(data.get("seconds", 0.0)),
    )
