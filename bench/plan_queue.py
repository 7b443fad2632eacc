"""Planning in a worker (issue 21): the season's plan solves in a worker while pages stay fast.

    .venv/bin/python bench/plan_queue.py [--time-limit 120] [--clients 10] [--think 1]
        [--queue form|direct] [--baseline 60] [--note TEXT] [--keep-draft] [--no-write]

Uses bench/load.py's PostgreSQL cluster (built once in --cluster, the same default, then reused):
100,000 workers over 33 days, one published day, county coordinators coord01…. Starts gunicorn
(deploy/gunicorn.conf.py) and ONE planning worker (`flask --app dispatch worker run`,
PLANNER_WORKERS=1), logs the coordinators in, measures their pages alone for --baseline
seconds, then queues a plan of the whole season for the whole city with --time-limit: through
the plans form (POST /plans/ with CSRF, as an admin) or, with --queue direct,
plan_queue.queue_plan. Until the plan ends, each coordinator opens a page after an exponential
think time: the plans list, the running plan, a worker search, a trip of the published day,
the dashboard. Reported: client latency per page for the requests made while the plan was
`running` (target p95 ≤ 300 ms); how long the plan waited, built its problem, solved and stored
its draft; its heartbeat gaps; peak RSS (VmHWM, sampled every 0.5 s) of the worker and its
solver processes; the machine. The figures replace the "Planning in a worker" section of
bench/RESULTS.md. The bench's season plans are deleted before and after a run, so that runs
stay alike (--keep-draft keeps this run's).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests
from load_data import (  # noqa: E402 (it puts the project on sys.path)
    PASSWORD,
    add_arguments,
    build,
    coordinator_trips,
    make_app,
    start_cluster,
)
from load_report import access_times, snapshot  # noqa: E402
from plan_queue_report import KINDS, render, season, write_section  # noqa: E402
from plan_watch import Watch  # noqa: E402
from sqlalchemy import delete, func, select

from dispatch.extensions import db
from dispatch.models import (
    Driver,
    OutboundMessage,
    Plan,
    SeatAssignment,
    Trip,
    TripChange,
    TripStop,
    User,
    Worker,
)
from dispatch.services import accounts, demo, plan_queue, planning
from tests.support.gunicorn import Gunicorn, app_env, csrf_of, flask_process, web_session

ADMIN = "planadmin"  # a city-wide user: a county coordinator's plan covers their counties only
SERVER_KINDS = (  # access-log request line → kind
    (re.compile(r'"GET /plans/ '), "plans_index"),
    (re.compile(r'"GET /plans/\d+ '), "plan_show"),
    (re.compile(r'"GET /workers/\?'), "search"),
    (re.compile(r'"GET /trips/\d+ '), "trip_page"),
    (re.compile(r'"GET / '), "dashboard"),
)


# --- the coordinators ---------------------------------------------------------------------


class Coordinator(threading.Thread):
    """Opens a coordinator's pages one after another until told to stop."""

    def __init__(self, n: int, base: str, trips: list[int], watch: Watch, stop, think: float):
        super().__init__(name=f"coord{n:02d}", daemon=True)
        self.base, self.trips, self.watch, self.stop, self.think = base, trips, watch, stop, think
        self.rng = random.Random(n)
        self.samples: list[tuple[str, float, float, int]] = []  # kind, start, end, status
        self.web = web_session(base, self.name, PASSWORD)

    def run(self) -> None:
        time.sleep(self.rng.uniform(0, self.think))
        while not self.stop.is_set():
            kinds = [k for k in KINDS if k != "plan_show" or self.watch.plan_id]
            kind = self.rng.choices(kinds, weights=[KINDS[k] for k in kinds])[0]
            self.get(kind, self.path(kind))
            self.stop.wait(min(self.rng.expovariate(1 / self.think), 5 * self.think))

    def path(self, kind: str) -> str:
        if kind == "plans_index":
            return "/plans/"
        if kind == "plan_show":
            return f"/plans/{self.watch.plan_id}"
        if kind == "search":
            q = self.rng.choice(
                (self.rng.choice(demo.SURNAMES), f"138{self.rng.randrange(1000):03d}")
            )
            return f"/workers/?q={q}"
        if kind == "trip_page":
            return f"/trips/{self.rng.choice(self.trips)}"
        return "/"

    def get(self, kind: str, path: str) -> None:
        started = time.monotonic()
        try:
            status = self.web.get(self.base + path, timeout=60, allow_redirects=False).status_code
        except requests.RequestException:
            status = 0
        self.samples.append((kind, started, time.monotonic(), status))


# --- setting up, queueing, measuring --------------------------------------------------------


def prepare(app, crews: int) -> dict:
    """A city-wide admin, ``crews`` two-driver crews, no plan left active, the data's facts."""
    with app.app_context():
        if not db.session.scalar(select(User.id).filter_by(username=ADMIN)):
            accounts.create_user(ADMIN, "admin", PASSWORD)
        have = db.session.scalar(select(func.count()).select_from(Driver))
        # load.py's cluster has the demo's 26 drivers: 13 buses a day, a fifth of the season
        db.session.add_all(
            Driver(name=f"备班司机{n}", phone=f"+86139{n:08d}") for n in range(have, 2 * crews)
        )
        remove_season_plans()
        scope = season()
        facts = {
            "crews": db.session.scalar(select(func.count()).select_from(Driver)) // 2,
            "workers": db.session.scalar(select(func.count()).select_from(Worker)),
            "open": planning.count_open_workers(scope),
        }
        db.session.commit()
    return facts


def remove_season_plans(keep: int | None = None) -> None:
    """Delete this bench's season plans (not published) with their buses: runs stay alike."""
    scope = season()
    plans = select(Plan.id).where(
        Plan.date_from == scope.date_from,
        Plan.date_to == scope.date_to,
        Plan.status != "published",
        Plan.id != (keep or 0),
    )
    trips = select(Trip.id).where(Trip.plan_id.in_(plans))
    db.session.execute(delete(SeatAssignment).where(SeatAssignment.plan_id.in_(plans)))
    for model in (TripStop, TripChange, OutboundMessage):
        db.session.execute(delete(model).where(model.trip_id.in_(trips)))
    db.session.execute(delete(Trip).where(Trip.plan_id.in_(plans)))
    db.session.execute(delete(Plan).where(Plan.id.in_(plans)))
    db.session.commit()


def queue_by_form(base: str, limit: float) -> tuple[int, float]:
    """POST /plans/ as an admin would (CSRF from the page); the plan id and the request's ms."""
    web = web_session(base, ADMIN, PASSWORD)
    token = csrf_of(web.get(base + "/plans/", timeout=60).text)
    scope, started = season(), time.monotonic()
    form = {
        "csrf_token": token,
        "date_from": scope.date_from.isoformat(),
        "date_to": scope.date_to.isoformat(),
        "time_limit": f"{limit:g}",
    }
    answer = web.post(base + "/plans/", data=form, allow_redirects=False, timeout=600)
    ms = (time.monotonic() - started) * 1000
    found = re.search(r"/plans/(\d+)$", answer.headers.get("Location", ""))
    if answer.status_code != 302 or not found:
        raise SystemExit(f"the plans form refused: {answer.status_code} {answer.text[:500]}")
    return int(found.group(1)), ms


def queue_direct(app, limit: float) -> tuple[int, float]:
    started = time.monotonic()
    with app.app_context():
        admin = db.session.scalar(select(User).filter_by(username=ADMIN))
        plan_id = plan_queue.queue_plan(season(), admin, limit).id
        db.session.commit()
    return plan_id, (time.monotonic() - started) * 1000


def measure(args, url: str, tmp: Path, facts: dict) -> dict:
    """Run gunicorn, the worker and the coordinators around one queued season plan."""
    app = make_app(url, tmp)
    maps = snapshot(app)
    with app.app_context():
        trips = coordinator_trips(maps)
        db.session.commit()
    env = app_env(url, SMS_BACKEND="console")
    env["WEB_CONCURRENCY"] = str(args.web_workers)
    if args.stale_s:
        env["DISPATCH_PLANNER_STALE_S"] = f"{args.stale_s:g}"
    server = Gunicorn(env, tmp / "gunicorn.log", workers=args.web_workers)
    worker = flask_process(
        ["worker", "run"], {**env, "DISPATCH_PLANNER_WORKERS": "1"}, tmp / "worker.log"
    )
    watch, stop = Watch(url, worker.pid), threading.Event()
    try:
        server.wait_ready()
        names = [f"coord{n:02d}" for n in range(1, args.clients + 1)]
        clients = [
            Coordinator(n, server.url, trips[name], watch, stop, args.think)
            for n, name in enumerate(names, start=1)
        ]
        watch.start()
        watch.mark("baseline")
        for client in clients:
            client.start()
        time.sleep(args.baseline)
        watch.mark("queued")
        if args.queue == "form":
            plan_id, post_ms = queue_by_form(server.url, args.time_limit)
        else:
            plan_id, post_ms = queue_direct(app, args.time_limit)
        watch.plan_id = plan_id
        if not watch.done.wait(args.max_wait):
            print(f"plan {plan_id} still {watch.row.get('status')} after {args.max_wait:.0f} s")
        time.sleep(args.tail)
    finally:
        stop.set()
        watch.done.set()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.stop()
    for client in clients:
        client.join(70)
    samples = [s for c in clients for s in c.samples]
    result = finish(app, plan_id, watch, args)
    with app.app_context():
        db.engine.dispose()
    watch.engine.dispose()
    owner = f"{socket.gethostname()} pid {worker.pid}"
    return {
        **facts,
        **result,
        "post_ms": post_ms,
        "stale_s": args.stale_s or float(app.config["PLANNER_STALE_S"]),
        "samples": samples,
        "server": access_times(tmp / "gunicorn.log", SERVER_KINDS),
        "watch": watch,
        "by_worker": watch.row.get("claimed_by") == owner,
        "worker_log": (tmp / "worker.log").read_text(errors="replace"),
    }


def finish(app, plan_id: int, watch: Watch, args) -> dict:
    """The plan's outcome; its draft discarded unless --keep-draft."""
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        trips = db.session.scalar(select(func.count(Trip.id)).where(Trip.plan_id == plan_id))
        seats = db.session.scalar(
            select(func.count(SeatAssignment.id)).where(SeatAssignment.plan_id == plan_id)
        )
        unserved = sum(len(u.get("workers") or []) for u in plan.unassigned or [])
        facts = {
            "plan_id": plan_id,
            "status": plan.status,
            "error": plan.error,
            "attempts": plan.attempts,
            "restarts": plan.restarts,
            "created_at": plan.created_at,
            "started_at": plan.started_at,
            "finished_at": plan.finished_at,
            "planner_s": plan.seconds,
            "cost": plan.cost,
            "gap": plan.gap,
            "trips": trips,
            "seats": seats,
            "unassigned": (len(plan.unassigned or []), unserved),
        }
        db.session.commit()
        remove_season_plans(keep=plan_id if args.keep_draft else None)
    return facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120, help="the plan's seconds")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between pages")
    parser.add_argument("--queue", choices=("form", "direct"), default="form")
    parser.add_argument("--baseline", type=float, default=60, help="seconds of pages alone first")
    parser.add_argument("--tail", type=float, default=5, help="seconds of pages after the plan")
    parser.add_argument("--max-wait", type=float, default=1800, help="seconds to wait for the plan")
    parser.add_argument(
        "--crews",
        type=int,
        default=150,
        help="two-driver crews at least (a season needs ~70 a day)",
    )
    add_arguments(parser)
    parser.add_argument(
        "--stale-s", type=float, help="PLANNER_STALE_S for the worker (default: the app's, 30)"
    )
    parser.add_argument("--note", default="", help="what else ran on the machine (for RESULTS.md)")
    parser.add_argument("--keep-draft", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    url, stop = start_cluster(args.cluster)
    tmp = Path(tempfile.mkdtemp(prefix="bench-plan-queue-"))
    try:
        build(url, tmp, args.workers, max(args.clients, 1), 20)
        facts = {**prepare(make_app(url, tmp), args.crews), "load_before": os.getloadavg()[0]}
        results = measure(args, url, tmp, facts)
    finally:
        stop()
    report, met = render(args, results)
    (tmp / "timeline.log").write_text("\n".join(results["watch"].timeline) + "\n")
    print("\n".join(results["watch"].timeline))
    print(report)
    if met:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"logs: {tmp}")
    if not args.no_write:
        write_section(report)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
