"""What a bus costs: its coach type's fixed cost plus its cost per km times the km it drives.

``bus_cost`` is the one place this formula is written; every stage calls it, the plan's trips,
the checker and the lower-bound proofs included (a bound prices a bus at the km of its shortest
stop order, which is why it stays below any real bus). ``bus_costs`` is the same for a numpy
array of km (column generation prices thousands of patterns at once).

``trip_km_and_cost`` is for callers outside the planner (the web app's stored trips): the km
and cost of a trip from its coach type's two prices and its stops' coordinates in order, by the
planner's own distance rule (great circle × road factor, 1.25 unless the problem says else).

Imports dispatch.planner.model and the distance rule of world/distances.py; anything may import
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np

from dispatch.planner.model import DEFAULT_ROAD_FACTOR
from dispatch.planner.world.distances import road_km


class Priced(Protocol):
    """Anything with a coach type's two prices (the planner's CoachType, or the web app's)."""

    @property
    def fixed_cost(self) -> float: ...

    @property
    def cost_per_km(self) -> float: ...


class Rates(NamedTuple):
    """A coach type's two prices on their own."""

    fixed_cost: float
    cost_per_km: float


def bus_cost(coach: Priced, km: float) -> float:
    """Cost of one bus of `coach` driving `km`."""
    return coach.fixed_cost + coach.cost_per_km * km


def bus_costs(coach: Priced, km: np.ndarray) -> np.ndarray:
    """`bus_cost` for an array of km, element by element (the same formula, run by numpy)."""
    return np.asarray(bus_cost(coach, km))  # type: ignore[arg-type]


def trip_km_and_cost(
    fixed_cost: float,
    cost_per_km: float,
    stops: Sequence[tuple[float, float]],
    road_factor: float = DEFAULT_ROAD_FACTOR,
) -> tuple[float, float]:
    """Km and cost of a trip through `stops` ((lat, lon) in stop order), unrounded.

    The km are the planner's rule without a matrix: each leg's great-circle km times
    `road_factor`; the cost is `bus_cost`. A plan file rounds km to 3 places and cost to 2.
    """
    km = sum(
        road_km(a[0], a[1], b[0], b[1], road_factor) for a, b in zip(stops, stops[1:], strict=False)
    )
    return km, bus_cost(Rates(float(fixed_cost), float(cost_per_km)), km)
