"""Plans as the database stores them, read back for the planner's checker."""

from __future__ import annotations

from dispatch import planner
from dispatch.models import Plan


def plan_from_rows(plan: Plan) -> planner.Plan:
    """Rebuild the planner's plan from the stored trips, to score it with the checker."""
    by_member = {m: g["id"] for g in plan.problem["groups"] for m in g["members"]}
    trips = []
    for trip in plan.trips:
        seats = {f"w{s.worker_id}": s.seat_no for s in trip.seats}
        groups = {by_member[m] for m in seats}
        stops = []
        for stop in trip.stops:
            here = sorted(
                g
                for g in groups
                if group_of(plan, g)["pickup" if stop.kind == "pickup" else "dropoff"]
                == stop.site_id
            )
            stops.append(
                {
                    "site": stop.site_id,
                    "pickup": here if stop.kind == "pickup" else [],
                    "dropoff": here if stop.kind == "dropoff" else [],
                }
            )
        trips.append(
            {
                "id": trip.code,
                "date": trip.date.isoformat(),
                "coach_type": trip.coach_type_id,
                "stops": stops,
                "seats": seats,
                "km": trip.km,
                "cost": trip.cost,
            }
        )
    summary = {
        "cost": plan.cost,
        "buses": len(trips),
        "lower_bound_cost": plan.lower_bound_cost,
        "gap": plan.gap,
        "seconds": plan.seconds or 0,
    }
    unassigned = [{"group": u["group"], "reason": u["reason"]} for u in plan.unassigned]
    return planner.plan_from_dict(
        {"format": "dispatch-plan/1", "trips": trips, "unassigned": unassigned, "summary": summary}
    )


def group_of(plan: Plan, group_id: str) -> dict:
    return next(g for g in plan.problem["groups"] if g["id"] == group_id)
