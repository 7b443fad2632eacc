"""A fast constructive plan: cheapest insertion, new buses where needed, then smaller coaches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from dispatch.planner.model import Group, Unassigned
from dispatch.planner.plan.trips import to_trip
from dispatch.planner.world.buses import Bus, DateIndex, World, free_seats, has_room, usage


def insert_groups(
    world: World, buses: list[Bus], groups: Iterable[str], keep_order: bool = False
) -> list[Unassigned]:
    """Put each group on the cheapest bus that can take it, opening buses as needed."""
    used = usage(buses)
    missed: list[Unassigned] = []
    order = (
        list(groups) if keep_order else sorted(groups, key=lambda g: _order_key(world.groups[g]))
    )
    room = {id(b): free_seats(world, b) for b in buses}
    index = DateIndex(buses)
    heading = _heading(world, buses)
    for gid in order:
        group = world.groups[gid]
        bus = best_insertion(world, buses, gid, room, index)
        if bus is not None:
            if not bus.groups:
                heading[(group.dropoff, bus.date)] += 1
            bus.groups.append(gid)
            room[id(bus)] -= group.size
            continue
        new = open_bus(world, buses, gid, used, heading)
        if new is None:
            missed.append(Unassigned(gid, no_coach_reason(world, group, used)))
            continue
        index.add(len(buses), new)
        buses.append(new)
        heading[(group.dropoff, new.date)] += 1
        room[id(new)] = free_seats(world, new)
        used[(new.coach, new.date)] += 1
    return missed


def _heading(world: World, buses: Iterable[Bus]) -> Counter[tuple[str, date]]:
    """Buses per (drop-off site of their first group, date): where a destination already goes."""
    return Counter((world.groups[b.groups[0]].dropoff, b.date) for b in buses if b.groups)


def by_county(world: World, groups: Iterable[str]) -> list[str]:
    """Tight windows first, then counties and drop-off sites in tour order, biggest first.

    The second construction: buses that pick up at few neighbouring counties, which suits lifted
    stop rules (the drop-off side is compact, the western counties are far apart).
    """
    rank = world.tour_rank()

    def key(gid: str) -> tuple[object, ...]:
        g = world.groups[gid]
        return (g.latest, g.earliest, rank[g.pickup], rank[g.dropoff], -g.size, g.id)

    return sorted(groups, key=key)


def _order_key(group: Group) -> tuple[object, ...]:
    """Tight windows first, then by destination and county so that buses fill together."""
    return (group.latest, group.earliest, group.dropoff, group.pickup, -group.size, group.id)


def best_insertion(
    world: World,
    buses: list[Bus],
    gid: str,
    room: dict[int, int] | None = None,
    index: DateIndex | None = None,
) -> Bus | None:
    """The open bus where `gid` adds least cost, within the rules and seats (`room`, when given,
    holds each bus's free seats by id, so that full buses are passed over at once; `index`, when
    given, offers only the buses of the group's window)."""
    group = world.groups[gid]
    best: tuple[float, int] | None = None
    for i in range(len(buses)) if index is None else index.within(group):
        bus = buses[i]
        if room is not None and room[id(bus)] < group.size:
            continue
        extra = insertion_cost(world, bus, group)
        if extra is not None and (best is None or extra < best[0]):
            best = (extra, i)
    return buses[best[1]] if best else None


def insertion_cost(world: World, bus: Bus, group: Group) -> float | None:
    """Added cost of `group` on `bus`, None when not allowed."""
    coach = world.problem.coach_types[bus.coach]
    if not group.earliest <= bus.date <= group.latest:
        return None
    if world.load(bus.groups) + group.size > coach.passenger_seats:
        return None
    if bus.fixed_id is not None:
        return 0.0 if fixed_takes(world, bus, group) else None
    pickups, drops = world.sites(bus.groups)
    new_p, new_d = pickups | {group.pickup}, drops | {group.dropoff}
    if not world.allowed(new_p, new_d):
        return None
    return world.cost(coach, new_p, new_d) - world.cost(coach, pickups, drops)


def fixed_takes(world: World, bus: Bus, group: Group) -> bool:
    """A fixed bus takes a group at its own stops, when everyone can still sit as they do."""
    if not world.joins_route(bus, group):
        return False
    trial = Bus(bus.date, bus.coach, [*bus.groups, group.id], bus.fixed_id, bus.locked_seats)
    return to_trip(world, trial, "x") is not None


def window(group: Group) -> list[date]:
    """Every date a group may leave."""
    return [
        group.earliest + timedelta(days=i) for i in range((group.latest - group.earliest).days + 1)
    ]


def open_bus(
    world: World,
    buses: list[Bus],
    gid: str,
    used: Counter[tuple[str, date]],
    heading: Counter[tuple[str, date]] | None = None,
) -> Bus | None:
    """A new bus of the largest type with room, on the window date where the same destination
    already goes (`heading`, when given, counts those buses as _heading does)."""
    group = world.groups[gid]
    going = _heading(world, buses) if heading is None else heading
    for day in sorted(window(group), key=lambda d: (-going[(group.dropoff, d)], d)):
        for coach in reversed(world.coaches):
            if coach.passenger_seats >= group.size and has_room(world, coach, day, used):
                return Bus(day, coach.id, [gid])
    return None


def no_coach_reason(world: World, group: Group, used: Counter[tuple[str, date]]) -> str:
    """Why no bus could be opened for a group, in words a coordinator can act on."""
    days = window(group)
    span = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}"
    big = [c for c in world.coaches if c.passenger_seats >= group.size]
    if any(has_room(world, c, d, used) for c in world.coaches for d in days):
        return f"no coach with {group.size} seats left on {span}"
    return f"no coach left on {span}" if big else f"no coach with {group.size} seats"


def downsize(world: World, buses: list[Bus]) -> None:
    """Give each free bus the cheapest coach type that seats its load and has room that day."""
    used = usage(buses)
    for bus in buses:
        if bus.fixed_id is not None:
            continue
        load, sites = world.load(bus.groups), world.sites(bus.groups)
        used[(bus.coach, bus.date)] -= 1
        fits = [
            c
            for c in world.coaches
            if c.passenger_seats >= load and has_room(world, c, bus.date, used)
        ]
        if fits:
            bus.coach = min(fits, key=lambda c: (world.cost(c, *sites), c.id)).id
        used[(bus.coach, bus.date)] += 1
