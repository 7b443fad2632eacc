"""Validation of a problem dict: every fault found, one line each."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dispatch.planner.model import (
    DEFAULT_ROAD_FACTOR,
    PROBLEM_FORMAT,
    CoachType,
    Group,
    Problem,
    Rules,
    Site,
    Trip,
)
from dispatch.planner.problem.trips import trip_from_dict

RULE_KEYS = ("max_pickup_stops", "max_dropoff_stops", "max_dropoff_spread_km")


@dataclass
class Faults:
    """Collected fault lines."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        """Record one fault."""
        self.lines.append(line)


def parse_problem(data: Any, faults: Faults) -> Problem | None:
    """Build a Problem, recording every fault; None when the input is not an object."""
    if not isinstance(data, dict):
        faults.add("problem: not a JSON object")
        return None
    if data.get("format", PROBLEM_FORMAT) != PROBLEM_FORMAT:
        faults.add(f"format: {data.get('format')!r} is not {PROBLEM_FORMAT!r}")
    sites = _sites(_as_list(data, "sites", faults), faults)
    coaches = _coaches(_as_list(data, "coach_types", faults), faults)
    max_seats = max((c.passenger_seats for c in coaches.values()), default=0)
    groups = _groups(_as_list(data, "groups", faults), sites, max_seats, faults)
    problem = Problem(
        sites=sites,
        coach_types=coaches,
        groups=groups,
        rules=_rules(data.get("rules") or {}, faults),
        road_factor=_road_factor(data.get("distance") or {}, faults),
        matrix_km=_matrix(data.get("matrix_km") or {}, sites, faults),
        fixed_trips=_fixed_trips(_as_list(data, "fixed_trips", faults), faults),
    )
    _check_fixed(problem, faults)
    return problem


def _as_list(data: dict[str, Any], key: str, faults: Faults) -> list[Any]:
    """The list under `key` (empty when absent or malformed)."""
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        faults.add(f"{key}: not a list")
        return []
    return value


def _number(value: Any) -> float | None:
    """A finite number, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _date(value: Any) -> date | None:
    """An ISO date, or None."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _sites(items: list[Any], faults: Faults) -> dict[str, Site]:
    """Sites by id."""
    sites: dict[str, Site] = {}
    for i, s in enumerate(items):
        where = f"sites[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("id"), str) or not s["id"]:
            faults.add(f"{where}: needs a string id")
            continue
        where = f"site {s['id']}"
        lat, lon = _number(s.get("lat")), _number(s.get("lon"))
        if s.get("kind") not in ("pickup", "dropoff"):
            faults.add(f"{where}: kind {s.get('kind')!r} is not 'pickup' or 'dropoff'")
        elif lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            faults.add(f"{where}: lat/lon must be numbers within ±90/±180")
        elif s["id"] in sites:
            faults.add(f"{where}: id used twice")
        else:
            sites[s["id"]] = Site(s["id"], s["kind"], str(s.get("name", s["id"])), lat, lon)
    return sites


def _coaches(items: list[Any], faults: Faults) -> dict[str, CoachType]:
    """Coach types by id."""
    coaches: dict[str, CoachType] = {}
    for i, c in enumerate(items):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str):
            faults.add(f"coach_types[{i}]: needs a string id")
            continue
        coach = _coach(c, f"coach type {c['id']}", faults)
        if c["id"] in coaches:
            faults.add(f"coach type {c['id']}: id used twice")
        elif coach is not None:
            coaches[c["id"]] = coach
    if not coaches:
        faults.add("coach_types: at least one coach type is needed")
    return coaches


def _coach(c: dict[str, Any], where: str, faults: Faults) -> CoachType | None:
    """One coach type, or None with faults."""
    seats = c.get("passenger_seats")
    fixed, per_km = _number(c.get("fixed_cost")), _number(c.get("cost_per_km"))
    ok = True
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        faults.add(f"{where}: passenger_seats must be a whole number ≥ 1")
        ok = False
    if fixed is None or fixed < 0 or per_km is None or per_km < 0:
        faults.add(f"{where}: fixed_cost and cost_per_km must be numbers ≥ 0")
        ok = False
    available = _available(c.get("available"), where, faults)
    if not ok or available is False:
        return None
    return CoachType(c["id"], seats, fixed, per_km, available)


def _available(value: Any, where: str, faults: Faults) -> dict[date, int] | None | bool:
    """Availability by date; None for unlimited, False when malformed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        faults.add(f"{where}: available must map dates to counts")
        return False
    out: dict[date, int] = {}
    for key, n in value.items():
        day = _date(key)
        if day is None:
            faults.add(f"{where}: available date {key!r} is not a date (YYYY-MM-DD)")
        elif isinstance(n, bool) or not isinstance(n, int) or n < 0:
            faults.add(f"{where}: available on {key} must be a whole number ≥ 0")
        else:
            out[day] = n
    return out if len(out) == len(value) else False


def _groups(
    items: list[Any], sites: dict[str, Site], max_seats: int, faults: Faults
) -> dict[str, Group]:
    """Groups by id; members unique across all groups."""
    groups: dict[str, Group] = {}
    seen_members: set[str] = set()
    for i, g in enumerate(items):
        if not isinstance(g, dict) or not isinstance(g.get("id"), str) or not g["id"]:
            faults.add(f"groups[{i}]: needs a string id")
            continue
        group = _group(g, f"group {g['id']}", sites, max_seats, faults)
        if g["id"] in groups:
            faults.add(f"group {g['id']}: id used twice")
        elif group is not None:
            _members_unique(group, seen_members, faults)
            groups[group.id] = group
    return groups


def _group(
    g: dict[str, Any], where: str, sites: dict[str, Site], max_seats: int, faults: Faults
) -> Group | None:
    """One group, or None with faults."""
    before = len(faults.lines)
    size = g.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        faults.add(f"{where}: size must be a whole number ≥ 1")
    elif max_seats and size > max_seats:
        faults.add(f"{where}: size {size} is larger than every coach ({max_seats} seats)")
    for key, kind in (("pickup", "pickup"), ("dropoff", "dropoff")):
        site = sites.get(g.get(key))  # type: ignore[arg-type]
        if site is None:
            faults.add(f"{where}: unknown {key} site {g.get(key)!r}")
        elif site.kind != kind:
            faults.add(f"{where}: {key} site {site.id} is a {site.kind} site")
    early, late = _date(g.get("earliest")), _date(g.get("latest", g.get("earliest")))
    if early is None or late is None:
        faults.add(f"{where}: earliest/latest must be dates (YYYY-MM-DD)")
    elif early > late:
        faults.add(f"{where}: earliest {early} is after latest {late}")
    members = _members(g.get("members"), size, where, faults)
    if len(faults.lines) > before:
        return None
    return Group(g["id"], size, g["pickup"], g["dropoff"], early, late, members)  # type: ignore[arg-type]


def _members(value: Any, size: Any, where: str, faults: Faults) -> tuple[str, ...]:
    """Member ids; when given their count equals the size."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(m, str) and m for m in value):
        faults.add(f"{where}: members must be a list of ids")
        return ()
    if len(set(value)) != len(value):
        faults.add(f"{where}: a member is listed twice")
    if isinstance(size, int) and value and len(value) != size:
        faults.add(f"{where}: size {size} but {len(value)} members")
    return tuple(value)


def _members_unique(group: Group, seen: set[str], faults: Faults) -> None:
    """A person belongs to one group only."""
    for m in group.members:
        if m in seen:
            faults.add(f"group {group.id}: member {m} is also in another group")
        seen.add(m)


def _rules(value: Any, faults: Faults) -> Rules:
    """Stop rules with defaults; null means no limit."""
    if not isinstance(value, dict):
        faults.add("rules: not an object")
        return Rules()
    args: dict[str, Any] = {}
    for key in RULE_KEYS:
        if key not in value:
            continue
        v = value[key]
        num = _number(v)
        whole = key != "max_dropoff_spread_km"
        if v is not None and (
            num is None or num < (1 if whole else 0) or (whole and num != int(num))
        ):
            faults.add(
                f"rules: {key} must be {'a whole number ≥ 1' if whole else 'a number ≥ 0'} or null"
            )
            continue
        args[key] = None if v is None else (int(num) if whole else num)  # type: ignore[arg-type]
    return Rules(**args)


def _road_factor(value: Any, faults: Faults) -> float:
    """distance.road_factor, default 1.25."""
    rf = _number(value.get("road_factor", DEFAULT_ROAD_FACTOR)) if isinstance(value, dict) else None
    if rf is None or rf <= 0:
        faults.add("distance: road_factor must be a number > 0")
        return DEFAULT_ROAD_FACTOR
    return rf


def _matrix(value: Any, sites: dict[str, Site], faults: Faults) -> dict[str, dict[str, float]]:
    """matrix_km with known sites and non-negative numbers."""
    if not isinstance(value, dict):
        faults.add("matrix_km: not an object")
        return {}
    out: dict[str, dict[str, float]] = {}
    for a, row in value.items():
        if a not in sites or not isinstance(row, dict):
            faults.add(
                f"matrix_km: unknown site {a!r}"
                if a not in sites
                else f"matrix_km[{a}]: not an object"
            )
            continue
        for b, km in row.items():
            num = _number(km)
            if b not in sites:
                faults.add(f"matrix_km[{a}]: unknown site {b!r}")
            elif num is None or num < 0:
                faults.add(f"matrix_km[{a}][{b}]: must be a number ≥ 0")
            else:
                out.setdefault(a, {})[b] = num
    return out


def _fixed_trips(items: list[Any], faults: Faults) -> tuple[Trip, ...]:
    """Locked trips in the plan's trip form."""
    trips = []
    for i, t in enumerate(items):
        try:
            trips.append(trip_from_dict(t))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            faults.add(f"fixed_trips[{i}]: not a trip ({type(exc).__name__}: {exc})")
    return tuple(trips)


def _check_fixed(problem: Problem, faults: Faults) -> None:
    """Locked trips name known coach types and groups, each group once, ids unique."""
    seen: set[str] = set()
    ids: set[str] = set()
    for t in problem.fixed_trips:
        if t.id in ids:
            faults.add(f"fixed trip {t.id}: id used twice")
        ids.add(t.id)
        if t.coach_type not in problem.coach_types:
            faults.add(f"fixed trip {t.id}: unknown coach type {t.coach_type!r}")
        for stop in t.stops:
            if stop.site not in problem.sites:
                faults.add(f"fixed trip {t.id}: unknown site {stop.site!r}")
        for g in t.group_ids():
            if g not in problem.groups:
                faults.add(f"fixed trip {t.id}: unknown group {g!r}")
            elif g in seen:
                faults.add(f"fixed trip {t.id}: group {g} is on another locked trip")
            seen.add(g)
