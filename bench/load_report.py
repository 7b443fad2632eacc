"""The load test's checks and report (bench/load.py): seat maps before and after, lost updates,
server times from the access log, percentiles, and the section written into RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import results  # noqa: E402

from dispatch.extensions import db  # noqa: E402
from dispatch.models import Plan, SeatAssignment, Trip  # noqa: E402


@dataclass
class Tally:
    """One coordinator's measurements and accepted writes."""

    # kind, ms, status (0: exception)
    samples: list[tuple[str, float, int]] = field(default_factory=list)
    # trip, base version, change
    accepted: list[tuple[int, int, tuple]] = field(default_factory=list)
    in_doubt: set[int] = field(default_factory=set)  # trips with a write of unknown outcome
    failures: Counter[str] = field(default_factory=Counter)  # "kind status" unexpected


# --- checks and report ----------------------------------------------------------------------


def snapshot(app) -> dict[int, tuple[int, dict[int, int]]]:
    """trip id → (version, seat_no → worker_id) for the published plan."""
    with app.app_context():
        trips = db.session.scalars(select(Trip).join(Plan).where(Plan.status == "published")).all()
        maps: dict[int, tuple[int, dict[int, int]]] = {t.id: (t.version, {}) for t in trips}
        rows = db.session.execute(
            select(SeatAssignment.trip_id, SeatAssignment.seat_no, SeatAssignment.worker_id).where(
                SeatAssignment.trip_id.in_(maps)
            )
        )
        for trip_id, seat_no, worker_id in rows:
            maps[trip_id][1][seat_no] = worker_id
        db.session.commit()
    return maps


def replay(seats: dict[int, int], change: tuple) -> dict[int, int]:
    seats = dict(seats)
    if change[0] == "move":
        _, worker, target = change
        seats = {n: w for n, w in seats.items() if w != worker}
        seats[target] = worker
    else:
        _, a, b = change
        first, second = seats.pop(a, None), seats.pop(b, None)
        seats.update({k: v for k, v in ((b, first), (a, second)) if v is not None})
    return seats


def check_lost_updates(before, after, tallies: list[Tally]) -> list[str]:
    """Every trip's version moved once per accepted write, and replaying them gives the end state."""
    writes: dict[int, list[tuple[int, tuple]]] = defaultdict(list)
    doubt = set().union(*(t.in_doubt for t in tallies))
    for tally in tallies:
        for trip_id, version, change in tally.accepted:
            writes[trip_id].append((version, change))
    problems = []
    for trip_id, (version, seats) in before.items():
        final_version, final_seats = after[trip_id]
        done = sorted(writes.get(trip_id, []), key=lambda w: w[0])
        if trip_id in doubt and final_version - version != len(done):
            continue  # a write whose answer never came may or may not have happened
        if [v for v, _ in done] != list(range(version, final_version)):
            problems.append(
                f"trip {trip_id}: versions {version}→{final_version}, accepted {[v for v, _ in done]}"
            )
            continue
        for _, change in done:
            seats = replay(seats, change)
        if seats != final_seats:
            problems.append(f"trip {trip_id}: replayed seat map differs from the database")
    return problems


def check_seats(app) -> list[str]:
    """No worker twice in a plan, no seat twice on a bus, no seat beyond the coach."""
    with app.app_context():
        sa = SeatAssignment
        twice = db.session.execute(
            select(sa.plan_id, sa.worker_id)
            .group_by(sa.plan_id, sa.worker_id)
            .having(func.count() > 1)
        ).all()
        shared = db.session.execute(
            select(sa.trip_id, sa.seat_no).group_by(sa.trip_id, sa.seat_no).having(func.count() > 1)
        ).all()
        beyond = db.session.scalar(
            text(
                "SELECT count(*) FROM seat_assignment s JOIN trip t ON t.id = s.trip_id "
                "JOIN coach_type c ON c.id = t.coach_type_id WHERE s.seat_no > c.rated_seats - c.crew_seats"
            )
        )
        db.session.commit()
    return (
        [f"worker seated twice: {r}" for r in twice]
        + [f"seat taken twice: {r}" for r in shared]
        + ([f"{beyond} seats beyond their coach"] if beyond else [])
    )


SERVER_KINDS = (  # access-log request line → kind, as the clients name them
    (re.compile(r'"POST /login'), "login"),
    (re.compile(r'"GET /workers/\?'), "search"),
    (re.compile(r'"GET /api/v1/workers\?'), "api_search"),
    (re.compile(r'"GET /trips/\d+ '), "trip_page"),
    (re.compile(r'"GET /api/v1/trips/\d+ '), "api_trip"),
    (re.compile(r'"PUT /api/v1/trips/'), "api_move"),
    (re.compile(r'"POST /trips/\d+/seats/swap'), "swap"),
)


STAMP = re.compile(r"\[(\d\d/\w{3}/\d{4}:[\d:]{8} [+-]\d{4})\]")  # access log's %(t)s


def access_times(log: Path, kinds) -> list[tuple[datetime, str, float]]:
    """(moment, kind, ms in a gunicorn worker) of each request of ``kinds`` in the access log.

    ``kinds``: (pattern on the line, kind) pairs, the first match naming the request."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        stamp = STAMP.search(line)
        kind = next((k for pattern, k in kinds if pattern.search(line)), None)
        if stamp and kind and line.endswith("ms"):
            moment = datetime.strptime(stamp.group(1), "%d/%b/%Y:%H:%M:%S %z")
            found.append((moment, kind, float(line.rsplit(" ", 1)[1][:-2])))
    return found


def server_times(log: Path) -> dict[str, list[float]]:
    """Milliseconds each request spent in a gunicorn worker (no queueing), by kind."""
    times: dict[str, list[float]] = defaultdict(list)
    for _moment, kind, ms in access_times(log, SERVER_KINDS):
        times[kind].append(ms)
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0
    )


def summarise(tallies: list[Tally], seconds: float, server: dict[str, list[float]]) -> dict:
    by_kind: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    for tally in tallies:
        for kind, ms, status in tally.samples:
            by_kind[kind].append(ms)
            statuses[f"{kind} {status}"] += 1
    every = [ms for kind, values in by_kind.items() if kind != "login" for ms in values]
    in_worker = [ms for kind, values in server.items() if kind != "login" for ms in values]
    rows = [_row(kind, v, server.get(kind, [])) for kind, v in sorted(by_kind.items())]
    rows.append(_row("all in the window", every, in_worker))
    return {
        "rows": rows,
        "rate": len(every) / seconds,
        "statuses": statuses,
        "5xx": sum(n for key, n in statuses.items() if int(key.split()[1]) >= 500),
        "failures": sum((t.failures for t in tallies), Counter()),
        "accepted": sum(len(t.accepted) for t in tallies),
    }


def _row(kind: str, client: list[float], server: list[float]) -> tuple:
    label = "login (before the window)" if kind == "login" else kind
    return (
        label,
        len(client),
        *(percentile(client, p) for p in (50, 95, 99)),
        max(client, default=0),
        percentile(server, 50),
        percentile(server, 95),
    )


def render(args, summary: dict, problems: list[str], facts: dict) -> str:
    p95 = summary["rows"][-1][3]
    met = p95 <= 300 and summary["5xx"] == 0 and not problems
    lines = [
        "## Load",
        "",
        f"`bench/load.py --duration {args.duration:.0f} --clients {args.clients} --think {args.think}`, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, {os.cpu_count()} CPUs "
        "shared with other engineers' work (client threads, gunicorn, the scheduler and PostgreSQL all on "
        f"this machine; load average {facts['load_before']:.1f} before, {os.getloadavg()[0]:.1f} after). "
        f"PostgreSQL 15 on loopback (fsync on), {facts['workers']:,} workers, one published day of "
        f"{facts['buses']} buses / {facts['seated']:,} seats; gunicorn {args.web_workers} sync workers "
        "(deploy/gunicorn.conf.py) and one `scheduler run` process. Each coordinator logs in through the "
        "form (all within 10 s, before the timed window opens), then repeats a random action with an "
        f"exponential think time (mean {args.think} s): search "
        "workers (page 30 %, API 10 %), open a trip page (25 %), move a worker of their county to a free "
        "seat via the API with the trip's version (20 %: GET trip + PUT), swap two seats through the "
        "trip form with CSRF (15 %: GET trip + POST). Client times include queueing for a free gunicorn "
        'worker; "in worker" is gunicorn\'s own request time (access log).',
        "",
        "| request | count | p50 ms | p95 ms | p99 ms | max ms | in worker p50 | in worker p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {k} | {n:,} | {a:.0f} | {b:.0f} | {c:.0f} | {d:.0f} | {e:.0f} | {f:.0f} |"
        for k, n, a, b, c, d, e, f in summary["rows"]
    ]
    conflicts = sum(n for key, n in summary["statuses"].items() if key.endswith(" 409"))
    lines += [
        "",
        f"Throughput {summary['rate']:.1f} requests/s; 5xx: {summary['5xx']}; other unexpected answers: "
        f"{dict(summary['failures']) or 'none'}; accepted seat writes {summary['accepted']:,}, "
        f"refused as stale (409) {conflicts:,}.",
        f"Database afterwards: {'; '.join(problems) if problems else 'no worker seated twice, no seat taken twice, every trip version advanced exactly once per accepted write and the replayed writes give the final seat maps (no lost update)'}.",
        f"Targets (p95 ≤ 300 ms, no 5xx, consistent seats): **{'met' if met else 'missed'}**.",
        "",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace (or add) this bench's section of RESULTS.md, leaving the others alone."""
    results.write_section("## Load", section)
