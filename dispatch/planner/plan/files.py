"""Plan files (PLANNER_FORMAT.md) to and from plain data."""

from __future__ import annotations

from datetime import date
from typing import Any

from dispatch.planner.model import PLAN_FORMAT, Plan, PriceKey, ProblemError, Summary, Unassigned
from dispatch.planner.problem.trips import trip_from_dict, trip_to_dict, whole_number


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
        "prices": [
            {"date": day.isoformat(), "pickup": pickup, "dropoff": dropoff, "per_seat": round(v, 2)}
            for (day, pickup, dropoff), v in sorted(plan.prices.items())
        ],
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
    prices = [
        _read(price_from_dict, p, f"prices[{i}]", faults)
        for i, p in enumerate(_list(data, "prices", faults))
    ]
    if faults:
        raise ProblemError(faults)
    return Plan(trips=trips, unassigned=unassigned, summary=summary, prices=dict(prices))


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


def _unassigned_from_dict(data: dict[str, Any]) -> Unassigned:
    """One unassigned entry."""
    return Unassigned(group=str(data["group"]), reason=str(data.get("reason", "")))


def price_from_dict(data: dict[str, Any]) -> tuple[PriceKey, float]:
    """One entry of `prices` (as the plan file and the stored plan keep it): a demand on a
    date and its price per seat."""
    day = date.fromisoformat(data["date"])
    return (day, str(data["pickup"]), str(data["dropoff"])), float(data["per_seat"])


def _summary_from_dict(data: dict[str, Any]) -> Summary:
    """The summary block."""
    return Summary(
        cost=float(data["cost"]),
        buses=whole_number(data["buses"]),
        lower_bound_cost=float(data["lower_bound_cost"]),
        gap=float(data["gap"]),
        seconds=float(data.get("seconds", 0.0)),
    )
