"""Load test (issue 8): 50 coordinators against a real gunicorn and PostgreSQL on loopback.

    .venv/bin/python bench/load.py [--duration 300] [--clients 50] [--think 10] [--no-write]

Builds (once; reused afterwards) a PostgreSQL cluster in --cluster with a 100,000-worker
database migrated by `flask db upgrade`, one planned and published day, and 50 county
coordinators. Each run starts gunicorn (deploy/gunicorn.conf.py) and the one scheduler
process, then every coordinator logs in through the form and, with an exponential think
time between actions, searches workers (page and API), opens trip pages, moves workers to
free seats (API, with the trip's version) and swaps seats (the trip form, with CSRF).
Afterwards the database is checked: no worker seated twice, no seat taken twice, and no
lost update — every trip's version advanced once per accepted write, and replaying the
accepted writes in version order from the starting seat map gives the final seat map.
Targets: p95 ≤ 300 ms, no 5xx. The figures go to the Load section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from load_data import (  # noqa: E402
    PASSWORD,
    add_arguments,
    build,
    coordinator_trips,
    make_app,
    start_cluster,
)
from load_report import (  # noqa: E402
    Tally,
    check_lost_updates,
    check_seats,
    render,
    server_times,
    snapshot,
    summarise,
    write_section,
)

from dispatch.extensions import db  # noqa: E402
from dispatch.models import User, Worker  # noqa: E402
from dispatch.services import accounts, demo  # noqa: E402
from tests.support.gunicorn import (  # noqa: E402
    Gunicorn,
    app_env,
    flask_process,
    stop_processes,
    web_session,
)

OK = {
    "login": {302},
    "search": {200},
    "api_search": {200},
    "trip_page": {200},
    "api_trip": {200},
    "api_move": {200, 409, 422},
    "swap": {302, 409, 422},
}


# --- the coordinators ---------------------------------------------------------------------


class Clock:
    """The timed window: it opens when every coordinator has logged in."""

    def __init__(self, clients: int, duration: float) -> None:
        self.duration, self.started, self.deadline = duration, 0.0, 0.0
        self.barrier = threading.Barrier(clients, action=self.open)

    def open(self) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + self.duration


class Coordinator(threading.Thread):
    def __init__(
        self, n: int, base: str, token: str, trips: list[int], clock: Clock, think: float
    ) -> None:
        super().__init__(name=f"coord{n:02d}", daemon=True)
        self.base, self.trips, self.clock, self.think = base, trips, clock, think
        self.rng = random.Random(n)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {token}"
        self.web: requests.Session | None = None
        self.csrf = ""
        self.tally = Tally()

    def run(self) -> None:
        # Logins come before the timed window (a login is a deliberately slow scrypt check):
        # the window measures a working morning, not 50 people arriving in the same second.
        time.sleep(self.rng.uniform(0, 10))
        started = time.perf_counter()
        try:
            self.web = web_session(self.base, self.name, PASSWORD)
            self.record("login", started, 302)
        except Exception as error:  # noqa: BLE001 (a failed login is a measured failure)
            self.record("login", started, 0, error)
            self.clock.barrier.abort()
            return
        self.clock.barrier.wait()
        actions = [self.search, self.api_search, self.trip_page, self.move, self.swap]
        while time.monotonic() < self.clock.deadline:
            try:
                self.rng.choices(actions, weights=(30, 10, 25, 20, 15))[0]()
            except Exception as error:  # noqa: BLE001 (e.g. an answer that is not JSON: counted, not fatal)
                self.tally.failures[f"client {type(error).__name__}"] += 1
            time.sleep(
                min(self.rng.expovariate(1 / self.think), 5 * self.think) if self.think else 0
            )

    def call(
        self, kind: str, session: requests.Session, method: str, path: str, **kw
    ) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = session.request(
                method, self.base + path, timeout=30, allow_redirects=False, **kw
            )
        except requests.RequestException as error:
            self.record(kind, started, 0, error)
            return None
        self.record(kind, started, response.status_code)
        return response

    def record(
        self, kind: str, started: float, status: int, error: Exception | None = None
    ) -> None:
        self.tally.samples.append((kind, (time.perf_counter() - started) * 1000, status))
        if status not in OK[kind]:
            self.tally.failures[f"{kind} {status or type(error).__name__}"] += 1

    def search(self) -> None:
        q = self.rng.choice((self.rng.choice(demo.SURNAMES), f"138{self.rng.randrange(1000):03d}"))
        page = self.call("search", self.web, "GET", "/workers/", params={"q": q})
        if page is not None and 'name="csrf_token"' in page.text:
            self.csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    def api_search(self) -> None:
        self.call(
            "api_search",
            self.api,
            "GET",
            "/api/v1/workers",
            params={"q": self.rng.choice(demo.SURNAMES)},
        )

    def trip_page(self) -> None:
        self.call("trip_page", self.web, "GET", f"/trips/{self.rng.choice(self.trips)}")

    def _trip(self) -> tuple[int, dict] | None:
        trip_id = self.rng.choice(self.trips)
        answer = self.call("api_trip", self.api, "GET", f"/api/v1/trips/{trip_id}")
        return (
            (trip_id, answer.json()) if answer is not None and answer.status_code == 200 else None
        )

    def move(self) -> None:
        """A worker of my county to a free seat of the same bus (API, with the version read)."""
        found = self._trip()
        if found is None:
            return
        trip_id, trip = found
        mine = [s for s in trip["seats"] if s["worker_id"] is not None and not s["locked"]]
        free = sorted(
            set(range(1, trip["passenger_seats"] + 1)) - {s["seat_no"] for s in trip["seats"]}
        )
        if not mine or not free:
            return
        worker, seat = self.rng.choice(mine)["worker_id"], self.rng.choice(free)
        answer = self.call(
            "api_move",
            self.api,
            "PUT",
            f"/api/v1/trips/{trip_id}/seats/{seat}",
            json={"worker_id": worker, "version": trip["version"]},
        )
        self.settle(answer, 200, trip_id, trip["version"], ("move", worker, seat))

    def swap(self) -> None:
        """Two seats of a bus exchanged through the trip page's form (CSRF, version)."""
        found = self._trip()
        if found is None or not self.csrf:
            return self.search() if not self.csrf else None
        trip_id, trip = found
        mine = [
            s["seat_no"] for s in trip["seats"] if s["worker_id"] is not None and not s["locked"]
        ]
        taken = {s["seat_no"] for s in trip["seats"]}
        free = [n for n in range(1, trip["passenger_seats"] + 1) if n not in taken]
        if not mine or len(mine) + len(free) < 2:
            return None
        a = self.rng.choice(mine)
        b = self.rng.choice([n for n in mine + free if n != a])
        form = {
            "csrf_token": self.csrf,
            "seat_no": a,
            "other_seat": b,
            "version": trip["version"],
        }
        answer = self.call("swap", self.web, "POST", f"/trips/{trip_id}/seats/swap", data=form)
        return self.settle(answer, 302, trip_id, trip["version"], ("swap", a, b))

    def settle(self, answer, accepted: int, trip_id: int, version: int, change: tuple) -> None:
        if answer is None or answer.status_code >= 500:
            self.tally.in_doubt.add(trip_id)
        elif answer.status_code == accepted:
            self.tally.accepted.append((trip_id, version, change))


def run(args, url: str, tmp: Path) -> tuple[str, bool]:
    app = make_app(url, tmp)
    before = snapshot(app)
    with app.app_context():
        users = db.session.scalars(
            select(User).where(User.username.like("coord%")).order_by(User.username)
        ).all()
        tokens = {u.username: accounts.create_token(u) for u in users[: args.clients]}
        trips = coordinator_trips(before)
        facts = {
            "workers": db.session.scalar(select(func.count()).select_from(Worker)),
            "buses": len(before),
            "seated": sum(len(s) for _, s in before.values()),
            "load_before": os.getloadavg()[0],
        }
        db.session.commit()
    env = app_env(url, SMS_BACKEND="console")
    env["WEB_CONCURRENCY"] = str(args.web_workers)
    scheduler = flask_process(["scheduler", "run"], env, tmp / "scheduler.log")
    server = Gunicorn(env, tmp / "gunicorn.log", workers=args.web_workers)
    try:
        server.wait_ready()
        clock = Clock(len(tokens), args.duration)
        clients = [
            Coordinator(n, server.url, tokens[name], trips[name], clock, args.think)
            for n, name in enumerate(tokens, start=1)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join(args.duration + 300)
        if clock.barrier.broken:
            raise SystemExit("a coordinator could not log in; see " + str(server.log))
        seconds = time.monotonic() - clock.started
    finally:
        server.stop()
        stop_processes(scheduler)
    tallies = [c.tally for c in clients]
    problems = check_seats(app) + check_lost_updates(before, snapshot(app), tallies)
    summary = summarise(tallies, seconds, server_times(server.log))
    with app.app_context():
        db.engine.dispose()
    report = render(args, summary, problems, facts)
    return report, summary["5xx"] == 0 and not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of load (default 300)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--think",
        type=float,
        default=10.0,
        help="mean seconds between a coordinator's actions (people read, phone, decide)",
    )
    parser.add_argument("--plan-seconds", type=float, default=20)
    add_arguments(parser)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    url, stop = start_cluster(args.cluster)
    tmp = Path(__import__("tempfile").mkdtemp(prefix="bench-load-"))
    try:
        build(url, tmp, args.workers, args.clients, args.plan_seconds)
        report, ok = run(args, url, tmp)
    finally:
        stop()
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"gunicorn's log: {tmp / 'gunicorn.log'}")
    print(report)
    if not args.no_write:
        write_section(report)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
