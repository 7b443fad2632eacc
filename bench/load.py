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
import platform
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import requests
from sqlalchemy import func, insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch import create_app  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.identity import make_id_number  # noqa: E402
from dispatch.models import Coach, County, Employer, Plan, SeatAssignment, Trip, User, Worker  # noqa: E402
from dispatch.services import accounts, demo, planning, publishing  # noqa: E402
from tests.support import pg  # noqa: E402
from tests.support.gunicorn import Gunicorn, app_env, web_session  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
FIRST_DAY = date(2026, 3, 2)
DAYS = 33  # 100,000 workers over 33 days: about 3,000 a day, as a busy spring season
PLANNED_DAY = FIRST_DAY
PASSWORD = "load-test-pass"
OK = {
    "login": {302},
    "search": {200},
    "api_search": {200},
    "trip_page": {200},
    "api_trip": {200},
    "api_move": {200, 409, 422},
    "swap": {302, 409, 422},
}


# --- the database ------------------------------------------------------------------------


def start_cluster(directory: Path) -> tuple[str, callable]:
    """Start (creating once) a PostgreSQL cluster in ``directory``; its URL and a stopper."""
    data, user = (
        directory / "data",
        "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres"),
    )
    if not data.exists():
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(directory, *_postgres_ids())
        subprocess.run(
            pg._as_postgres(
                [pg._bin("initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
    port = pg._free_port()
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=100"
    ctl = [pg._bin("pg_ctl"), "-D", str(data), "-l", str(directory / "log")]
    subprocess.run(
        pg._as_postgres([*ctl, "-o", options, "-w", "start"]), check=True, capture_output=True
    )
    url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/dispatch_load"
    with __import__("psycopg").connect(
        f"postgresql://{user}@127.0.0.1:{port}/postgres", autocommit=True
    ) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'dispatch_load'").fetchone():
            c.execute("CREATE DATABASE dispatch_load")
    return url, lambda: subprocess.run(
        pg._as_postgres([*ctl, "-m", "fast", "stop"]), capture_output=True
    )


def _postgres_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


def make_app(url: str, tmp: Path):
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load", "SMS_BACKEND": "console"},
        instance_path=str(tmp),
    )


def build(url: str, tmp: Path, workers: int, clients: int, plan_seconds: float) -> None:
    """Migrate, then load workers, fleet, coordinators and a published day unless present."""
    upgrade = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "dispatch", "db", "upgrade"],
        cwd=ROOT,
        env=app_env(url),
        capture_output=True,
        text=True,
    )
    if upgrade.returncode != 0:
        raise SystemExit(upgrade.stderr)
    app = make_app(url, tmp)
    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Worker))
        if have < workers:
            started = time.monotonic()
            demo.load_demo(workers=0)
            _add_workers(workers - have, seed=have)
            _add_fleet()
            db.session.commit()
            print(
                f"added {workers - have:,} workers in {time.monotonic() - started:.0f} s",
                flush=True,
            )
        _add_coordinators(clients)
        if not db.session.scalar(select(Plan.id).filter_by(status="published")):
            _publish_day(app, plan_seconds)
        db.session.commit()
    with app.app_context():
        db.engine.dispose()


def _add_workers(count: int, seed: int) -> None:
    """Bulk insert: valid ID numbers and mobiles, counties and destinations at random."""
    rng = random.Random(seed)
    counties = db.session.scalars(select(County).order_by(County.id)).all()
    employers = db.session.scalars(select(Employer).order_by(Employer.id)).all()
    taken = set(db.session.scalars(select(Worker.id_number)))
    rows = []
    while len(rows) < count:
        county, employer = rng.choice(counties), rng.choice(employers)
        born = date(1966, 1, 1) + timedelta(days=rng.randrange(365 * 38))
        id_number = make_id_number(county.region_code, born, rng.randrange(1, 999))
        if id_number in taken:
            continue
        taken.add(id_number)
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        rows.append(
            {
                "name": demo._person_name(rng),
                "id_number": id_number,
                "phone": f"+86138{len(taken):08d}",
                "birth_date": born,
                "sex": "MF"[int(id_number[16]) % 2 == 0],
                "county_id": county.id,
                "township": f"{county.name_zh}{rng.choice('东西南北')}村",
                "pickup_site_id": county.default_pickup_id,
                "destination_site_id": employer.site_id,
                "employer_id": employer.id,
                "earliest_date": day,
                "latest_date": day + timedelta(days=rng.choice((0, 0, 1))),
            }
        )
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Worker), rows[start : start + 5000])


def _add_fleet() -> None:
    for type_id in ("c33", "c45", "c53"):  # enough coaches for a 3,000-worker day
        for n in range(40):
            plate = f"晋L·L{type_id}{n:03d}"
            if not db.session.scalar(select(Coach.id).filter_by(plate=plate)):
                db.session.add(Coach(plate=plate, coach_type_id=type_id))


def _add_coordinators(clients: int) -> None:
    """coord01…coordNN, each for one county (round robin), all with PASSWORD."""
    counties = db.session.scalars(select(County.id).order_by(County.id)).all()
    for n in range(1, clients + 1):
        name = f"coord{n:02d}"
        if not db.session.scalar(select(User.id).filter_by(username=name)):
            accounts.create_user(name, "coordinator", PASSWORD, [counties[(n - 1) % len(counties)]])
    db.session.commit()


def _publish_day(app, plan_seconds: float) -> None:
    """Plan PLANNED_DAY's open demand and publish it: seats are final, notices queued."""
    started = time.monotonic()
    # Only the workers who must leave that day: the plan stays one day, as a coordinator runs it.
    db.session.execute(
        update(Worker).where(Worker.earliest_date == PLANNED_DAY).values(latest_date=PLANNED_DAY)
    )
    plan = planning.start_plan(planning.Scope(PLANNED_DAY, PLANNED_DAY), None)
    planning.store_result(
        plan, planning.solve_plan(plan, plan_seconds), clock(8), app.config["TIMEZONE"]
    )
    db.session.flush()
    seated = publishing.publish(plan, None, None, app.config).seated
    db.session.commit()
    print(
        f"plan {plan.id}: {len(plan.trips)} buses, {seated} seated, {time.monotonic() - started:.0f} s",
        flush=True,
    )


# --- the coordinators ---------------------------------------------------------------------


@dataclass
class Tally:
    """One coordinator's measurements and accepted writes."""

    samples: list[tuple[str, float, int]] = field(
        default_factory=list
    )  # kind, ms, status (0: exception)
    accepted: list[tuple[int, int, tuple]] = field(
        default_factory=list
    )  # trip, base version, change
    in_doubt: set[int] = field(default_factory=set)  # trips with a write of unknown outcome
    failures: Counter[str] = field(default_factory=Counter)  # "kind status" unexpected


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


def server_times(log: Path) -> dict[str, list[float]]:
    """Milliseconds each request spent in a gunicorn worker (no queueing), by kind."""
    times: dict[str, list[float]] = defaultdict(list)
    for line in log.read_text(errors="replace").splitlines():
        if line.endswith("ms") and '"' in line:
            kind = next((k for pattern, k in SERVER_KINDS if pattern.search(line)), None)
            if kind:
                times[kind].append(float(line.rsplit(" ", 1)[1][:-2]))
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
    """Replace (or add) the Load section of RESULTS.md, leaving the others alone."""
    text_ = RESULTS.read_text(encoding="utf-8")
    start = text_.find("## Load")
    if start == -1:
        text_ = text_.rstrip("\n") + "\n\n" + section
    else:
        end = text_.find("\n## ", start + 1)
        text_ = text_[:start] + section + ("" if end == -1 else text_[end + 1 :])
    RESULTS.write_text(text_, encoding="utf-8")


def run(args, url: str, tmp: Path) -> tuple[str, bool]:
    app = make_app(url, tmp)
    before = snapshot(app)
    with app.app_context():
        users = db.session.scalars(
            select(User).where(User.username.like("coord%")).order_by(User.username)
        ).all()
        tokens = {u.username: accounts.create_token(u) for u in users[: args.clients]}
        county_trips = _trips_by_county(before)
        counties = {u.username: u.county_ids() for u in users}
        facts = {
            "workers": db.session.scalar(select(func.count()).select_from(Worker)),
            "buses": len(before),
            "seated": sum(len(s) for _, s in before.values()),
            "load_before": os.getloadavg()[0],
        }
        db.session.commit()
    env = app_env(url, SMS_BACKEND="console")
    env["WEB_CONCURRENCY"] = str(args.web_workers)
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "dispatch", "scheduler", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Gunicorn(env, tmp / "gunicorn.log", workers=args.web_workers)
    try:
        server.wait_ready()
        clock = Clock(len(tokens), args.duration)
        clients = [
            Coordinator(
                n,
                server.url,
                tokens[name],
                _their_trips(counties[name], county_trips, before),
                clock,
                args.think,
            )
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
        scheduler.terminate()
        scheduler.wait(20)
    tallies = [c.tally for c in clients]
    problems = check_seats(app) + check_lost_updates(before, snapshot(app), tallies)
    summary = summarise(tallies, seconds, server_times(server.log))
    with app.app_context():
        db.engine.dispose()
    report = render(args, summary, problems, facts)
    return report, summary["5xx"] == 0 and not problems


def _their_trips(counties: set[str], county_trips: dict[str, list[int]], maps: dict) -> list[int]:
    """The buses carrying the coordinator's workers (any bus if none does: pages still open)."""
    return sorted({t for c in counties for t in county_trips.get(c, [])}) or sorted(maps)


def _trips_by_county(maps) -> dict[str, list[int]]:
    owners = dict(
        db.session.execute(
            select(Worker.id, Worker.county_id).where(
                Worker.id.in_([w for _, seats in maps.values() for w in seats.values()])
            )
        ).all()
    )
    found: dict[str, set[int]] = defaultdict(set)
    for trip_id, (_, seats) in maps.items():
        for worker_id in seats.values():
            found[owners[worker_id]].add(trip_id)
    return {county: sorted(trips) for county, trips in found.items()}


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
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--web-workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--plan-seconds", type=float, default=20)
    parser.add_argument(
        "--cluster",
        type=Path,
        default=Path("/tmp/dispatch-load-pg"),
        help="PostgreSQL cluster directory, created once and reused",
    )
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
