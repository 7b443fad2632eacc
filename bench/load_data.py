"""The load test's database (bench/load.py, bench/plan_queue.py): a throwaway PostgreSQL cluster
built once with 100,000 workers over 33 days, the fleet, one planned and published day, and the
county coordinators."""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy import func, insert, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch import create_app  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.identity import make_id_number  # noqa: E402
from dispatch.models import Coach, County, Employer, Plan, User, Worker  # noqa: E402
from dispatch.services import accounts, demo, planning, publishing  # noqa: E402
from tests.support import pg  # noqa: E402
from tests.support.gunicorn import migrate  # noqa: E402

FIRST_DAY = date(2026, 3, 2)
DAYS = 33  # 100,000 workers over 33 days: about 3,000 a day, as a busy spring season
PLANNED_DAY = FIRST_DAY
PASSWORD = "load-test-pass"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--workers, --web-workers and --cluster: the benches on this database share them."""
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--web-workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument(
        "--cluster",
        type=Path,
        default=Path("/tmp/dispatch-load-pg"),
        help="PostgreSQL cluster directory, created once and reused",
    )


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
    migrate(url)
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


def coordinator_trips(maps: dict) -> dict[str, list[int]]:
    """coordNN → the published buses (``maps``: load_report.snapshot) carrying their counties'
    workers, or every bus if none does (their pages still open)."""
    owners = dict(
        db.session.execute(
            select(Worker.id, Worker.county_id).where(
                Worker.id.in_([w for _, seats in maps.values() for w in seats.values()])
            )
        ).all()
    )
    by_county: dict[str, set[int]] = defaultdict(set)
    for trip_id, (_, seats) in maps.items():
        for worker_id in seats.values():
            by_county[owners[worker_id]].add(trip_id)
    users = db.session.scalars(select(User).where(User.username.like("coord%")))
    return {
        u.username: sorted({t for c in u.county_ids() for t in by_county.get(c, ())})
        or sorted(maps)
        for u in users
    }
