"""The covering-MIP rebuild, block by block of dates: per date a covering MIP chooses buses
(lp/cover.py), the packing MIP seats whole groups on them (lp/packing.py), the rest is inserted
greedily; the block's new plan replaces the old one when it misses fewer groups or costs less.
Runs where the stop rules leave few enough patterns (tuning.COVER_PATTERN_LIMIT)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from dispatch.planner import tuning
from dispatch.planner.budget import Clock
from dispatch.planner.construct.greedy import downsize, insert_groups
from dispatch.planner.construct.topup import fill_fixed
from dispatch.planner.lp.cover import CoverInput, solve_cover
from dispatch.planner.lp.packing import PackTask, pack, spare_reward
from dispatch.planner.lp.patterns import enumerable, enumerate_patterns
from dispatch.planner.model import Unassigned
from dispatch.planner.world.blocks import blocks, demand
from dispatch.planner.world.buses import Bus, World, usage


@dataclass
class Outcome:
    """Buses and misses of one block, with the bound the MIP proved for it."""

    buses: list[Bus]
    missed: list[Unassigned]
    bound: float | None = None


def rebuild_by_cover(
    world: World, buses: list[Bus], missed: list[Unassigned], clock: Clock, share: float
) -> tuple[list[Bus], list[Unassigned], dict[frozenset[str], float]]:
    """Improve the greedy plan block by block; also return the bounds proved on the way."""
    locked = {g for b in buses if b.fixed_id for g in b.locked_groups}
    free = [g for g in sorted(world.groups) if g not in locked]
    known: dict[frozenset[str], float] = {}
    if not free or not enumerable(world, demand(world, free)):
        return buses, missed, known
    parts = blocks(world, free)
    total = clock.share(share)
    for days, groups in parts:
        seconds = total * world.load(groups) / world.load(free)
        greedy = Outcome(
            [b for b in buses if b.date in days], [u for u in missed if u.group in groups]
        )
        cand = _plan_block(world, days, groups, greedy.buses, seconds)
        if cand.bound is not None and not any(b.fixed_id for b in greedy.buses):
            known[groups] = cand.bound
        if _score(world, cand) < _score(world, greedy):
            buses = [b for b in buses if b.date not in days] + cand.buses
            missed = [u for u in missed if u.group not in groups] + cand.missed
    return buses, missed, known


def _score(world: World, outcome: Outcome) -> tuple[int, float]:
    """Fewer misses first, then lower cost."""
    return (len(outcome.missed), sum(world.bus_cost(b) for b in outcome.buses))


def _plan_block(
    world: World, days: tuple[date, ...], groups: frozenset[str], current: list[Bus], seconds: float
) -> Outcome:
    """Rolling horizon over the block's dates: what must leave today, plus flexible groups that fill buses."""
    out = [
        Bus(
            b.date,
            b.coach,
            sorted(b.locked_groups),
            b.fixed_id,
            dict(b.locked_seats),
            b.locked_groups,
        )
        for b in current
        if b.fixed_id
    ]
    pending = set(groups) - set(fill_fixed(world, out, sorted(groups)))
    bound = None
    for idx, day in enumerate(days):
        today = sorted(g for g in pending if world.groups[g].earliest <= day)
        if not today:
            continue
        caps = _caps(world, day, out)
        packed, bound = _plan_day(world, day, today, caps, seconds / (len(days) - idx))
        seconds -= seconds / (len(days) - idx)
        out += packed
        pending -= {g for b in packed for g in b.groups}
    missed = insert_groups(world, out, pending)
    downsize(world, out)
    return Outcome(out, missed, bound if len(days) == 1 else None)


def _caps(world: World, day: date, buses: Iterable[Bus]) -> dict[str, int | None]:
    """Buses of each type still available on `day`."""
    used = usage(buses)
    caps: dict[str, int | None] = {}
    for c in world.coaches:
        limit = c.available_on(day)
        caps[c.id] = None if limit is None else max(0, limit - used[(c.id, day)])
    return caps


def _plan_day(
    world: World, day: date, today: list[str], caps: dict[str, int | None], seconds: float
) -> tuple[list[Bus], float | None]:
    """Covering MIP then packing for one date; the MIP bound when nothing was optional."""
    mandatory = [g for g in today if world.groups[g].latest == day]
    optional = [g for g in today if world.groups[g].latest > day]
    must, may = demand(world, mandatory), demand(world, optional)
    r = world.rules
    patterns = enumerate_patterns(
        world, must + may, r.max_pickup_stops or 0, r.max_dropoff_stops or 0
    )
    reward = {e: spare_reward(world, e) for e in may}
    task = CoverInput(
        patterns, world.coaches, caps, must, may, reward, r.max_pickup_stops, r.max_dropoff_stops
    )
    chosen = solve_cover(task, seconds * tuning.COVER_MIP_SHARE)
    packed = pack(
        world,
        PackTask(day, chosen.buses, mandatory, optional, reward, caps),
        max(tuning.PACK_MIN_SECONDS, seconds * tuning.COVER_PACK_SHARE),
    )
    return packed, (chosen.bound if not optional else None)
