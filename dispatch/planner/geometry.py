"""Old home of the distance rule, kept only until dispatch/services/planning.py imports
dispatch.planner.cost.trip_km_and_cost (or world.distances.road_km) instead; then delete it."""

from __future__ import annotations

from dispatch.planner.world.distances import great_circle_km

__all__ = ["great_circle_km"]
