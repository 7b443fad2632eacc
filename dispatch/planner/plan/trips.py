"""Working buses into the plan's trips: stops in their best order, seats, km and cost; new trip
ids for the plan."""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.planner.cost import bus_cost
from dispatch.planner.model import Group, Stop, Trip
from dispatch.planner.plan.seats import assign_seats
from dispatch.planner.world.buses import Bus, World


def to_trip(world: World, bus: Bus, trip_id: str) -> Trip | None:
    """The trip of a working bus, stops in best order and seats; None when seats cannot be given."""
    coach = world.problem.coach_types[bus.coach]
    order = world.route(bus) or world.dist.order.best(*world.sites(bus.groups))[0]
    stops = stops_at(world, order, bus.groups)
    by_drop = [[world.groups[g] for g in s.dropoff] for s in stops if s.dropoff]
    seats = assign_seats(by_drop, coach.passenger_seats, bus.locked_seats)
    if seats is None:
        return None
    km = world.dist.path_km(order)
    return Trip(
        bus.fixed_id or trip_id,
        bus.date,
        coach.id,
        stops,
        seats,
        km,
        bus_cost(coach, km),
    )


def stops_at(world: World, order: Iterable[str], gids: Iterable[str]) -> tuple[Stop, ...]:
    """Stops at the sites in ``order``, each with the groups boarding and leaving there (by id)."""
    groups: list[Group] = sorted((world.groups[g] for g in gids), key=lambda g: g.id)
    return tuple(
        Stop(
            site,
            tuple(g.id for g in groups if g.pickup == site),
            tuple(g.id for g in groups if g.dropoff == site),
        )
        for site in order
    )


def number_trips(world: World, buses: list[Bus]) -> list[Trip]:
    """Trips in date order; new ids T1, T2, … skipping locked ids."""
    taken = {b.fixed_id for b in buses if b.fixed_id}
    counter = 0
    trips = []
    for bus in sorted((b for b in buses if b.groups or b.fixed_id), key=_bus_key):
        trip_id = bus.fixed_id
        while trip_id is None or (bus.fixed_id is None and trip_id in taken):
            counter += 1
            trip_id = f"T{counter}"
        trip = to_trip(world, bus, trip_id)
        assert trip is not None, "seats of a working bus were checked when it was filled"
        trips.append(trip)
    return trips


def _bus_key(bus: Bus) -> tuple[object, ...]:
    """Stable order: date, then destination, then county, then groups."""
    return (bus.date, bus.fixed_id is None, sorted(bus.groups))
