"""Linfen-like planner problems: 17 counties → Shanghai/Jiangsu sites (copied from reference/sites.csv)."""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers import one_way_km, pyvrp_plan, vroom_plan  # noqa: E402
from dispatch.planner.world.distances import great_circle_km  # noqa: E402

# id, kind, name, lat, lon, weight (how many workers leave from / go to it)
SITES: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("yaodu", "pickup", "尧都区", 36.08, 111.52, 3.0),
    ("houma", "pickup", "侯马市", 35.62, 111.35, 1.5),
    ("huozhou", "pickup", "霍州市", 36.57, 111.72, 1.5),
    ("quwo", "pickup", "曲沃县", 35.63, 111.47, 1.0),
    ("yicheng", "pickup", "翼城县", 35.73, 111.72, 1.2),
    ("xiangfen", "pickup", "襄汾县", 35.88, 111.43, 1.5),
    ("hongtong", "pickup", "洪洞县", 36.25, 111.67, 2.0),
    ("guxian", "pickup", "古县", 36.27, 111.92, 0.5),
    ("anze", "pickup", "安泽县", 36.15, 112.25, 0.5),
    ("fushan", "pickup", "浮山县", 35.97, 111.83, 0.6),
    ("jixian", "pickup", "吉县", 36.10, 110.68, 0.5),
    ("xiangning", "pickup", "乡宁县", 35.97, 110.83, 0.8),
    ("daning", "pickup", "大宁县", 36.47, 110.75, 0.4),
    ("xixian", "pickup", "隰县", 36.70, 110.93, 0.5),
    ("yonghe", "pickup", "永和县", 36.77, 110.63, 0.4),
    ("puxian", "pickup", "蒲县", 36.42, 111.08, 0.5),
    ("fenxi", "pickup", "汾西县", 36.65, 111.57, 0.6),
    ("sh-songjiang", "dropoff", "上海松江区", 31.03, 121.22, 1.5),
    ("sh-jiading", "dropoff", "上海嘉定区", 31.38, 121.27, 1.2),
    ("sh-pudong", "dropoff", "上海浦东新区", 31.22, 121.53, 1.0),
    ("sh-zhangjiang", "dropoff", "浦东张江", 31.20, 121.59, 0.6),
    ("js-kunshan", "dropoff", "昆山市", 31.38, 120.98, 1.5),
    ("js-suzhou", "dropoff", "苏州市区", 31.30, 120.58, 1.2),
    ("js-sip", "dropoff", "苏州工业园区", 31.31, 120.72, 1.0),
    ("js-taicang", "dropoff", "太仓市", 31.45, 121.10, 0.6),
    ("js-wuxi", "dropoff", "无锡市", 31.57, 120.30, 1.0),
    ("js-changzhou", "dropoff", "常州市", 31.78, 119.95, 0.8),
    ("js-nanjing-jiangning", "dropoff", "南京江宁区", 31.95, 118.85, 0.8),
    ("js-nantong", "dropoff", "南通市", 31.98, 120.88, 0.6),
)
MOUNTAIN = ("jixian", "xiangning", "daning", "yonghe")
MOUNTAIN_FACTOR = 1.45
COACHES = (("c33", 31, 9000.0), ("c45", 43, 11000.0), ("c53", 51, 12500.0))
FAMILY_SIZES = (2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10)
LIFTED = {"max_pickup_stops": None, "max_dropoff_stops": None, "max_dropoff_spread_km": None}


def problem(
    workers_per_day: int,
    days: int = 1,
    seed: int = 1,
    window: int = 0,
    fleet_per_day: int | None = None,
) -> dict[str, Any]:
    """A problem dict: `days` days of about `workers_per_day` each, windows up to `window` extra days."""
    rng = random.Random(seed)
    first = date(2026, 3, 1)
    groups: list[dict[str, Any]] = []
    for d in range(days):
        groups += _day_groups(rng, workers_per_day, first + timedelta(days=d), window, len(groups))
    dates = [first + timedelta(days=d) for d in range(days + window)]
    return {
        "format": "dispatch-problem/1",
        "sites": [
            {"id": s[0], "kind": s[1], "name": s[2], "lat": s[3], "lon": s[4]} for s in SITES
        ],
        "distance": {"road_factor": 1.25},
        "matrix_km": _mountain_matrix(),
        "coach_types": [_coach(c, dates, fleet_per_day) for c in COACHES],
        "groups": groups,
        "rules": {"max_pickup_stops": 3, "max_dropoff_stops": 2, "max_dropoff_spread_km": 150},
        "fixed_trips": [],
    }


def lifted(data: dict[str, Any]) -> dict[str, Any]:
    """The same problem with every stop rule lifted."""
    return {**data, "rules": dict(LIFTED)}


def _day_groups(
    rng: random.Random, workers: int, day: date, window: int, start: int
) -> list[dict[str, Any]]:
    """Singles and families of 2–10 until the day has its workers."""
    picks = [s for s in SITES if s[1] == "pickup"]
    drops = [s for s in SITES if s[1] == "dropoff"]
    out: list[dict[str, Any]] = []
    left = workers
    while left > 0:
        size = min(left, 1 if rng.random() < 0.45 else rng.choice(FAMILY_SIZES))
        n = start + len(out) + 1
        late = day + timedelta(days=rng.randint(0, window)) if window else day
        out.append(
            {
                "id": f"g{n}",
                "size": size,
                "pickup": rng.choices(picks, [s[5] for s in picks])[0][0],
                "dropoff": rng.choices(drops, [s[5] for s in drops])[0][0],
                "earliest": day.isoformat(),
                "latest": late.isoformat(),
                "members": [f"w{n}-{i + 1}" for i in range(size)],
            }
        )
        left -= size
    return out


def _coach(spec: tuple[str, int, float], dates: list[date], per_day: int | None) -> dict[str, Any]:
    """A coach type, limited to `per_day` buses a day when given."""
    out: dict[str, Any] = {
        "id": spec[0],
        "passenger_seats": spec[1],
        "fixed_cost": spec[2],
        "cost_per_km": 3.0,
    }
    if per_day is not None:
        out["available"] = {d.isoformat(): per_day for d in dates}
    return out


def _mountain_matrix() -> dict[str, dict[str, float]]:
    """Slower mountain roads out of the western counties."""
    out: dict[str, dict[str, float]] = {}
    for a in SITES:
        if a[0] not in MOUNTAIN:
            continue
        for b in SITES:
            if a[0] != b[0]:
                km = round(great_circle_km(a[3], a[4], b[3], b[4]) * MOUNTAIN_FACTOR, 1)
                out.setdefault(a[0], {})[b[0]] = km
                out.setdefault(b[0], {})[a[0]] = km
    return out


# ---------------------------------------------------------------- runner

CASES = {"300": (300, 1, 0), "1000": (1000, 1, 0), "3000": (3000, 1, 0), "season": (1430, 14, 3)}


def run_case(name: str, seconds: float, seed: int, peers: bool) -> list[dict[str, Any]]:
    """Our planner under default and lifted rules, the peers on the lifted variant; every plan checked."""
    import time

    from dispatch.planner import check, load_problem, solve
    from dispatch.planner.world.buses import World

    workers, days, window = CASES[name]
    fleet = 25 if name == "season" else None
    base = problem(workers, days, seed, window, fleet)
    rows = []
    variants = (
        [("default", base)] if name == "season" else [("default", base), ("lifted", lifted(base))]
    )
    for rules, data in variants:
        prob = load_problem(data)
        t0 = time.monotonic()
        plan = solve(
            prob, seconds * (4 if name == "season" else 2 if rules == "default" else 1), seed
        )
        spent = time.monotonic() - t0
        faults = check(prob, plan)
        print(
            f"{name} {rules}: {plan.summary.cost:,.0f} ({plan.summary.buses} buses), bound "
            f"{plan.summary.lower_bound_cost:,.0f}, {spent:.1f} s",
            file=sys.stderr,
        )
        s = plan.summary
        rows.append(
            _row(
                name,
                rules,
                "dispatch",
                s.cost,
                s.buses,
                s.lower_bound_cost,
                spent,
                faults,
                len(plan.unassigned),
            )
        )
        if peers and rules == "lifted":
            print(
                f"  longest trip {max(t.km for t in plan.trips):,.0f} km; peers' cap "
                f"{one_way_km(World(prob), prob):,.0f} km",
                file=sys.stderr,
            )
            for peer in PEERS:
                rows.append(_peer_row(peer, name, prob, seconds, s.lower_bound_cost, seed))
    return rows


def _peer_row(
    peer: str, case: str, prob: Any, seconds: float, bound: float, seed: int
) -> dict[str, Any]:
    """Run one peer on the lifted variant and score its plan with `check` (carrying our bound)."""
    from dispatch.planner import check, plan_from_dict

    if peer == "vroom":
        out = vroom_plan(prob, seconds, bound)
    else:
        out = pyvrp_plan(prob, seconds, bound, seed)
    if out is None:
        fault = [f"{peer} left groups unassigned"]
        return _row(case, "lifted", peer, float("nan"), 0, bound, seconds, fault, -1)
    plan = plan_from_dict(out)
    faults = check(prob, plan)
    print(f"  {peer}: {plan.summary.cost:,.0f} ({plan.summary.buses} buses)", file=sys.stderr)
    s = plan.summary
    return _row(case, "lifted", peer, s.cost, s.buses, bound, out["summary"]["seconds"], faults, 0)


PEERS = ("vroom", "pyvrp")


def _row(
    case: str,
    rules: str,
    solver: str,
    cost: float,
    buses: int,
    bound: float,
    secs: float,
    faults: list[str],
    missed: int,
) -> dict[str, Any]:
    """One table row."""
    gap = (cost - bound) / cost if cost and cost == cost else float("nan")
    return {
        "case": case,
        "rules": rules,
        "solver": solver,
        "cost": cost,
        "buses": buses,
        "bound": bound,
        "gap": gap,
        "seconds": secs,
        "check": "ok" if not faults else f"{len(faults)} faults: {faults[0]}",
        "unassigned": missed,
    }


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of the rows."""
    head = "| case | rules | solver | cost | buses | our bound | gap to bound | seconds | unassigned | check |\n|---|---|---|---:|---:|---:|---:|---:|---:|---|\n"
    return head + "".join(
        f"| {r['case']} | {r['rules']} | {r['solver']} | {r['cost']:,.0f} | {r['buses']} | {r['bound']:,.0f} | "
        f"{r['gap']:.1%} | {r['seconds']:.1f} | {r['unassigned']} | {r['check']} |\n"
        for r in rows
    )


def main() -> None:
    """python bench/planner.py [--case 300|1000|3000|season]… [--quick] [--seconds S] [--no-peers] [--record]"""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--quick", action="store_true", help="300 only, 5 s")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--record", action="store_true", help="write the table into bench/RESULTS.md"
    )
    args = parser.parse_args()
    cases = ["300"] if args.quick else (args.case or ["300", "1000", "3000", "season"])
    seconds = 5.0 if args.quick else args.seconds
    rows = [r for c in cases for r in run_case(c, seconds, args.seed, not args.no_peers)]
    text = table(rows)
    print(text)
    if args.record:
        record(Path(__file__).with_name("RESULTS.md"), text)


def record(path: Any, text: str) -> None:
    """Replace the Planner section of RESULTS.md, keeping the others."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    head, _, rest = old.partition("\n## Planner\n")
    tail = rest[rest.find("\n## ") :] if "\n## " in rest else ""
    section = "\n## Planner\n\n" + PLANNER_NOTE + "\n" + text
    path.write_text(head.rstrip("\n") + "\n" + section + tail, encoding="utf-8")


PLANNER_NOTE = (
    "`python bench/planner.py --record`, Python 3.11, 2 CPUs, nothing else running while this "
    "round was measured, seed 1; our planner's local search runs in two processes when it has "
    "10 s or more (search/parallel.py), VROOM uses 2 threads, PyVRP 1. "
    "Generated Linfen days: 17 counties → 12 Shanghai/Jiangsu sites, 45 % singles, families of 2–10, "
    "coaches 31/43/51 seats at 9,000/11,000/12,500 CNY + 3 CNY/km, western mountain counties via "
    "`matrix_km` (× 1.45). Budgets: default rules (≤ 3 pickups, ≤ 2 drop-offs, 150 km spread) 2× "
    "--seconds = 60 s; lifted rules (all null), VROOM and PyVRP --seconds = 30 s each; season (14 "
    "days × ~1,430 workers, windows 0–3 extra days, 25 coaches of each type a day) 4× = 120 s.\n\n"
    "Peers, lifted variant only (neither can limit stops): pyvroom 1.15.2 (exploration level 5, 2 "
    "threads) and PyVRP 0.14.1 (MaxRuntime, 1 thread), each with one shipment per group, vehicles of "
    "every coach type with capacity, fixed cost and per-km cost, a free start (0 km to every site), "
    "no end (PyVRP: a free return), and a `max_distance` of 2 × (shortest pickup → drop-off) + "
    "(shortest drop-off → pickup) − 1 km = 2,873 km, so that no vehicle can pick up again after a "
    "drop-off (rule 4); our longest lifted trip is printed next to it. Their routes are converted to "
    "our trip form (pickup sites then drop-off sites, each at its first visit; a route that broke "
    "rule 4 would keep its raw order so that `check` reports it) and scored with "
    "`dispatch.planner.check`, carrying our bound, so `check` also tests our bound against their "
    "cost. `seconds` is wall time, also when a solver overran its budget.\n"
)

if __name__ == "__main__":
    main()
