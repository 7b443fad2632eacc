"""The trip form that problems (locked trips) and plans share (PLANNER_FORMAT.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from dispatch.planner.model import Stop, Trip


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
    seats = {str(m): whole_number(n) for m, n in dict(data.get("seats", {})).items()}
    return Trip(
        id=str(data["id"]),
        date=date.fromisoformat(data["date"]),
        coach_type=str(data["coach_type"]),
        stops=stops,
        seats=seats,
        km=float(data.get("km", 0.0)),
        cost=float(data.get("cost", 0.0)),
    )


def whole_number(value: Any) -> int:
    """An integer that is not a bool or a float in disguise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value
