"""Working buses while solving, and the World: a problem with its distances and the questions
every stage asks of it (sites, seats, stop rules, cost)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.cost import bus_cost
from dispatch.planner.model import CoachType, Group, Problem
from dispatch.planner.world.distances import Distances


@dataclass
class Bus:
    """A bus being filled: mutable while solving, never leaves the planner."""

    date: date
    coach: str
    groups: list[str] = field(default_factory=list)
    fixed_id: str | None = None
    locked_seats: dict[str, int] = field(default_factory=dict)
    locked_groups: frozenset[str] = frozenset()


class World:
    """A problem with its distances: the questions every solver stage asks."""

    def __init__(self, problem: Problem, dist: Distances | None = None) -> None:
        self.problem = problem
        self.dist = dist or Distances(problem)
        self.rules = problem.rules
        self.groups = problem.groups
        self._memo: dict[tuple[str, ...], tuple[frozenset[str], frozenset[str], int]] = {}
        self.coaches = sorted(
            problem.coach_types.values(), key=lambda c: (c.passenger_seats, c.fixed_cost, c.id)
        )
        # A fixed trip keeps its stops (sites and order): a published bus's route does not change.
        self.routes = {t.id: tuple(s.site for s in t.stops) for t in problem.fixed_trips}

    def route(self, bus: Bus) -> tuple[str, ...] | None:
        """The stops a fixed bus keeps, in order; None for a bus the planner routes."""
        return self.routes.get(bus.fixed_id) if bus.fixed_id is not None else None

    def tour_rank(self) -> dict[str, int]:
        """Each site's place on a nearest-neighbour tour of the pickup sites, then the drop-offs."""
        km = self.dist.km
        rank: dict[str, int] = {}
        for kind in ("pickup", "dropoff"):
            left = sorted(s for s, site in self.problem.sites.items() if site.kind == kind)
            at = left[0] if left else None
            while left:
                left.remove(at)
                rank[at] = len(rank)
                if left:
                    at = min(left, key=lambda s, a=at: (km[a][s], s))
        return rank

    def sites(self, groups: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Pickup and drop-off sites of some groups."""
        return self._profile(groups)[:2]  # type: ignore[return-value]

    def _profile(self, groups: Iterable[str]) -> tuple[frozenset[str], frozenset[str], int]:
        """Sites and seats of some groups, remembered: the searches ask about the same buses often."""
        key = tuple(groups)
        hit = self._memo.get(key)
        if hit is None:
            gs = [self.groups[g] for g in key]
            hit = (
                frozenset(g.pickup for g in gs),
                frozenset(g.dropoff for g in gs),
                sum(g.size for g in gs),
            )
            if len(self._memo) > tuning.SITES_MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = hit
        return hit

    def allowed(self, pickups: frozenset[str], drops: frozenset[str], spare_drops: int = 0) -> bool:
        """Stop counts and drop-off spread within the rules (``spare_drops`` drop-offs over the
        limit allowed: a suggestion's exception for one bus, planner/advice.py)."""
        r = self.rules
        if r.max_pickup_stops is not None and len(pickups) > r.max_pickup_stops:
            return False
        if r.max_dropoff_stops is not None and len(drops) > r.max_dropoff_stops + spare_drops:
            return False
        return self.spread_ok(drops)

    def spread_ok(self, drops: Iterable[str]) -> bool:
        """Every two drop-off sites within the spread limit."""
        limit = self.rules.max_dropoff_spread_km
        if limit is None:
            return True
        ds = sorted(drops)
        km = self.dist.km
        return all(max(km[a][b], km[b][a]) <= limit for i, a in enumerate(ds) for b in ds[i + 1 :])

    def route_km(self, pickups: frozenset[str], drops: frozenset[str]) -> float:
        """Shortest km for these stops in the rules' order."""
        return self.dist.order.best(pickups, drops)[1]

    def cost(self, coach: CoachType, pickups: frozenset[str], drops: frozenset[str]) -> float:
        """Cost of one bus of `coach` over these stops."""
        return bus_cost(coach, self.route_km(pickups, drops))

    def load(self, groups: Iterable[str]) -> int:
        """Seats taken by some groups."""
        return self._profile(groups)[2]

    def fits_window(self, groups: Iterable[str], day: date) -> bool:
        """`day` lies in every group's window."""
        return all(self.groups[g].earliest <= day <= self.groups[g].latest for g in groups)

    def bus_cost(self, bus: Bus) -> float:
        """Current cost of a working bus (a fixed bus: along its kept stops)."""
        coach = self.problem.coach_types[bus.coach]
        route = self.route(bus)
        if route:
            return bus_cost(coach, self.dist.path_km(list(route)))
        return self.cost(coach, *self.sites(bus.groups))

    def joins_route(self, bus: Bus, group: Group) -> bool:
        """A fixed bus already stops at the group's pickup and drop-off (joining costs nothing)."""
        route = self.route(bus)
        if route is None:
            pickups, drops = self.sites(bus.groups)
            return {group.pickup, group.dropoff} <= pickups | drops
        return group.pickup in route and group.dropoff in route


def free_seats(world: World, bus: Bus) -> int:
    """Seats still free on a working bus."""
    return world.problem.coach_types[bus.coach].passenger_seats - world.load(bus.groups)


def usage(buses: Iterable[Bus]) -> Counter[tuple[str, date]]:
    """Buses per coach type and date."""
    return Counter((b.coach, b.date) for b in buses)


def has_room(world: World, coach: CoachType, day: date, used: Counter[tuple[str, date]]) -> bool:
    """Another bus of this type may run on `day`."""
    limit = coach.available_on(day)
    return limit is None or used[(coach.id, day)] < limit


class DateIndex:
    """Where the buses of each date stand in a list of buses, so that a group is offered only
    the buses of its window (a season has thousands of buses, a group's window holds a few
    dates). Indices ascend within a date, so a scan in index order breaks ties as a scan of the
    whole list would."""

    def __init__(self, buses: Iterable[Bus]) -> None:
        self.at: dict[date, list[int]] = {}
        for i, bus in enumerate(buses):
            self.at.setdefault(bus.date, []).append(i)

    def add(self, i: int, bus: Bus) -> None:
        """Bus `i`, appended to the list (so above every index of its date)."""
        self.at.setdefault(bus.date, []).append(i)

    def within(self, group: Group) -> list[int]:
        """Indices of the buses on the dates of a group's window, ascending."""
        if group.earliest == group.latest:
            return self.at.get(group.earliest, [])
        out = [
            i for day, idx in self.at.items() if group.earliest <= day <= group.latest for i in idx
        ]
        out.sort()
        return out


def copy_buses(buses: list[Bus]) -> list[Bus]:
    """Working copies that later moves cannot change."""
    return [
        Bus(b.date, b.coach, list(b.groups), b.fixed_id, b.locked_seats, b.locked_groups)
        for b in buses
    ]


def plan_cost(world: World, buses: list[Bus]) -> float:
    """Total cost of the working buses."""
    return sum(world.bus_cost(b) for b in buses if b.groups or b.fixed_id)
