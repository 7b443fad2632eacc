"""Seat numbers: a group together, pairs side by side, first off nearest the door."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dispatch.planner.model import Group


def assign_seats(
    groups_by_drop: Sequence[Sequence[Group]], seats_n: int, locked: Mapping[str, int]
) -> dict[str, int] | None:
    """Seats for every member; groups listed per drop-off stop in stop order. None if they cannot sit together."""
    taken = set(locked.values())
    free = [n > 0 and n not in taken for n in range(seats_n + 1)]
    seats = dict(locked)
    todo = [
        [g for g in stop if g.members and not any(m in locked for m in g.members)]
        for stop in groups_by_drop
    ]
    plain = [g for stop in todo for g in stop]
    for order, align in (
        (_aligned(todo), True),
        (plain, False),
        (sorted(plain, key=lambda g: -g.size), False),
    ):
        placed = _first_fit(order, list(free), align)
        if placed is not None:
            seats.update(placed)
            return seats
    return None


def _aligned(stops: list[list[Group]]) -> list[Group]:
    """Per stop, alternate even and odd sizes so that pairs start on a row's aisle pair."""
    order: list[Group] = []
    seat = 1
    for stop in stops:
        evens = sorted((g for g in stop if g.size % 2 == 0), key=lambda g: (-g.size, g.id))
        odds = sorted((g for g in stop if g.size % 2 == 1), key=lambda g: (-g.size, g.id))
        while evens or odds:
            pick = evens if (seat % 2 == 1 and evens) or not odds else odds
            group = pick.pop(0)
            order.append(group)
            seat += group.size
    return order


def _first_fit(order: list[Group], free: list[bool], align: bool) -> dict[str, int] | None:
    """Each group on the lowest run of free consecutive seats, odd start preferred for pairs."""
    seats: dict[str, int] = {}
    for group in order:
        start = _run(free, group.size, prefer_odd=align and group.size % 2 == 0)
        if start is None:
            return None
        for i, member in enumerate(group.members):
            seats[member] = start + i
            free[start + i] = False
    return seats


def _run(free: list[bool], size: int, prefer_odd: bool) -> int | None:
    """Lowest start of `size` free seats in a row of numbers."""
    starts = [s for s in range(1, len(free) - size + 1) if all(free[s : s + size])]
    if prefer_odd:
        odd = [s for s in starts if s % 2 == 1]
        if odd and (not starts or odd[0] - starts[0] <= 1):
            return odd[0]
    return starts[0] if starts else None
