"""Problem files (PLANNER_FORMAT.md) to and from plain data (the trip form that problems and
plans share is in trips.py)."""

from __future__ import annotations

from typing import Any

from dispatch.planner.model import (
    PROBLEM_FORMAT,
    CoachType,
    Problem,
    ProblemError,
    Rules,
)
from dispatch.planner.problem.trips import trip_to_dict
from dispatch.planner.problem.validate import Faults, parse_problem


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
