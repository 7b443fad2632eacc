"""Distances between sites and the best order of a bus's stops."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import combinations

from dispatch.planner.model import Problem

EARTH_RADIUS_KM = 6371.0
EXACT_ORDER_LIMIT = 7


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of radius 6371.0 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class Distances:
    """The distance rule of the format, plus its shortest-path closure for bounds."""

    def __init__(self, problem: Problem) -> None:
        self.ids = sorted(problem.sites)
        self.km: dict[str, dict[str, float]] = {a: {} for a in self.ids}
        for a in self.ids:
            for b in self.ids:
                self.km[a][b] = _rule_km(problem, a, b)
        self.lower = _closure(self.ids, self.km)
        self.order = RouteOrder(self.km)
        self.lower_order = RouteOrder(self.lower)

    def path_km(self, sites: Sequence[str]) -> float:
        """Kilometres along `sites` in order."""
        return sum(self.km[a][b] for a, b in zip(sites, sites[1:], strict=False))


def _rule_km(problem: Problem, a: str, b: str) -> float:
    """matrix_km when it has the pair, else great circle times road factor."""
    row = problem.matrix_km.get(a)
    if row is not None and b in row:
        return float(row[b])
    if a == b:
        return 0.0
    sa, sb = problem.sites[a], problem.sites[b]
    return great_circle_km(sa.lat, sa.lon, sb.lat, sb.lon) * problem.road_factor


def _closure(ids: list[str], km: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Floyd-Warshall: no route between two sites, through any others, is shorter."""
    low = {a: dict(km[a]) for a in ids}
    for k in ids:
        for i in ids:
            ik = low[i][k]
            for j in ids:
                if ik + low[k][j] < low[i][j]:
                    low[i][j] = ik + low[k][j]
    return low


class RouteOrder:
    """Shortest order of a bus's stops: all pickups (any order), then all drop-offs."""

    def __init__(self, km: dict[str, dict[str, float]]) -> None:
        self.km = km
        self.best = lru_cache(maxsize=200_000)(self._best)

    def _best(
        self, pickups: frozenset[str], drops: frozenset[str]
    ) -> tuple[tuple[str, ...], float]:
        ends = _paths(self.km, pickups, reverse=True)
        starts = _paths(self.km, drops, reverse=False)
        best: tuple[float, tuple[str, ...]] | None = None
        for p_last, (p_km, p_path) in sorted(ends.items()):
            for d_first, (d_km, d_path) in sorted(starts.items()):
                total = p_km + self.km[p_last][d_first] + d_km
                if best is None or total < best[0] - 1e-9:
                    best = (total, p_path + d_path)
        assert best is not None
        return best[1], best[0]


def _paths(
    km: dict[str, dict[str, float]], sites: frozenset[str], reverse: bool
) -> dict[str, tuple[float, tuple[str, ...]]]:
    """For each site, the shortest path through all `sites` ending (reverse) or starting there."""
    ordered = sorted(sites)
    if len(ordered) > EXACT_ORDER_LIMIT:
        return _heuristic_paths(km, ordered, reverse)
    if reverse:
        dist = {(a, b): km[b][a] for a in ordered for b in ordered}
    else:
        dist = {(a, b): km[a][b] for a in ordered for b in ordered}
    table = _held_karp(dist, ordered)
    full = frozenset(ordered)
    out = {}
    for site in ordered:
        cost, path = table[(full, site)]
        out[site] = (cost, tuple(reversed(path)) if reverse else path)
    return out


def _held_karp(
    dist: dict[tuple[str, str], float], ordered: list[str]
) -> dict[tuple[frozenset[str], str], tuple[float, tuple[str, ...]]]:
    """Open-path dynamic programme: best path covering a subset, starting at its key site."""
    table: dict[tuple[frozenset[str], str], tuple[float, tuple[str, ...]]] = {}
    for s in ordered:
        table[(frozenset([s]), s)] = (0.0, (s,))
    for size in range(2, len(ordered) + 1):
        for subset in combinations(ordered, size):
            fs = frozenset(subset)
            for first in subset:
                rest = fs - {first}
                table[(fs, first)] = min(
                    (table[(rest, nxt)][0] + dist[(first, nxt)], (first,) + table[(rest, nxt)][1])
                    for nxt in sorted(rest)
                )
    return table


def _heuristic_paths(
    km: dict[str, dict[str, float]], ordered: list[str], reverse: bool
) -> dict[str, tuple[float, tuple[str, ...]]]:
    """Nearest-neighbour path from each site; for long stop lists (rules lifted) only."""
    out = {}
    for start in ordered:
        path = [start]
        left = [s for s in ordered if s != start]
        while left:
            nxt = min(left, key=lambda s: (km[path[-1]][s], s))
            path.append(nxt)
            left.remove(nxt)
        real = tuple(reversed(path)) if reverse else tuple(path)
        out[start] = (_length(km, real), real)
    return out


def _length(km: dict[str, dict[str, float]], path: Iterable[str]) -> float:
    """Kilometres along a path."""
    seq = list(path)
    return sum(km[a][b] for a, b in zip(seq, seq[1:], strict=False))
