"""The bound on blocks of several dates: pooled model against the dated one (lp/dated.py).

    python bench/dated_bound.py [--workers 500] [--days 3] [--window 1] [--seconds 60] [--record]

One generated period (bench/planner.problem, default rules, windows of 0 to `--window` extra
days, so its dates make one block): the pooled column-generation bound, the dated model's bound
(each alone, `--seconds` each), and `solve` within `--seconds` with its plan checked and its gap
to the bound it reports.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.planner import problem  # noqa: E402
from bench.results import write_section  # noqa: E402

HEADING = "## Planner on blocks of several dates (dated bound)"


def main() -> None:
    from dispatch.planner import check, load_problem, solve
    from dispatch.planner.bound.lower import dated_pattern_bound, pattern_input
    from dispatch.planner.lp.colgen import column_bound
    from dispatch.planner.world.blocks import blocks, demand
    from dispatch.planner.world.buses import World

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=500, help="workers a day")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--window", type=int, default=1, help="extra days of a window at most")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    prob = load_problem(problem(args.workers, args.days, args.seed, args.window))
    world = World(prob)
    lines = [
        "| block | groups | dated patterns × dates | pooled bound (s) | dated bound (s) | rise |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for days, groups in blocks(world, prob.groups):
        task = pattern_input(world, days, demand(world, groups), len(groups))
        t0 = time.monotonic()
        pooled = column_bound(task, args.seconds, split=False).bound
        t1 = time.monotonic()
        dated = dated_pattern_bound(world, days, groups, task, args.seconds).bound
        t2 = time.monotonic()
        rise = (dated - pooled) / pooled if pooled > 0 else 0.0
        lines.append(
            f"| {days[0]}..{days[-1]} | {len(groups):,} | {len(task.patterns):,} × {len(days)} "
            f"| {pooled:,.0f} ({t1 - t0:.1f}) | {dated:,.0f} ({t2 - t1:.1f}) | {rise:+.1%} |"
        )
    started = time.monotonic()
    plan = solve(prob, args.seconds, args.seed)
    s = plan.summary
    faults = len(check(prob, plan))
    lines += [
        "",
        f"`solve` in {args.seconds:.0f} s: {s.cost:,.0f} with {s.buses} buses, bound "
        f"{s.lower_bound_cost:,.0f}, gap {s.gap:.1%}, {time.monotonic() - started:.1f} s, "
        f"{faults} faults.",
    ]
    text = (
        f"{HEADING}\n\n"
        f"`python bench/dated_bound.py --workers {args.workers} --days {args.days} "
        f"--window {args.window} --seconds {args.seconds:.0f}`, Python "
        f"{platform.python_version()}, seed {args.seed}.\n\n" + "\n".join(lines) + "\n"
    )
    print(text)
    if args.record:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
