"""Local search on a plan: a descent (descent.py), then ruin-and-recreate rounds (related buses,
or one stop's groups across a date's buses), the refilled buses given stop exchanges when that
has paid so far (Ruins), with kicks when rounds stop paying; then a last descent.

The search is deterministic for a seed: fixed orders, ties broken by ids, a seeded random
generator and at most tuning.RUIN_ROUNDS ruin-and-recreate rounds, fewer when tuning.MAX_KICKS
kicks have not paid; only a clock that runs out first makes two runs differ.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

from dispatch.planner import tuning
from dispatch.planner.construct.greedy import downsize, insert_groups
from dispatch.planner.search.descent import descend
from dispatch.planner.search.exchange import exchange_pass
from dispatch.planner.search.squeeze import squeeze, worth_squeezing
from dispatch.planner.search.swap import swap_pass
from dispatch.planner.world.buses import Bus, World, copy_buses, plan_cost


def improve(world: World, buses: list[Bus], seconds: float, seed: int) -> None:
    """Local search, then ruin-and-recreate rounds while time is left, then local search; in place.

    Rounds are cheap (no local search inside), so thousands fit; a round is kept only when the
    plan gets cheaper. When rounds stop paying, a kick restarts from the best plan shaken by a few
    rounds taken regardless of cost. (A record-to-record threshold was tried instead: worse.)
    Where stop rules apply, buses are first taken off (squeeze.py). (Trying that again at each
    kick, on the best plan the rounds had reshaped, was worse: a median gap of 4.3 % against
    3.6 % over the generated 1,000-worker days of seeds 1-7.)
    """
    deadline = time.monotonic() + seconds
    rng = random.Random(seed)
    stop = deadline - tuning.POLISH_SHARE * seconds
    descend(world, buses, deadline, rng)
    if worth_squeezing(world):  # within the rounds' time: a season's first descent may take it all
        squeeze(world, buses, min(stop, time.monotonic() + tuning.SQUEEZE_SHARE * seconds), rng)
    best = current = plan_cost(world, buses)
    kept, last_best, kicks = copy_buses(buses), 0, 0
    ruins, hopeless = Ruins(), _hopeless(world)
    for n in range(tuning.RUIN_ROUNDS):
        if time.monotonic() > stop or not buses:
            break
        if n - last_best > tuning.STALL_ROUNDS:
            if kicks == tuning.MAX_KICKS:
                break
            kicks, last_best = kicks + 1, n
            current = _kick(world, buses, kept, rng)
            continue
        saved = copy_buses(buses)
        complete = _ruin_recreate(world, buses, rng, stop, current + hopeless, ruins)
        cost = plan_cost(world, buses)
        if complete and cost < best - 1e-6 and swap_pass(world, buses, stop):
            cost = plan_cost(world, buses)
        ruins.record(current - cost if complete else 0.0)
        if complete and cost < current - 1e-6:
            current = cost
            if cost < best - 1e-6:
                best, kept, last_best = cost, copy_buses(buses), n
        else:
            buses[:] = saved
    buses[:] = kept
    descend(world, buses, deadline, rng)


def _hopeless(world: World) -> float:
    """How much dearer than the current plan a recreated plan may come back and still get stop
    exchanges: the fixed cost of the cheapest coach (a plan with a bus more rarely recovers)."""
    return min(c.fixed_cost for c in world.coaches)


def _kick(world: World, buses: list[Bus], kept: list[Bus], rng: random.Random) -> float:
    """The best plan shaken by a few ruin-and-recreate rounds whatever they cost; its cost."""
    buses[:] = copy_buses(kept)
    for _ in range(tuning.KICK_ROUNDS):
        saved = copy_buses(buses)
        if not _ruin_recreate(world, buses, rng, math.inf, math.inf, Ruins()):
            buses[:] = saved
    return plan_cost(world, buses)


@dataclass
class Ruins:
    """Which ruin to take, and whether stop exchanges follow the recreate.

    The four ways are drawn in proportion to the cost each has saved per round, counted from a
    prior of two average rounds (so all start even and none is ever shut out). Rounds, not
    seconds, so that a seed gives one plan whatever the machine's speed. A search thus spends its
    rounds where they pay; with full buses (rules lifted, 3,000 workers) clearing one stop was
    kept in 1–2 % of its rounds, emptying related buses in 10–15 %.
    """

    tried: list[int] = field(default_factory=lambda: [0] * 4)
    saved: list[float] = field(default_factory=lambda: [0.0] * 4)
    last: int = 0

    def choose(self, rng: random.Random) -> tuple[bool, bool]:
        """(clear one stop rather than empty related buses, exchange stops after)."""
        prior = 2 * max(1.0, sum(self.saved) / max(1, sum(self.tried)))
        rates = [(v + prior) / (n + 2) for v, n in zip(self.saved, self.tried, strict=True)]
        pick, total = rng.random() * sum(rates), 0.0
        for i, rate in enumerate(rates):
            total += rate
            if pick < total or i == len(rates) - 1:
                self.last = i
                break
        return self.last % 2 == 1, self.last >= 2

    def record(self, saved: float) -> None:
        """What the last way chosen saved (0 when its round was undone)."""
        self.tried[self.last] += 1
        self.saved[self.last] += max(0.0, saved)


def _ruin_recreate(
    world: World,
    buses: list[Bus],
    rng: random.Random,
    deadline: float,
    ceiling: float,
    ruins: Ruins,
) -> bool:
    """Take related groups off one date's buses and put them back; False if some found no seat.

    Cheapest insertion alone leaves the refilled buses with stops that full buses cannot shed
    one group at a time, so the buses it touched then get stop exchanges (exchange.py), unless
    the plan came back costing more than `ceiling`.
    """
    free = [b for b in buses if b.fixed_id is None and b.groups]
    if not free:
        return False
    seed_bus = rng.choice(free)
    todays = [b for b in free if b.date == seed_bus.date]
    by_site, exchange = ruins.choose(rng)
    before = {id(b): tuple(b.groups) for b in buses} if exchange else {}
    if by_site:
        loose = _ruin_site(world, seed_bus, todays, rng)
    else:
        loose = _ruin_buses(world, seed_bus, todays, rng)
    buses[:] = [b for b in buses if b.groups or b.fixed_id]
    order = sorted(loose)
    rng.shuffle(order)
    if rng.random() < 0.5:  # biggest first, ties in random order
        order.sort(key=lambda g: -world.groups[g].size)
    missed = insert_groups(world, buses, order, keep_order=True)
    if not missed and exchange and plan_cost(world, buses) <= ceiling:
        touched = [b for b in buses if before.get(id(b)) != tuple(b.groups)]
        exchange_pass(world, buses, deadline, touched)
    downsize(world, buses)
    return not missed


def _ruin_buses(world: World, seed_bus: Bus, todays: list[Bus], rng: random.Random) -> list[str]:
    """Empty the seed bus and the 1–4 buses sharing most stops with it."""
    pickups, drops = world.sites(seed_bus.groups)

    def shared(bus: Bus) -> float:
        p, d = world.sites(bus.groups)
        return -(len(p & pickups) + len(d & drops)) + rng.random()

    others = sorted((b for b in todays if b is not seed_bus), key=shared)
    loose: list[str] = []
    for bus in [seed_bus, *others[: rng.randint(1, 4)]]:
        loose += bus.groups
        bus.groups = []
    return loose


def _ruin_site(world: World, seed_bus: Bus, todays: list[Bus], rng: random.Random) -> list[str]:
    """Take every group boarding or leaving at one of the seed bus's stops off that date's buses."""
    pickups, drops = world.sites(seed_bus.groups)
    site = rng.choice(sorted(pickups | drops))
    loose: list[str] = []
    for bus in todays:
        out = [g for g in bus.groups if site in (world.groups[g].pickup, world.groups[g].dropoff)]
        if out:
            loose += out
            bus.groups = [g for g in bus.groups if g not in out]
    return loose
