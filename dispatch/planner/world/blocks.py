"""Demand in seats per commodity, and blocks of dates that no group's window joins.

A bus runs on one date and carries only groups whose window holds that date, so a plan splits
into independent blocks: the rebuilds work block by block and the bound adds up per block.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from dispatch.planner.world.buses import World

Commodity = tuple[str, str]  # (pickup site, drop-off site)
Block = tuple[tuple[date, ...], frozenset[str]]


def blocks(world: World, groups: Iterable[str]) -> list[Block]:
    """Dates joined by group windows, each with its groups."""
    spans = sorted((world.groups[g].earliest, world.groups[g].latest, g) for g in groups)
    out: list[tuple[date, date, list[str]]] = []
    for early, late, g in spans:
        if out and early <= out[-1][1]:
            first, last, members = out[-1]
            members.append(g)  # in place: a season's block holds tens of thousands of groups
            if late > last:
                out[-1] = (first, late, members)
        else:
            out.append((early, late, [g]))
    return [(_days(a, b), frozenset(gs)) for a, b, gs in out]


def _days(first: date, last: date) -> tuple[date, ...]:
    """Every date from first to last."""
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def pooled_caps(world: World, days: Iterable[date]) -> dict[str, int | None]:
    """Availability of each coach type summed over the days; None when unlimited on any."""
    caps: dict[str, int | None] = {}
    for coach in world.coaches:
        counts = [coach.available_on(d) for d in days]
        caps[coach.id] = None if any(n is None for n in counts) else sum(counts)  # type: ignore[misc]
    return caps


def demand(world: World, groups: Iterable[str]) -> Counter[Commodity]:
    """Seats per county → drop-off commodity."""
    seats: Counter[Commodity] = Counter()
    for g in groups:
        grp = world.groups[g]
        seats[(grp.pickup, grp.dropoff)] += grp.size
    return seats
