"""Fewest buses any plan runs, by a small set-covering MIP over the stop patterns.

Why it is valid: every bus of a plan, reduced to the sites where it picks up or drops someone,
is one pattern of lp/patterns.py (that module's doc), and a pattern holds every commodity
between its counties and its drop-off sites. So with x_p the plan's buses of pattern p:

- buses whose pattern holds commodity e ≥ ceil(q_e / largest seats), as those that carry e
  are among them;
- buses stopping at a county or a drop-off site ≥ the fewest `site_visits` gives it, as in the
  visit rows of lp/colgen.py;
- all buses ≥ every seat over the largest coach's seats;
- on a block of several dates, buses holding a commodity or stopping at a site ≥ the fewest
  dates that meet every window of its groups (`fewest_dates`, as in lp/colgen.py).

"Largest" is of the coach types that may run in the block (`biggest`): a type with no coach
available carries no one.

The plan's x is an integer point of these rows, so their integer minimum of Σ x_p, and the MIP
solver's proven bound on it, is at most the plan's buses. Patterns with the same commodities
are one column (the rows see only commodities and sites, and the sites follow from them).

What it adds: the pattern model's LP often meets these rows with a fraction of a bus spread over
patterns that no whole plan can copy. On the generated 300-worker days of seeds 1-10 its
minimum is one bus above `min_buses` on eight (HiGHS proves it in 2-7 s); on seed 4 the LP ran
exactly 13 buses, and requiring 14 raises column generation's bound from 171,858 to 182,978.

Its best solution is also a plan's skeleton (never part of a bound): whole groups packed on one
bus of the largest coach per pattern chosen often need fewer buses than the search finds. On
seed 6, 15 buses took every group where the search had ended at 16 (208,517 CNY): rebuilt from
the cover, 204,016.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from dispatch.planner.lp.patterns import Pattern
from dispatch.planner.lp.solvers import LinearModel, solve_linear
from dispatch.planner.world.blocks import Commodity, commodity_visits, site_visits

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Fewest:
    """The proven least number of buses (0 when nothing was proved), and the pattern of each bus
    of the MIP's best solution (empty when it found none)."""

    buses: int
    cover: list[Pattern] = field(default_factory=list)


def fewest_buses(
    patterns: list[Pattern],
    seats: Mapping[Commodity, int],
    biggest: int,
    max_pickups: int,
    max_drops: int,
    seconds: float,
    least: Mapping[Commodity | str, int] | None = None,
) -> Fewest:
    """The least number of buses of the module doc, within `seconds`; on a block of several
    dates, with the visit rows raised to `least` (world/blocks.fewest_dates)."""
    if not patterns or not seats:
        return Fewest(0)
    of = {p.commodities: p for p in patterns}
    sets = sorted(of)
    model = LinearModel()
    holds: dict[Commodity, list[tuple[int, float]]] = defaultdict(list)
    at_county: dict[str, list[tuple[int, float]]] = defaultdict(list)
    at_drop: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for comms in sets:
        j = model.column(1.0, integer=True)
        for e in comms:
            holds[e].append((j, 1.0))
        for county in {c for c, _ in comms}:
            at_county[county].append((j, 1.0))
        for drop in {d for _, d in comms}:
            at_drop[drop].append((j, 1.0))
    for e, n in commodity_visits(seats, biggest, least).items():
        model.row(holds[e], lower=float(n))
    counties, drops = site_visits(seats, biggest, max_pickups, max_drops, least)
    for fewest, terms in ((counties, at_county), (drops, at_drop)):
        for site, n in fewest.items():
            model.row(terms[site], lower=float(n))
    model.row(
        [(j, 1.0) for j in range(len(model.cost))],
        lower=float(-(-sum(seats.values()) // biggest)),
    )
    result = solve_linear(model, seconds)
    cover = [of[c] for c, v in zip(sets, result.values, strict=False) for _ in range(round(v))]
    if not math.isfinite(result.bound):
        return Fewest(0, cover)
    return Fewest(max(0, math.ceil(result.bound - TOLERANCE)), cover)
