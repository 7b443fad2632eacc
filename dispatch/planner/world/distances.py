"""Distances between sites (the format's rule and its shortest-path closure) and the best order
of a bus's stops."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

from dispatch.planner import tuning
from dispatch.planner.model import DEFAULT_ROAD_FACTOR, Problem

EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of radius 6371.0 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def road_km(
    lat1: float, lon1: float, lat2: float, lon2: float, road_factor: float = DEFAULT_ROAD_FACTOR
) -> float:
    """The format's km between two points without a matrix entry: great circle × road factor."""
    return great_circle_km(lat1, lon1, lat2, lon2) * road_factor


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
    return road_km(sa.lat, sa.lon, sb.lat, sb.lon, problem.road_factor)


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
        # Pickup and drop-off sets recur in many combinations: their paths are cached apart.
        self._paths = lru_cache(maxsize=100_000)(lambda sites, reverse: _paths(km, sites, reverse))

    def _best(
        self, pickups: frozenset[str], drops: frozenset[str]
    ) -> tuple[tuple[str, ...], float]:
        ends = self._paths(pickups, True)
        starts = self._paths(drops, False)
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
    if len(ordered) > tuning.EXACT_ORDER_LIMIT:
        return _heuristic_paths(km, ordered, reverse)
    if reverse:
        dist = [[km[b][a] for b in ordered] for a in ordered]
    else:
        dist = [[km[a][b] for b in ordered] for a in ordered]
    out = {}
    for first, (cost, path) in enumerate(_held_karp(dist)):
        real = tuple(ordered[i] for i in path)
        out[ordered[first]] = (cost, tuple(reversed(real)) if reverse else real)
    return out


def _held_karp(dist: list[list[float]]) -> list[tuple[float, list[int]]]:
    """Open-path dynamic programme over bit masks: for each first site, the best path through all."""
    n = len(dist)
    full = (1 << n) - 1
    best = [[math.inf] * n for _ in range(full + 1)]
    after = [[-1] * n for _ in range(full + 1)]
    for i in range(n):
        best[1 << i][i] = 0.0
    for mask in range(1, full + 1):
        row = best[mask]
        for i in range(n):
            bit = 1 << i
            rest = mask ^ bit
            if not mask & bit or not rest:
                continue
            here, nxt_row, di = math.inf, best[rest], dist[i]
            for j in range(n):
                if rest >> j & 1 and di[j] + nxt_row[j] < here:
                    here, after[mask][i] = di[j] + nxt_row[j], j
            row[i] = here
    out = []
    for first in range(n):
        path, mask, at = [first], full, first
        while after[mask][at] >= 0:
            mask, at = mask ^ (1 << at), after[mask][at]
            path.append(at)
        out.append((best[full][first], path))
    return out


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
        real = _two_opt(km, tuple(reversed(path)) if reverse else tuple(path), keep_last=reverse)
        out[start] = (_length(km, real), real)
    return out


def _two_opt(
    km: dict[str, dict[str, float]], path: tuple[str, ...], keep_last: bool
) -> tuple[str, ...]:
    """Reverse stretches of an open path while that shortens it; its fixed end stays put."""
    n = len(path)
    lo, hi = (0, n - 1) if keep_last else (1, n)  # positions that may move: lo .. hi-1
    best, length = path, _length(km, path)
    improved = True
    while improved:
        improved = False
        for i in range(lo, hi - 1):
            for j in range(i + 1, hi):
                cand = best[:i] + best[i : j + 1][::-1] + best[j + 1 :]
                if _edge_gain(km, best, i, j) > 1e-9 and (new := _length(km, cand)) < length - 1e-9:
                    best, length, improved = cand, new, True
    return best


def _edge_gain(km: dict[str, dict[str, float]], path: tuple[str, ...], i: int, j: int) -> float:
    """Km saved at the two cut edges when path[i..j] is reversed (exact for symmetric km)."""
    gain = 0.0
    if i > 0:
        gain += km[path[i - 1]][path[i]] - km[path[i - 1]][path[j]]
    if j + 1 < len(path):
        gain += km[path[j]][path[j + 1]] - km[path[i]][path[j + 1]]
    return gain


def _length(km: dict[str, dict[str, float]], path: Iterable[str]) -> float:
    """Kilometres along a path."""
    seq = list(path)
    return sum(km[a][b] for a, b in zip(seq, seq[1:], strict=False))
