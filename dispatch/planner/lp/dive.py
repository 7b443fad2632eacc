"""The dive of colgen.py (plans only, never a bound): the column-generation LP rounded to whole
buses by raising the columns it runs most nearly whole and re-pricing."""

from __future__ import annotations

import math
import time

import numpy as np

from dispatch.planner import tuning
from dispatch.planner.lp.columns import BoundInput, Master, generate, real_values
from dispatch.planner.lp.patterns import Pattern

DIVE_TOLERANCE = 1e-4


def dive(
    master: Master, task: BoundInput, values: list[float], deadline: float
) -> list[tuple[Pattern, str]]:
    """Whole buses near the LP: raise the columns it runs most nearly whole to the next whole
    number (a lower limit on the column), re-price a few rounds, and repeat until every column
    is whole or time is up (the rest is then rounded up).

    A primal heuristic only: the limits it sets are not valid for every plan, so it runs after
    the bound is taken and its LP values never make a bound, and it lifts them again when done.
    Bound changes keep GLOP's basis, so each step re-solves in a fraction of a fresh solve.
    """
    raised: dict[int, float] = {}
    while time.monotonic() < deadline:
        x = real_values(master, values)
        part = x - np.floor(x + DIVE_TOLERANCE)
        open_ = np.flatnonzero(part > DIVE_TOLERANCE)
        if not open_.size:
            break
        ups = open_[part[open_] >= tuning.DIVE_UP]
        if not ups.size:
            ups = open_[np.argsort(-part[open_], kind="stable")[:1]]
        for c in ups.tolist():
            raised[c] = float(math.ceil(x[c]))
            master.lp.set_lower(master.real[c], raised[c])
        _, fresh = generate(master, task.most, deadline, tuning.DIVE_ROUNDS, bounding=False)
        if not fresh:  # the raised columns broke an availability limit
            break
        values = fresh
    x = real_values(master, values)
    kinds = master.space.kinds
    out: list[tuple[Pattern, str]] = []
    for c, (p, k, _) in enumerate(master.columns):
        n = math.ceil(x[c] - DIVE_TOLERANCE) if x[c] > DIVE_TOLERANCE else 0
        out += [(task.patterns[p], kinds[k].id)] * int(max(raised.get(c, 0.0), n))
    for c in raised:
        master.lp.set_lower(master.real[c], 0.0)
    return out


def covered(master: Master, values: list[float]) -> bool:
    """The LP meets every ≥ row with real buses: no artificial column is in use."""
    return max(values[: len(master.space.need)], default=0.0) <= DIVE_TOLERANCE
