"""Swap moves: two buses trade one group each when that takes a stop off one of them.

Relocation cannot help when buses are full (rules lifted, seats tight); a trade keeps both loads
near where they were. Only trades that free a stop are tried: a group alone at its pickup or
drop-off site on its bus, sent to a bus that already stops at both its sites.
"""

from __future__ import annotations

import time

from dispatch.planner.world.buses import Bus, World


def swap_pass(world: World, buses: list[Bus], deadline: float) -> bool:
    """Apply every improving trade found in one sweep; True when one was made."""
    changed = False
    for a in buses:
        if a.fixed_id is not None:
            continue
        for gid in sorted(_lonely(world, a)):
            if time.monotonic() > deadline:
                return changed
            if gid in a.groups and _best_trade(world, buses, a, gid):
                changed = True
    return changed


def _lonely(world: World, bus: Bus) -> list[str]:
    """Groups that are the only ones boarding or leaving at their site on this bus."""
    picks = [world.groups[g].pickup for g in bus.groups]
    drops = [world.groups[g].dropoff for g in bus.groups]
    return [
        g
        for g, p, d in zip(bus.groups, picks, drops, strict=True)
        if picks.count(p) == 1 or drops.count(d) == 1
    ]


def _best_trade(world: World, buses: list[Bus], a: Bus, gid: str) -> bool:
    """Trade `gid` for the group of another bus that saves most; False when none saves."""
    g1 = world.groups[gid]
    base_a = world.bus_cost(a)
    rest_a = [g for g in a.groups if g != gid]
    best: tuple[float, Bus, str] | None = None
    for b in buses:
        if b is a or b.fixed_id is not None or not g1.earliest <= b.date <= g1.latest:
            continue
        pb, db = world.sites(b.groups)
        if g1.pickup not in pb and g1.dropoff not in db:
            continue
        base = base_a + world.bus_cost(b)
        for other in b.groups:
            saving = base - _trade_cost(world, a, rest_a, b, gid, other)
            if saving > 1e-6 and (best is None or saving > best[0]):
                best = (saving, b, other)
    if best is None:
        return False
    _, b, other = best
    a.groups = [*rest_a, other]
    b.groups = [g for g in b.groups if g != other] + [gid]
    return True


def _trade_cost(world: World, a: Bus, rest_a: list[str], b: Bus, gid: str, other: str) -> float:
    """Cost of both buses after the trade (same coach types), inf when it breaks a rule."""
    g2 = world.groups[other]
    if not g2.earliest <= a.date <= g2.latest:
        return float("inf")
    new_a = [*rest_a, other]
    new_b = [g for g in b.groups if g != other] + [gid]
    total = 0.0
    for bus, groups in ((a, new_a), (b, new_b)):
        coach = world.problem.coach_types[bus.coach]
        if world.load(groups) > coach.passenger_seats:
            return float("inf")
        pickups, drops = world.sites(groups)
        if not world.allowed(pickups, drops):
            return float("inf")
        total += world.cost(coach, pickups, drops)
    return total
