"""Seat waiting groups in the free seats of fixed trips first: a published bus already runs, so a
group that boards and alights at its existing stops rides it for nothing (route, km and cost do not
change). Best fit by decreasing size: big groups claim the seats they need before small ones take
them, and each goes to the fixed bus it fills most tightly."""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.planner.construct.greedy import fixed_takes
from dispatch.planner.world.buses import Bus, World, free_seats


def fill_fixed(world: World, buses: list[Bus], groups: Iterable[str]) -> list[str]:
    """Put what fits onto the fixed buses among ``buses``; returns the groups seated, in order."""
    fixed = [b for b in buses if b.fixed_id is not None]
    if not fixed:
        return []
    room = {id(b): free_seats(world, b) for b in fixed}
    seated = []
    for gid in sorted(groups, key=lambda g: _size_first(world, g)):
        bus = _tightest(world, fixed, gid, room)
        if bus is not None:
            bus.groups.append(gid)
            room[id(bus)] -= world.groups[gid].size
            seated.append(gid)
    return seated


def _size_first(world: World, gid: str) -> tuple[object, ...]:
    group = world.groups[gid]
    return (-group.size, group.latest, group.earliest, group.id)


def _tightest(world: World, fixed: list[Bus], gid: str, room: dict[int, int]) -> Bus | None:
    """The fixed bus on a date of the group's window, at its stops, with the fewest seats left."""
    group = world.groups[gid]
    best: tuple[int, object, str] | None = None
    found = None
    for bus in fixed:
        left = room[id(bus)] - group.size
        if left < 0 or not group.earliest <= bus.date <= group.latest:
            continue
        key = (left, bus.date, bus.fixed_id or "")
        if (best is None or key < best) and fixed_takes(world, bus, group):
            best, found = key, bus
    return found
