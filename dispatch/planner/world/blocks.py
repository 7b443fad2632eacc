"""Demand in seats per commodity, and blocks of dates that no group's window joins.

A bus runs on one date and carries only groups whose window holds that date, so a plan splits
into independent blocks: the rebuilds work block by block and the bound adds up per block.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
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


def fewest_dates(world: World, groups: Iterable[str]) -> dict[Commodity | str, int]:
    """For each commodity, county and drop-off site of `groups` that must travel on more than one
    date: the fewest dates that meet every one of its groups' windows. A plan runs a bus carrying
    the commodity (stopping at the site) on each date one of those groups leaves, and those dates
    meet every window, so it runs at least that many such buses (a lower row of the pooled
    model's visit rows on a block of several dates). Groups that all may go on one date, as those
    of one date of a split block, give nothing. Windows are intervals, so taking the closing date
    of the window that closes first, and again among the windows it misses, is optimal."""
    windows: dict[Commodity | str, list[tuple[date, date]]] = {}
    for g in groups:
        grp = world.groups[g]
        for key in ((grp.pickup, grp.dropoff), grp.pickup, grp.dropoff):
            windows.setdefault(key, []).append((grp.latest, grp.earliest))
    out: dict[Commodity | str, int] = {}
    for key, spans in windows.items():
        met: date | None = None
        count = 0
        for latest, earliest in sorted(spans):
            if met is None or earliest > met:
                met, count = latest, count + 1
        if count > 1:
            out[key] = count
    return out


def commodity_visits(
    seats: Mapping[Commodity, int], biggest: int, least: Mapping[Commodity | str, int] | None = None
) -> dict[Commodity, int]:
    """Fewest buses whose pattern holds each commodity in any plan carrying `seats`: its seats
    over the largest coach's, rounded up; never fewer than `least` says (`fewest_dates`)."""
    least = least or {}
    return {e: max(-(-q // biggest), least.get(e, 0)) for e, q in seats.items()}


def site_visits(
    seats: Mapping[Commodity, int],
    biggest: int,
    max_pickups: int,
    max_drops: int,
    least: Mapping[Commodity | str, int] | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Fewest buses that stop at each county and at each drop-off site in any plan carrying
    `seats`: a site's seats over the largest coach's, and the sites it is paired with over the
    stops a bus may make at the other end, whichever is more, rounded up (the visit rows of
    lp/colgen.py and lp/cover.py); never fewer than `least` says (`fewest_dates`)."""
    least = least or {}
    county_seats: Counter[str] = Counter()
    drop_seats: Counter[str] = Counter()
    county_pairs: Counter[str] = Counter()
    drop_pairs: Counter[str] = Counter()
    for (county, drop), q in seats.items():
        county_seats[county] += q
        drop_seats[drop] += q
        county_pairs[county] += 1
        drop_pairs[drop] += 1
    counties = {
        c: max(-(-n // biggest), -(-county_pairs[c] // max_drops), least.get(c, 0))
        for c, n in county_seats.items()
    }
    drops = {
        d: max(-(-n // biggest), -(-drop_pairs[d] // max_pickups), least.get(d, 0))
        for d, n in drop_seats.items()
    }
    return counties, drops
