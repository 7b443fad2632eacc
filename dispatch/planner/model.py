"""Plain data of the planner: a problem goes in, a plan comes out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

PROBLEM_FORMAT = "dispatch-problem/1"
PLAN_FORMAT = "dispatch-plan/1"
DEFAULT_ROAD_FACTOR = 1.25  # great-circle km times this, where matrix_km has no entry


class ProblemError(ValueError):
    """A malformed problem or plan; `faults` holds one line per fault."""

    def __init__(self, faults: list[str]) -> None:
        super().__init__("; ".join(faults))
        self.faults = list(faults)


@dataclass(frozen=True)
class Site:
    """A place a bus stops: a county pickup point or a drop-off site."""

    id: str
    kind: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class CoachType:
    """A kind of coach; `available` maps a date to a count, missing means unlimited."""

    id: str
    passenger_seats: int
    fixed_cost: float
    cost_per_km: float
    available: Mapping[date, int] | None = None

    def available_on(self, day: date) -> int | None:
        """Buses of this type on `day`, None when unlimited."""
        if self.available is None:
            return None
        return self.available.get(day)


@dataclass(frozen=True)
class Group:
    """People who travel together on one bus, never split."""

    id: str
    size: int
    pickup: str
    dropoff: str
    earliest: date
    latest: date
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    """Stop rules; None means no limit."""

    max_pickup_stops: int | None = 3
    max_dropoff_stops: int | None = 2
    max_dropoff_spread_km: float | None = 150.0


@dataclass(frozen=True)
class Stop:
    """One stop of a trip: who boards and who leaves there."""

    site: str
    pickup: tuple[str, ...] = ()
    dropoff: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trip:
    """One bus on one day with its stops in order and the seat of each member."""

    id: str
    date: date
    coach_type: str
    stops: tuple[Stop, ...]
    seats: Mapping[str, int]
    km: float
    cost: float

    def group_ids(self) -> tuple[str, ...]:
        """The groups picked up by this trip, in stop order."""
        return tuple(g for stop in self.stops for g in stop.pickup)


@dataclass(frozen=True)
class Unassigned:
    """A group the plan does not serve and why."""

    group: str
    reason: str


@dataclass(frozen=True)
class Summary:
    """Totals of a plan and how far from optimal it can at most be."""

    cost: float
    buses: int
    lower_bound_cost: float
    gap: float
    seconds: float


# (date, pickup site, drop-off site): a demand on a date, as Plan.prices keys it.
PriceKey = tuple[date, str, str]


@dataclass(frozen=True)
class Plan:
    """Trips, unserved groups and a summary; and, where column generation bounded the plan's
    groups and its LP converged, what that LP charges a seat of each demand on each date
    (lp/charges.py): an estimate that ranks the dearest demand, never a saving."""

    trips: tuple[Trip, ...]
    unassigned: tuple[Unassigned, ...]
    summary: Summary
    prices: Mapping[PriceKey, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """Sites, distances, fleet, demand, rules and locked trips."""

    sites: Mapping[str, Site]
    coach_types: Mapping[str, CoachType]
    groups: Mapping[str, Group]
    rules: Rules = Rules()
    road_factor: float = DEFAULT_ROAD_FACTOR
    matrix_km: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    fixed_trips: tuple[Trip, ...] = ()

    def max_seats(self) -> int:
        """Seats of the largest coach type."""
        return max((c.passenger_seats for c in self.coach_types.values()), default=0)
