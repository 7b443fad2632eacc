"""Does the planner keep its time limit on a whole season? (issue 17 §7)

    python bench/season_limit.py [--shape 100k-14 --shape 99k-33] [--seconds 120] [--record]
                                 [--topup]

Each shape is a generated Linfen season (bench/planner.problem, default rules):
``100k-14`` is 100,000 workers over 14 days with windows of 0–3 extra days (one block of
dates), ``99k-33`` is 99,000 over 33 days with windows of 0–1 (the shape of bench/plan_queue.py's
cluster), ``99k-33-fleet`` the same with 30 coaches of each type a day (90 for about 70
needed). Every plan is checked; the row says how long `solve` took against its limit, what the
stages took (from its progress reports) and the gap to our own bound.

With ``--topup``, each season's plan is then planned again as a top-up is (services/topup.py):
its buses as fixed trips, every group still in the problem, and 30 late groups; the row
``<shape>+30`` says how long that took against the same limit.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.planner import problem  # noqa: E402
from bench.results import write_section  # noqa: E402

HEADING = "## Planner on a whole season (time limit)"
# workers, days, extra days of a window at most, coaches of each type a day (None: no limit)
SHAPES = {
    "100k-14": (100_000, 14, 3, None),
    "99k-33": (99_000, 33, 1, None),
    "99k-33-fleet": (99_000, 33, 1, 30),
}


def run(shape: str, seconds: float, topup: bool = False) -> list[dict[str, Any]]:
    """One season solved within `seconds` and checked (then its top-up, with ``topup``)."""
    from dispatch.planner import plan_to_dict

    workers, days, window, fleet = SHAPES[shape]
    data = problem(workers // days, days, 1, window, fleet)
    row, plan = _solved(shape, data, seconds)
    if not topup:
        return [row]
    late = problem(30, 1, 2, window, fleet)["groups"]  # another seed: other counties and sizes
    for group in late:
        group["id"] = f"late-{group['id']}"
        group["members"] = [f"late-{m}" for m in group.get("members", [])]
    fixed = {**data, "groups": data["groups"] + late, "fixed_trips": plan_to_dict(plan)["trips"]}
    return [row, _solved(f"{shape}+30", fixed, seconds)[0]]


def _solved(shape: str, data: dict[str, Any], seconds: float) -> tuple[dict[str, Any], Any]:
    from dispatch.planner import check, load_problem, solve

    prob = load_problem(data)
    marks: list[tuple[str, float]] = []
    started = time.monotonic()
    plan = solve(prob, seconds, 1, lambda _f, msg: marks.append((msg, time.monotonic() - started)))
    spent = time.monotonic() - started
    s = plan.summary
    stages = ", ".join(
        f"{name} {later - at:.1f} s"
        for (name, at), (_, later) in zip(marks, marks[1:], strict=False)
    )
    row = {
        "shape": shape,
        "groups": len(prob.groups),
        "limit": seconds,
        "seconds": spent,
        "cost": s.cost,
        "buses": s.buses,
        "gap": s.gap,
        "unassigned": len(plan.unassigned),
        "faults": len(check(prob, plan)),
        "stages": stages,
    }
    print(f"{shape}: {spent:.1f} s for {seconds:.0f} s, gap {s.gap:.1%}; {stages}", file=sys.stderr)
    return row, plan


def table(rows: list[dict[str, Any]]) -> str:
    """One line a shape, and its stages below the table."""
    lines = [
        "| season | groups | limit | took | over | cost | buses | gap | unassigned | faults |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        over = max(0.0, r["seconds"] - r["limit"])
        lines.append(
            f"| {r['shape']} | {r['groups']:,} | {r['limit']:.0f} s | {r['seconds']:.1f} s | "
            f"{over:.1f} s | {r['cost']:,.0f} | {r['buses']:,} | {r['gap']:.1%} | "
            f"{r['unassigned']} | {r['faults']} |"
        )
    lines.append("")
    lines += [f"- {r['shape']}: {r['stages']}." for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=sorted(SHAPES), action="append")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--record", action="store_true", help="write into bench/RESULTS.md")
    parser.add_argument("--note", default="", help="a sentence for RESULTS.md (the machine's load)")
    parser.add_argument("--topup", action="store_true", help="then plan each again as a top-up")
    args = parser.parse_args()
    rows = [
        row
        for shape in args.shape or sorted(SHAPES)
        for row in run(shape, args.seconds, args.topup)
    ]
    text = table(rows)
    print(text)
    if args.record:
        shapes = " ".join(f"--shape {s}" for s in args.shape or [])
        more = " --topup" if args.topup else ""
        command = f"python bench/season_limit.py {shapes} --seconds {args.seconds:g}{more}"
        head = (
            f"`{' '.join(command.split())}`, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs. {args.note}\n\n"
        )
        write_section(HEADING, f"{HEADING}\n\n{head}{text}\n")


if __name__ == "__main__":
    main()
