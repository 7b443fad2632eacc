"""The report of bench/plan_queue.py: page latencies while the plan ran, the plan's own timings and
memory, and the section written into bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import results  # noqa: E402
from load_data import (  # noqa: E402
    DAYS,
    FIRST_DAY,
)
from load_report import percentile  # noqa: E402

from dispatch.services import planning

HEADING = "## Planning in a worker"
KINDS = {  # page kind → weight in a coordinator's choice
    "plans_index": 20,
    "plan_show": 20,
    "search": 25,
    "trip_page": 20,
    "dashboard": 15,
}


def season() -> planning.Scope:
    return planning.Scope(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))


# --- the report ---------------------------------------------------------------------------


def window(samples, start: float | None, end: float | None) -> dict[str, list[tuple[float, int]]]:
    """Per kind, (ms, status) of the requests made wholly inside [start, end]."""
    kinds: dict[str, list[tuple[float, int]]] = defaultdict(list)
    if start is None or end is None:
        return kinds
    for kind, began, ended, status in samples:
        if start <= began and ended <= end:
            kinds[kind].append(((ended - began) * 1000, status))
    return kinds


def row(label: str, values: list, server: list[float], alone: list | None = None) -> str:
    """A table row: client times and errors, gunicorn's own times, the same page alone."""
    ms = [v for v, _ in values]
    errors = sum(1 for _, status in values if status != 200)
    before = "— | —"
    if alone is not None:
        first = [v for v, _ in alone]
        before = f"{percentile(first, 50):.0f} | {percentile(first, 95):.0f}"
    return (
        f"| {label} | {len(ms):,} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | "
        f"{max(ms, default=0):.0f} | {errors} | {percentile(server, 50):.0f} | "
        f"{percentile(server, 95):.0f} | {before} |"
    )


def setup(args, r: dict) -> list[str]:
    """The command, the machine and what ran, as two paragraphs."""
    stale = f" and PLANNER_STALE_S={args.stale_s:g}" if args.stale_s else ""
    if args.queue == "form":
        queued = f"through the plans form (POST /plans/ as an admin, {r['post_ms']:.0f} ms)"
    else:
        queued = f"with plan_queue.queue_plan ({r['post_ms']:.0f} ms)"
    scope = season()
    return [
        f"`{' '.join(['bench/plan_queue.py', *sys.argv[1:]])}`, {datetime.now(UTC):%Y-%m-%d %H:%M} "
        f"UTC, Python {platform.python_version()}, {os.cpu_count()} CPUs ({cpu_model()}), "
        f"{ram_gb():.0f} GB RAM; load average {r['load_before']:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after. {args.note}".rstrip(),
        "",
        f"PostgreSQL 15 on loopback, {r['workers']:,} workers over {DAYS} days (bench/load.py's "
        f"cluster), {r['open']:,} of them open in the season, {r['crews']} two-driver crews; "
        f"gunicorn {args.web_workers} sync workers (deploy/gunicorn.conf.py) and one "
        f"`flask --app dispatch worker run` with PLANNER_WORKERS=1{stale}. {args.clients} county "
        "coordinators, each opening a page after an exponential think time (mean "
        f"{args.think:g} s): plans list, the running plan, worker search, a trip of the published "
        f"day, dashboard. Queued {queued}: the whole city, {scope.date_from} – {scope.date_to}, "
        f"time limit {args.time_limit:g} s. Client times include queueing for a free gunicorn "
        'worker; "in worker" is gunicorn\'s own time (access log, whole seconds); "alone" is the '
        "same page in the --baseline seconds before the plan was queued.",
    ]


def render(args, r: dict) -> tuple[str, bool]:
    w = r["watch"]  # plan_watch.Watch
    m, walls = w.marks, w.walls
    ended = m.get("ended", time.monotonic())
    running = window(r["samples"], m.get("running"), ended)
    every = [v for values in running.values() for v in values]

    def server(kind: str | None, since: str, until: str) -> list[float]:
        a, b = walls.get(since), walls.get(until)
        if a is None or b is None:
            return []
        return [ms for at, k, ms in r["server"] if a <= at <= b and kind in (None, k)]

    p95 = percentile([v for v, _ in every], 95)
    met = bool(every) and p95 <= 300 and r["status"] == "draft" and r["by_worker"]
    lines = [HEADING, "", *setup(args, r), ""]
    alone = window(r["samples"], m.get("baseline"), m.get("queued"))
    lines += [
        "| pages while the plan is `running` | count | p50 ms | p95 ms | max ms | errors "
        "| in worker p50 | in worker p95 | alone p50 | alone p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in (k for k in KINDS if k in running):
        lines.append(row(kind, running[kind], server(kind, "running", "ended"), alone[kind]))
    flat = [v for values in alone.values() for v in values]
    lines.append(row("**all, while running**", every, server(None, "running", "ended"), flat))
    phases = (
        ("… claimed, building the problem", "running", "solving"),
        ("… solving (solver process alive)", "solving", "solved"),
        ("… storing the draft", "solved", "ended"),
    )
    for label, since, until in phases:
        values = window(r["samples"], m.get(since), m.get(until))
        flat = [v for vs in values.values() for v in vs]
        lines.append(row(label, flat, server(None, since, until)))
    lines += [
        "",
        *outcome(r, w),
        "",
        f"Target (pages p95 ≤ 300 ms while the plan runs in the worker): **{'met' if met else 'missed'}**.",
        "",
        "",
    ]
    return "\n".join(lines), met


def outcome(r: dict, w) -> list[str]:  # w: plan_watch.Watch
    """The plan's timeline, result, heartbeat and memory, as sentences."""
    m = w.marks

    def span(a: str, b: str) -> str:
        return f"{m[b] - m[a]:.0f} s" if a in m and b in m else "?"

    claimed = "yes" if r["by_worker"] else f"NO ({w.row.get('claimed_by')})"
    waited = "never claimed"
    if r["started_at"] is not None:
        waited = f"waited {(r['started_at'] - r['created_at']).total_seconds():.1f} s in the queue"
    gaps = [(b - a).total_seconds() for a, b in zip(w.beats, w.beats[1:], strict=False)]
    peaks: dict[str, int] = defaultdict(int)
    for role, kb in w.peak.values():
        peaks[role] = max(peaks[role], kb)
    solving_kb = sum(kb for role, kb in w.peak.values() if role != "worker")
    log = r["worker_log"].splitlines()
    problems = {word: sum(word in line for line in log) for word in ("Traceback", "failed", "lost")}
    groups, people = r["unassigned"]
    cost = "no cost"
    if r["cost"] is not None and r["gap"] is not None:
        cost = f"cost {r['cost']:,.0f} CNY, gap to its bound {r['gap']:.1%}"
    error = f" ({r['error']})" if r["error"] else ""
    return [
        f"Plan {r['plan_id']}: **{r['status']}**{error}; claimed by the planning worker: {claimed}; "
        f"claims {r['attempts']}, restarts {r['restarts']}; {waited}.",
        f"From claim to stored draft {span('running', 'ended')}: building the problem "
        f"{span('running', 'solving')}, solving {span('solving', 'solved')} (the planner's own "
        f"{r['planner_s'] or 0:.0f} s), storing {span('solved', 'ended')}. {r['trips']:,} buses, "
        f"{r['seats']:,} seats, {groups:,} groups ({people:,} workers) unassigned, {cost}.",
        f"Heartbeats seen {len(w.beats)}, longest gap between two {max(gaps, default=0):.1f} s; "
        f"the heartbeat was at most {w.oldest_beat_s:.1f} s old while running (PLANNER_STALE_S "
        f"{r['stale_s']:g}).",
        f"Peak RSS (VmHWM): worker {peaks['worker'] / 1024:.0f} MB, solver "
        f"{peaks['solver'] / 1024:.0f} MB, its helper {peaks['solver helper'] / 1024:.0f} MB "
        f"({solving_kb / 1024:.0f} MB for the solving processes together; a helper of 0 MB was not seen). "
        f"Worker log lines with {', '.join(f'{k}: {v}' for k, v in problems.items())}.",
    ]


def cpu_model() -> str:
    info = Path("/proc/cpuinfo").read_text(errors="replace")
    found = re.search(r"model name\s*:\s*(.+)", info)
    return found.group(1).strip() if found else platform.machine()


def ram_gb() -> float:
    found = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    return int(found.group(1)) / 1024**2 if found else 0.0


def write_section(section: str) -> None:
    """Replace (or add) this bench's section of RESULTS.md, leaving the others alone."""
    results.write_section(HEADING, section)
