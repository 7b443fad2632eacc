"""What the pattern model's LP charges each demand (county → drop-off site): its dual prices.

At the LP's optimum, by duality, its cost equals the sum over its rows of each row's dual price
times its right-hand side. The rows of one demand are its seats (q seats, each priced at the
seat row's dual: what one more seat of it would add) and the buses that must carry it (its
visit row); their share is what the LP charges that demand. The rows shared by several demands
(the buses stopping at a site, the buses in all) are shared out by seats, so the charges add up
to the LP's cost, less the (non-positive) share of the coach limits.

An estimate to rank which demand is dearest, read off the relaxation: never a saving. Column
generation reads it when its LP has converged (colgen.py), so that a plan carries the prices of
the LP that bounded it (bound/prices.py reads them for a plan at hand).
"""

from __future__ import annotations

import math

import numpy as np

from dispatch.planner.lp.columns import TOLERANCE, BoundInput, Master, _clip, _price
from dispatch.planner.world.blocks import Commodity


def settled_charges(master: Master, task: BoundInput, seconds: float) -> dict[Commodity, float]:
    """Each demand's charge by the master's LP, solved once more within `seconds`; none when
    a column still prices out (the loop stopped before the LP converged, so its duals are not
    the full model's: a season's 97,000 groups cut off after 2 s gave 13 CNY a seat)."""
    lp = master.lp.solve(max(0.5, seconds))
    if not lp.duals:
        return {}
    duals = _clip(lp.duals, master)
    if _price(master, duals)[0].min() < -TOLERANCE * master.ceiling:
        return {}
    need = master.space.need
    return _shares(task, duals[: len(need)] * need)


def _shares(task: BoundInput, paid: np.ndarray) -> dict[Commodity, float]:
    """Each demand's rows, plus its part of the shared rows by its seats (``paid``: each ≥ row's
    dual times its right-hand side, in space_of's order: seats, visits, sites, total)."""
    comms = sorted(task.seats)
    n = len(comms)
    seats = {e: float(task.seats[e]) for e in comms}
    sites = sorted({c for c, _ in comms}) + sorted({d for _, d in comms})
    at_site = {s: sum(q for e, q in seats.items() if s in e) for s in sites}
    total = sum(seats.values())
    charges = {}
    for i, e in enumerate(comms):
        charge = paid[i] + paid[n + i] + paid[-1] * seats[e] / total
        for j, site in enumerate(sites):
            if site in e:
                charge += paid[2 * n + j] * seats[e] / at_site[site]
        if math.isfinite(charge):
            charges[e] = float(charge)
    return charges
