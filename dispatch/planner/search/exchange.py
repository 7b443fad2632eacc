"""Stop exchanges: a bus hands every group of one of its stops to another bus and takes back a few
of that bus's groups that ride within its remaining stops.

When buses are full (stop rules lifted, seats tight), neither relocating a group nor trading one
group for one can take a stop off a bus: the groups at a stop often add up to more seats than any
single group elsewhere. The exchange moves the stop's whole party and pays for it in seats with
up to tuning.MAX_BACK (4) groups of the receiving bus, chosen among those whose pickup and
drop-off the giving bus still serves, so the giving bus loses a stop and gains none. Coach types
stay as they are; locked trips take no part.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.model import CoachType, Group
from dispatch.planner.world.buses import Bus, World, free_seats


def exchange_pass(
    world: World, buses: list[Bus], deadline: float, only: list[Bus] | None = None
) -> bool:
    """Apply the best exchange for every stop of every bus (or of `only`) while one saves; True
    when one did."""
    changed = False
    views = {id(b): _view(world, b) for b in buses if b.fixed_id is None and b.groups}
    on_day: dict[date, list[tuple[int, int]]] = {}
    for rank, (key, view) in enumerate(views.items()):  # in the buses' order
        on_day.setdefault(view.bus.date, []).append((rank, key))
    for a in buses if only is None else only:
        if a.fixed_id is not None:
            continue
        while a.groups and time.monotonic() < deadline:
            b = _best_exchange(world, _reachable(world, a, views, on_day), a)
            if b is None:
                break
            views[id(a)], views[id(b)] = _view(world, a), _view(world, b)
            changed = True
    return changed


def _reachable(
    world: World, a: Bus, views: dict[int, _Other], on_day: dict[date, list[tuple[int, int]]]
) -> list[_Other]:
    """The buses on the dates some group of `a` may leave on (no party can go anywhere else),
    in the buses' order."""
    gs = [world.groups[g] for g in a.groups]
    first, last = min(g.earliest for g in gs), max(g.latest for g in gs)
    if first == last:
        return [views[k] for _, k in on_day.get(first, [])]
    keys = sorted(rk for day, rks in on_day.items() if first <= day <= last for rk in rks)
    return [views[k] for _, k in keys]


def _parties(world: World, bus: Bus) -> list[tuple[str, ...]]:
    """The groups boarding at each pickup stop and leaving at each drop-off stop, in a fixed order."""
    by_stop: dict[tuple[str, str], list[str]] = {}
    for g in sorted(bus.groups):
        grp = world.groups[g]
        by_stop.setdefault(("p", grp.pickup), []).append(g)
        by_stop.setdefault(("d", grp.dropoff), []).append(g)
    return [tuple(by_stop[k]) for k in sorted(by_stop)]


@dataclass
class _Other:
    """A bus that may receive a party, as the exchange reads it."""

    bus: Bus
    groups: list[Group]
    coach: CoachType
    seats_free: int
    cost: float
    pickups: Counter[str]
    drops: Counter[str]
    sites: frozenset[str]


def _view(world: World, bus: Bus) -> _Other:
    """A bus as the exchange reads it."""
    coach = world.problem.coach_types[bus.coach]
    gs = [world.groups[g] for g in bus.groups]
    picks, drops = Counter(g.pickup for g in gs), Counter(g.dropoff for g in gs)
    sites = frozenset(picks) | frozenset(drops)
    return _Other(bus, gs, coach, free_seats(world, bus), world.bus_cost(bus), picks, drops, sites)


@dataclass
class _Party:
    """The groups of one of a's stops, and what a becomes without them."""

    groups: tuple[str, ...]
    size: int
    pickups: frozenset[str]  # the party's own sites
    drops: frozenset[str]
    first: date  # the dates every group of the party may leave on
    last: date
    rest_pickups: frozenset[str]  # a's stops without the party
    rest_drops: frozenset[str]
    saved: float  # what a saves by letting the party go
    room: int  # a's free seats without the party
    day: date  # a's date


def _best_exchange(world: World, others: Iterable[_Other], a: Bus) -> Bus | None:
    """Apply the cheapest exchange of one of a's stops with another bus; the other bus, or None
    when none saves.

    Only buses that already stop at one of the party's sites are asked. The groups taken back
    ride within a's remaining stops, so a's new cost is known before any bus is looked at.
    """
    coach_a = world.problem.coach_types[a.coach]
    base_a = world.bus_cost(a)
    best: tuple[float, Bus, tuple[str, ...], tuple[str, ...]] | None = None
    for groups in _parties(world, a):
        if len(groups) == len(a.groups):
            continue
        rest = [g for g in a.groups if g not in groups]
        pickups, drops = world.sites(rest)
        party = _Party(
            groups,
            world.load(groups),
            *world.sites(groups),
            max(world.groups[g].earliest for g in groups),
            min(world.groups[g].latest for g in groups),
            pickups,
            drops,
            base_a - world.cost(coach_a, pickups, drops),
            coach_a.passenger_seats - world.load(rest),
            a.date,
        )
        for o in others:
            if o.bus is a:
                continue
            threshold = 1e-6 if best is None else best[0] + 1e-9
            found = _best_with(world, party, o, threshold)
            if found is not None:
                best = (found[0], o.bus, groups, found[1])
    if best is None:
        return None
    _, b, moved, back_ids = best
    a.groups = [g for g in a.groups if g not in moved] + list(back_ids)
    b.groups = [g for g in b.groups if g not in back_ids] + list(moved)
    return b


def _best_with(
    world: World, party: _Party, o: _Other, threshold: float
) -> tuple[float, tuple[str, ...]] | None:
    """The groups bus o gives back for the party that save most, when more than `threshold`.

    Bus o is passed over when even keeping only the groups it must keep (those that cannot go
    to a) and adding the party would cost too much.
    """
    need = party.size - o.seats_free
    if need > party.room or (party.pickups | party.drops).isdisjoint(o.sites):
        return None
    if not party.first <= o.bus.date <= party.last:
        return None
    fit, stay = [], []
    for g in o.groups:
        movable = g.pickup in party.rest_pickups and g.dropoff in party.rest_drops
        movable = movable and g.earliest <= party.day <= g.latest
        (fit if movable else stay).append(g)
    if need > sum(g.size for g in fit):
        return None
    floor_p = frozenset(g.pickup for g in stay) | party.pickups
    floor_d = frozenset(g.dropoff for g in stay) | party.drops
    if party.saved + o.cost - world.cost(o.coach, floor_p, floor_d) <= threshold:
        return None
    best: tuple[float, tuple[str, ...]] | None = None
    seen: set[tuple[frozenset[str], frozenset[str]]] = set()
    for back in _subsets(fit, max(need, 0), party.room):
        sites = _after(o, back, party.pickups, party.drops)
        if sites in seen:
            continue
        seen.add(sites)
        if not world.allowed(*sites):
            continue
        saving = party.saved + o.cost - world.cost(o.coach, *sites)
        if saving > threshold:
            best, threshold = (saving, tuple(g.id for g in back)), saving + 1e-9
    return best


def _after(
    o: _Other, back: tuple[Group, ...], party_p: frozenset[str], party_d: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """The stops of bus o once `back` has left it and the party has boarded."""
    gone_p = Counter(g.pickup for g in back)
    gone_d = Counter(g.dropoff for g in back)
    picks = frozenset(s for s, n in o.pickups.items() if n > gone_p[s]) | party_p
    drops = frozenset(s for s, n in o.drops.items() if n > gone_d[s]) | party_d
    return picks, drops


def _subsets(groups: list[Group], low: int, high: int) -> Iterator[tuple[Group, ...]]:
    """Up to tuning.MAX_BACK of the groups, seats adding up to between low and high (none when
    low is 0).

    Groups with the same pickup, drop-off and size are interchangeable here: one combination of
    each kind-multiset is tried.
    """
    kinds: dict[tuple[str, str, int], list[Group]] = {}
    for g in sorted(groups, key=lambda g: g.id):
        kinds.setdefault((g.pickup, g.dropoff, g.size), []).append(g)
    pools = [kinds[k] for k in sorted(kinds, key=lambda k: (k[2], k))]

    def grow(start: int, taken: tuple[Group, ...], seats: int) -> Iterator[tuple[Group, ...]]:
        if seats >= low:
            yield taken
        if len(taken) == tuning.MAX_BACK:
            return
        for i in range(start, len(pools)):
            pool = pools[i]
            if seats + pool[0].size > high:
                break  # pools are sorted by size
            used = sum(1 for g in taken if any(g is h for h in pool)) if i == start else 0
            if used < len(pool):
                yield from grow(i, (*taken, pool[used]), seats + pool[0].size)

    yield from grow(0, (), 0)
